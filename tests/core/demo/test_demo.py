"""`modelgate demo`: real, valid, deterministic bundles with exactly the planted problems."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from modelgate.core.demo import workspace as demo
from modelgate.core.demo import cards as demo_cards
from modelgate.core.bundle.reader import open_bundle
from modelgate.core.errors import ModelGateError, OperationCancelled
from modelgate.core.bundle.integrity import LockState, check_integrity
from modelgate.core.policy.document import load_policy
from modelgate.core.progress import Progress
from modelgate.core.bundle.schema import validate

# The module builds a demo workspace of its own (ten seconds or more) to watch every step of it.
pytestmark = pytest.mark.slow

EXPECTED = {
    "credit-risk": ["1.0.0", "1.1.0", "1.2.0"],
    "defect-detector": ["0.9.0", "1.0.0", "1.1.0-rc.1"],
    "support-embedder": ["2.0.0", "2.1.0"],
}
#: The bundles in the other formats: bundle folder -> (format, variant).
FORMATS = {
    "support-assistant-1.0.0": ("safetensors", "fp16"),
    "support-assistant-1.1.0": ("gguf", "q8_0"),
    "keyword-spotter-1.0.0": ("tflite", "fp32"),
    "churn-predictor-0.3.0": ("pytorch", "fp32"),
}
ALL_VERSIONS = {**EXPECTED, "support-assistant": ["1.0.0", "1.1.0"], "keyword-spotter": ["1.0.0"],
                "churn-predictor": ["0.3.0"]}
DTYPES = {"float32": "float32", "int64": "int64"}
SYMBOLS = {"batch": 2, "seq": 16}


def _manifest(manifests, name, version):
    return manifests[f"{name}-{version}"].data


def _results(folder: Path) -> list[dict]:
    return [r for path in sorted((folder / "benchmarks").glob("*.json"))
            for r in json.loads(path.read_text(encoding="utf-8"))["results"]]


def _value(folder: Path, metric: str, target: str) -> float:
    return next(r["value"] for r in _results(folder) if r["metric"] == metric and r["target"] == target)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file's bytes, but the registry's (its events carry the time they happened) and the
    release officer's key pair (a new one each time: a key is never reproducible)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.relative_to(root).as_posix().startswith(("registry.", "keys/"))}


def test_summary_lists_every_bundle_and_file(built):
    summary, reports, _seconds = built
    names = sorted(p.name for p in summary.bundles)
    assert names == sorted(f"{n}-{v}" for n, versions in ALL_VERSIONS.items() for v in versions)
    assert all((p / "bundle.yaml").is_file() for p in summary.bundles)
    assert summary.policy == summary.directory / "policy.yaml" and summary.policy.is_file()
    assert summary.readme.is_file()
    assert set(summary.planted) == {"credit-risk@1.2.0", "defect-detector@1.1.0-rc.1", "support-embedder@2.1.0",
                                    "churn-predictor@0.3.0"}
    bundle_steps = [r for r in reports if r[0] == "building demo bundles"]
    assert bundle_steps[-1][1:] == (len(summary.bundles), len(summary.bundles))   # one step per bundle
    assert reports[-1][1] == reports[-1][2]                                        # then the registry
    assert not [p for p in summary.directory.iterdir() if p.name.startswith(".modelgate-demo-build")]


def test_every_manifest_is_valid_and_locked(built, manifests):
    for folder in built[0].bundles:
        result = manifests[folder.name]
        assert result.valid, (folder.name, [f.message for f in result.findings])
        with open_bundle(folder) as bundle:
            assert check_integrity(bundle, result.typed).state is LockState.LOCKED, folder.name
        assert folder.name == f"{result.data['name']}-{result.data['version']}"


def test_every_version_has_fp32_and_the_image_and_text_models_int8(manifests):
    for key, result in manifests.items():
        if key in FORMATS:
            continue
        variants = {a["variant"] for a in result.data["artifacts"]}
        assert "fp32" in variants
        if not key.startswith("credit-risk"):
            assert variants == {"fp32", "int8"}
            assert {t["artifact"] for t in result.data["targets"]} == {"fp32", "int8"}
        for target in result.data["targets"]:
            assert target["memory_mb"] > 0 and target["latency_p95_ms"] > 0


def test_every_onnx_file_passes_the_full_checker_and_runs(built, manifests):
    import numpy as np
    import onnx
    import onnxruntime as ort
    rng = np.random.default_rng(0)
    for folder in built[0].bundles:
        data = manifests[folder.name].data
        for artifact in (a for a in data["artifacts"] if a["format"] == "onnx"):
            path = folder / artifact["path"]
            onnx.checker.check_model(str(path), full_check=True)
            model = onnx.load(str(path))
            assert model.ir_version <= 10 and all(17 <= o.version <= 21 for o in model.opset_import
                                                 if o.domain in ("", "ai.onnx"))
            feeds = {}
            for tensor in data["interface"]["inputs"]:
                shape = [SYMBOLS.get(d, d) for d in tensor["shape"]]
                if tensor["dtype"] == "int64":
                    feeds[tensor["name"]] = rng.integers(0, 3000, size=shape).astype(np.int64)
                else:
                    feeds[tensor["name"]] = rng.random(shape).astype(DTYPES[tensor["dtype"]])
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            outputs = session.run(None, feeds)
            declared = data["interface"]["outputs"][0]
            assert outputs[0].dtype == np.dtype(declared["dtype"])
            assert np.isfinite(outputs[0]).all()
            expected = [SYMBOLS.get(d, d) for d in declared["shape"]]
            if folder.name == "defect-detector-1.1.0-rc.1":
                assert list(outputs[0].shape) != expected            # the planted contract break
            else:
                assert list(outputs[0].shape) == expected, (folder.name, artifact["path"])


def _p95_ms(path: Path, feeds: dict, runs: int = 200) -> float:
    import numpy as np

    from modelgate.core.demo.models import session
    runner = session(path)
    times = []
    for index in range(runs + 10):
        start = time.perf_counter()
        runner.run(None, feeds)
        if index >= 10:
            times.append((time.perf_counter() - start) * 1000.0)
    return float(np.percentile(times, 95))


def test_measured_latency_stays_within_the_declared_cpu_budgets(built, manifests):
    """The recorded latencies are constants; a live measurement must fit the targets' budgets."""
    import numpy as np
    feeds = {"credit-risk": {"features": np.zeros((1, 12), np.float32)},
             "defect-detector": {"image": np.full((1, 3, 64, 64), 0.5, np.float32)},
             "support-embedder": {"token_ids": np.arange(16, dtype=np.int64)[None]}}
    for name, versions in EXPECTED.items():
        folder = built[0].directory / "bundles" / f"{name}-{versions[-1]}"
        data = manifests[folder.name].data
        for target in (t for t in data["targets"] if t["device"] == "cpu"):
            path = folder / next(a["path"] for a in data["artifacts"] if a["variant"] == target["artifact"])
            assert _p95_ms(path, feeds[name]) < target["latency_p95_ms"], (folder.name, target["name"])


def test_benchmark_files_validate_and_cover_the_policy_metrics(built, manifests):
    for folder in built[0].bundles:
        listed = manifests[folder.name].data.get("benchmarks", [])
        assert sorted(listed) == sorted(f"benchmarks/{p.name}" for p in (folder / "benchmarks").glob("*.json"))
        for name in listed:
            document = json.loads((folder / name).read_text(encoding="utf-8"))
            assert validate(document, schema_name="benchmark.schema.json", rule="MG601", file=name) == []
        if folder.name in FORMATS:        # untrained: nothing measured, and the card says so
            assert listed == [] and "Not evaluated yet" in (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
            continue
        metrics = {r["metric"] for r in _results(folder)}
        assert {"accuracy", "latency_p95_ms"} <= metrics, folder.name
        targets = {t["name"] for t in manifests[folder.name].data["targets"]}
        assert {r["target"] for r in _results(folder)} == targets


def test_policy_is_valid_and_the_sound_bundles_meet_its_floors(built):
    summary = built[0]
    policy = load_policy(summary.policy)
    assert "CC-BY-NC-4.0" in policy.licenses["deny"]
    for stage in ("staging", "production"):
        for gate in policy.stage(stage)["metrics"]:
            for folder in summary.bundles:
                if folder.name == "credit-risk-1.0.0" and stage == "production":
                    continue                                   # deprecated; never promoted again
                for result in (r for r in _results(folder) if r["metric"] == gate["metric"]):
                    assert gate.get("min", float("-inf")) <= result["value"] <= gate.get("max", float("inf")), \
                        (stage, folder.name, result)


def test_model_cards_have_front_matter_and_every_required_section(built, manifests):
    policy = load_policy(built[0].policy)
    required = policy.model_card["required_sections"]
    for folder in built[0].bundles:
        text = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        front = yaml.safe_load(front)
        data = manifests[folder.name].data
        assert (front["model_name"], front["version"], front["license"]) == \
            (data["name"], data["version"], data["license"])
        sections = {part.split("\n", 1)[0].strip(): part.split("\n", 1)[1] for part in body.split("\n## ")[1:]}
        for title in required:
            assert len(sections[title].split()) >= policy.model_card["min_words_per_section"], (folder.name, title)


def test_license_files_hold_the_real_texts(built, manifests):
    for folder in built[0].bundles:
        spdx = manifests[folder.name].data["license"]
        text = (folder / "LICENSE").read_text(encoding="utf-8")
        if spdx == "Apache-2.0":
            assert hashlib.sha256(text.encode()).hexdigest() == demo_cards.APACHE_2_0_SHA256
        elif spdx == "MIT":
            assert text.startswith("MIT License\n\nCopyright (c) 20")
            assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text
        else:
            assert spdx == "CC-BY-NC-4.0" and "creativecommons.org/licenses/by-nc/4.0/legalcode" in text


def test_provenance_is_complete_and_lineage_is_consistent(manifests):
    for key, result in manifests.items():
        provenance = result.data["provenance"]
        assert len(provenance["source"]["commit"]) == 40
        assert provenance["framework"]["name"] == "numpy" and isinstance(provenance["seed"], int)
        assert all(len(d["sha256"]) == 64 and d["license"] for d in provenance["datasets"])
        parent = provenance.get("parent")
        if parent:
            name, version = parent.split("@")
            assert name == result.data["name"] and version in ALL_VERSIONS[name]
    deprecated = [k for k, r in manifests.items() if "lifecycle" in r.data]
    assert deprecated == ["credit-risk-1.0.0"]


def test_planted_non_commercial_license(built, manifests):
    policy = load_policy(built[0].policy)
    default = load_policy(None)
    bad = _manifest(manifests, "support-embedder", "2.1.0")
    assert bad["license"] == "CC-BY-NC-4.0"
    assert bad["license"] in policy.licenses["deny"] and bad["license"] in default.licenses["deny"]
    assert "CC-BY-NC-4.0" in {d["license"] for d in bad["provenance"]["datasets"]}
    for key, result in manifests.items():
        if key != "support-embedder-2.1.0":
            assert result.data["license"] in policy.licenses["allow"], key


def test_planted_regression_exceeds_the_staging_limit(built):
    bundles = {p.name: p for p in built[0].bundles}
    policy = load_policy(built[0].policy)
    limit = policy.stage("staging")["regression"]["metrics"]["accuracy"]["max_absolute"]
    floor = next(g["min"] for g in policy.stage("staging")["metrics"] if g["metric"] == "accuracy")
    old, champion, challenger = (_value(bundles[f"credit-risk-{v}"], "accuracy", "cpu-online")
                                 for v in EXPECTED["credit-risk"])
    assert champion > old
    assert champion - challenger > limit and challenger >= floor     # only the regression gate stops it


def test_planted_interface_mismatch(built, manifests):
    import onnx
    for version in EXPECTED["defect-detector"]:
        data = _manifest(manifests, "defect-detector", version)
        declared = data["interface"]["outputs"][0]["shape"]
        graph = onnx.load(str(built[0].directory / "bundles" / f"defect-detector-{version}" / "model"
                              / "defect-detector.onnx")).graph.output[0]
        dims = [d.dim_param or d.dim_value for d in graph.type.tensor_type.shape.dim]
        assert (dims != declared) == (version == "1.1.0-rc.1"), (version, dims, declared)


def test_the_validator_catches_exactly_the_planted_problems(built):
    from modelgate.core.checks.engine import validate_bundle
    from modelgate.core.checks.request import ValidationRequest
    summary = built[0]
    policy = load_policy(summary.policy)
    champions = {"credit-risk-1.2.0": "credit-risk-1.1.0", "credit-risk-1.1.0": "credit-risk-1.0.0",
                 "defect-detector-1.0.0": "defect-detector-0.9.0",
                 "defect-detector-1.1.0-rc.1": "defect-detector-1.0.0",
                 "support-embedder-2.1.0": "support-embedder-2.0.0"}
    # The untrained format bundles are judged at candidate, where the demo keeps them: only the
    # missing benchmarks warn (MG602), and the poisoned pickle is refused (MG223).
    expected = {"credit-risk-1.0.0": {"MG902"}, "credit-risk-1.2.0": {"MG608"},
                "defect-detector-1.1.0-rc.1": {"MG210"}, "support-embedder-2.1.0": {"MG402"},
                **{name: {"MG602"} for name in FORMATS}, "churn-predictor-0.3.0": {"MG223", "MG225", "MG602"}}
    folder = summary.directory / "bundles"
    for bundle_dir in summary.bundles:
        champion = champions.get(bundle_dir.name)
        stage = "candidate" if bundle_dir.name in FORMATS else "staging"
        with open_bundle(bundle_dir) as bundle:
            with (open_bundle(folder / champion) if champion else _nothing()) as other:
                report = validate_bundle(request=ValidationRequest(bundle=bundle, policy=policy, stage=stage,
                                                                   champion=other))
        problems = {f.rule for f in report.findings if f.severity.value != "info"}
        assert problems == expected.get(bundle_dir.name, set()), (bundle_dir.name, report.findings)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


def test_readme_names_each_planted_problem(built):
    text = " ".join(built[0].readme.read_text(encoding="utf-8").split())
    for needle in ("credit-risk", "1.2.0", "accuracy", "1.1.0-rc.1", "[batch, 5]", "CC-BY-NC-4.0", "2.1.0"):
        assert needle in text
    assert text.count("\n") == 0                                            # one paragraph


@pytest.mark.slow
def test_rebuild_with_force_is_identical_and_keeps_foreign_files(built, tmp_path):
    summary = built[0]
    copy = tmp_path / "again"
    shutil.copytree(summary.directory, copy)
    (copy / "notes.txt").write_text("mine", encoding="utf-8")
    (copy / "policy.yaml").write_text("edited", encoding="utf-8")
    (copy / "bundles" / "credit-risk-1.0.0" / "stray.bin").write_bytes(b"x")
    (copy / demo.REGISTRY_FILE).write_bytes(b"registry")
    demo.build_demo(directory=copy, force=True)
    assert (copy / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (copy / demo.REGISTRY_FILE).read_bytes() != b"registry"      # a new registry replaced it
    again = _tree(copy)
    del again["notes.txt"]
    assert again == _tree(summary.directory)                 # byte for byte: deterministic


def test_refuses_a_non_empty_folder_without_force(tmp_path):
    (tmp_path / "keep.txt").write_text("data", encoding="utf-8")
    with pytest.raises(demo.DemoError) as caught:
        demo.build_demo(directory=tmp_path)
    assert isinstance(caught.value, ModelGateError) and caught.value.hint and "--force" in caught.value.hint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_force_does_not_replace_files_no_demo_wrote(tmp_path):
    (tmp_path / "policy.yaml").write_text("ours", encoding="utf-8")
    with pytest.raises(demo.DemoError, match="policy.yaml"):
        demo.build_demo(directory=tmp_path, force=True)
    assert (tmp_path / "policy.yaml").read_text(encoding="utf-8") == "ours"


def test_refuses_a_file_as_the_folder(tmp_path):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(demo.DemoError, match="not a folder"):
        demo.build_demo(directory=target, force=True)


def test_cancelling_leaves_the_folder_empty(tmp_path):
    progress = Progress()
    progress.cancel()
    with pytest.raises(OperationCancelled):
        demo.build_demo(directory=tmp_path / "ws", progress=progress)
    assert not (tmp_path / "ws").exists()          # the folder it created is gone again


def test_importing_the_demo_module_loads_no_onnx():
    code = ("import sys, modelgate.core.demo.workspace\n"
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_the_demo_registry_trusts_the_release_officer_and_her_signatures_verify(built):
    from modelgate.core.registry import open_registry
    from modelgate.core.registry.signatures import trust_store
    from modelgate.core.signing.keys import load_private_key

    directory = built[0].directory
    load_private_key(directory / "keys" / "eve.key", passphrase=b"modelgate-demo-passphrase")
    registry = open_registry(url=f"sqlite:///{directory / demo.REGISTRY_FILE}", user="eve")
    try:
        assert [k.name for k in trust_store(registry).keys] == ["eve"]
        production = registry.list_versions(stage="production")
        assert production and all(v.signatures == 1 for v in production)
    finally:
        registry.close()
