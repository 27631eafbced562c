"""``modelgate demo``: a workspace of real, locked bundles, a policy and a README.

Everything is made from scratch, offline and deterministically (fixed seeds, fixed
dates): the models are fit on synthetic data and measured with onnxruntime (see
:mod:`modelgate.core.demo.models`). Some versions carry the problems a reviewer is
there to catch; :data:`RELEASES` says which, and the README repeats it. The bundles in the
other formats (safetensors, GGUF, TFLite, a PyTorch pickle) come from
:mod:`modelgate.core.demo.format_bundles`.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from modelgate.core import BUNDLE_FORMAT
from modelgate.core.demo import cards as demo_cards
from modelgate.core.demo import format_bundles
from modelgate.core.demo import models as demo_models
from modelgate.core.demo.catalogue import SYNTHETIC_NOTE, FAMILIES, POLICY, RELEASES, Release
from modelgate.core.demo.catalogue import provenance as demo_provenance
from modelgate.core.errors import ModelGateError
from modelgate.core.fsutil import remove_tree
from modelgate.core.bundle.lock import dump_manifest, lock_bundle
from modelgate.core.progress import Progress

BUNDLES_DIR, POLICY_FILE, README_FILE = "bundles", "policy.yaml", "README.txt"
#: Where a demo registry lives, if the caller makes one; ``force`` removes it with the rest.
REGISTRY_FILE = "registry.db"
_REGISTRY_FILES = tuple(REGISTRY_FILE + suffix for suffix in ("", "-journal", "-wal", "-shm"))


class DemoError(ModelGateError):
    """The demo workspace could not be written."""


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` wrote."""

    directory: Path
    bundles: tuple[Path, ...]
    policy: Path
    readme: Path
    planted: dict[str, str] = field(default_factory=dict)   # "name@version" -> what to catch
    registry: Path | None = None


MARKER = ".modelgate-demo"

REGISTRY_STORE = "registry.store"
_OURS = (BUNDLES_DIR, POLICY_FILE, README_FILE, MARKER, REGISTRY_STORE, "keys", *_REGISTRY_FILES)


def _versions() -> dict[str, str]:
    import numpy
    import onnx
    import onnxruntime
    return {"numpy": numpy.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


def _manifest(release: Release, family: dict, built: demo_models.Built, versions: dict) -> dict:
    datasets = [{"name": name, "version": version, "uri": f"https://data.example.com/{release.name}/{name}/{version}",
                 "sha256": built.datasets[role], "license": license}
                for role, name, version, license in release.datasets]
    hyper = dict(built.hyperparameters, exporter=f"onnx {versions['onnx']}", opset=demo_models.OPSET)
    if "int8" in built.artifacts:
        hyper["quantizer"] = f"onnxruntime {versions['onnxruntime']}"
    provenance = demo_provenance(release=release, numpy_version=versions["numpy"], seed=release.recipe["seed"],
                                 datasets=datasets, hyperparameters=hyper)
    data = {
        "bundle_format": BUNDLE_FORMAT, "name": release.name, "version": release.version,
        "description": f"{family['description']} {release.summary}",
        "owners": family["owners"], "tags": family["tags"], "license": release.license,
        "license_files": ["LICENSE"],
        "artifacts": [{"path": path, "format": "onnx", "variant": variant} for variant, path in built.artifacts.items()],
        "interface": {"version": "2.0" if release.outputs else "1.0", "inputs": family["inputs"],
                      "outputs": list(release.outputs or family["outputs"])},
        "targets": [t for t in family["targets"] if t["artifact"] in built.artifacts],
        "dependencies": family["dependencies"], "provenance": provenance,
        "benchmarks": ["benchmarks/quality.json", "benchmarks/latency.json"],
        "observability": family["observability"],
    }
    if release.deprecation:
        data["lifecycle"] = {"deprecation": release.deprecation}
    return json.loads(json.dumps(data))          # plain, unshared containers for the YAML dump


def _results(family: dict, built: demo_models.Built) -> tuple[list[dict], list[dict]]:
    by_variant = {}
    for target in family["targets"]:
        by_variant.setdefault(target["artifact"], target["name"])
    quality = [{"dataset": family["test_set"][0], "split": "test", "metric": metric, "value": value,
                "target": by_variant[variant], "higher_is_better": True}
               for variant, metrics in built.metrics.items() for metric, value in metrics.items()]
    latency = [{"dataset": "single-item-replay", "split": "batch-1", "metric": "latency_p95_ms", "value": value,
                "target": target, "higher_is_better": False, "unit": "ms"}
               for target, value in family["latency"].items()]
    return quality, latency


def _write_bundle(folder: Path, release: Release, versions: dict) -> demo_models.Built:
    family = FAMILIES[release.name]
    built = family["build"](folder, release.name, release.version, release.recipe)
    quality, latency = _results(family, built)
    (folder / "benchmarks").mkdir(parents=True, exist_ok=True)
    for name, results in (("quality.json", quality), ("latency.json", latency)):
        (folder / "benchmarks" / name).write_text(json.dumps({"results": results}, indent=2) + "\n",
                                                  encoding="utf-8", newline="\n")
    license_text = demo_cards.license_text(release.license, model=release.name, version=release.version,
                                           year=release.created_at[:4], holder=family["team"])
    (folder / "LICENSE").write_text(license_text, encoding="utf-8", newline="\n")
    test_set, size = family["test_set"]
    evaluation = (f"Measured by running the exported files with onnxruntime {versions['onnxruntime']} on "
                  f"the {test_set} split ({size}), which no version was trained on;"
                  + family.get("metrics_note", "") + " latency_p95_ms is the p95 of single-item calls, "
                  "recorded once on each target.")
    artifact = {t["name"]: t["artifact"] for t in family["targets"]}
    rows = [(artifact[r["target"]], r["target"], r["metric"], r["value"]) for r in quality + latency]
    card = demo_cards.model_card(
        name=release.name, version=release.version, license=release.license, tags=family["tags"],
        summary=f"{family['description']} {release.summary}", training=release.training + SYNTHETIC_NOTE,
        evaluation=evaluation, results=rows)
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8", newline="\n")
    (folder / "bundle.yaml").write_text(dump_manifest(_manifest(release, family, built, versions)),
                                        encoding="utf-8", newline="\n")
    _lock(folder, release.ref)
    return built


def _lock(folder: Path, ref: str) -> None:
    locked = lock_bundle(folder)
    if locked.remaining:
        raise DemoError(f"demo bundle {ref} does not validate: {locked.remaining[0].message}",
                        hint="This is a defect of the demo generator; please report it.")


def _readme(built: dict[str, demo_models.Built]) -> str:
    import textwrap
    old, new = built["credit-risk@1.1.0"].metrics["fp32"], built["credit-risk@1.2.0"].metrics["fp32"]
    text = (
        f"This ModelGate demo workspace holds {len(built)} locked ONNX bundles of three made-up models of "
        "Example Corp, all built offline from synthetic data with numpy and onnx and measured with onnxruntime, plus "
        "policy.yaml, the organisation's release policy. credit-risk, a loan default scorer, has 1.0.0 "
        "(past its deprecation date, replaced by 1.1.0, so it can no longer be promoted), 1.1.0 (the "
        "champion) and 1.2.0, a refit whose accuracy fell "
        f"from {old['accuracy']} to {new['accuracy']} and f1 from {old['f1']} to {new['f1']} because its "
        "training extract delivered the inquiries_6m column as zeros: a reviewer must stop it, and "
        "`modelgate validate bundles/credit-risk-1.2.0 --policy policy.yaml --stage staging --champion "
        "bundles/credit-risk-1.1.0` does. defect-detector, a surface defect classifier with fp32 and int8 "
        "artifacts, has 0.9.0 and 1.0.0, both sound, and 1.1.0-rc.1, whose manifest declares logits "
        "[batch, 5] for a new crack class while its graph still outputs [batch, 4]: a reviewer must "
        "catch the broken interface contract. support-embedder, a support ticket embedder, has 2.0.0 and "
        "2.1.0, which routes better but is licensed CC-BY-NC-4.0 because it was trained on a "
        "non-commercial corpus: a reviewer must reject it, since this policy and the default one deny "
        "non-commercial licenses. Every production version was signed by eve, the release officer, "
        "whose key pair is in keys/ (passphrase: modelgate-demo-passphrase; a real key never sits "
        "beside the bundles) and whose public key the demo registry trusts.")
    from modelgate.core.demo.registry import ADMIN, USERS

    people = "; ".join(f"{name} ({', '.join(roles)})" for name, roles in USERS.items())
    users = (f"The demo registry (registry.db) has these users: {people}; {ADMIN} is its admin. Act as one "
             "of them with --user NAME, e.g. `modelgate queue --registry sqlite:///registry.db --user chen` "
             "lists the version waiting for chen's approval.")
    return "\n\n".join(textwrap.fill(part, width=88) for part in (text, _FORMATS_README, users)) + "\n"


_FORMATS_README = (
    "Four more bundles show the other model formats ModelGate governs, each file written by its "
    "format's own library from seeded random weights (untrained, so they carry no benchmarks; the demo "
    "registry keeps the sound ones at candidate): support-assistant 1.0.0, a small LLM-style decoder "
    "saved as fp16 safetensors, and 1.1.0, the same weights quantised to q8_0 as GGUF for llama.cpp; "
    "keyword-spotter 1.0.0, a TFLite classifier for phones; and churn-predictor 0.3.0, a contractor's "
    "PyTorch checkpoint whose pickle hides a call to exec. ModelGate reads that pickle opcode by opcode "
    "and never loads it: `modelgate validate bundles/churn-predictor-0.3.0` names the unsafe import "
    "(MG223), and the registry refuses to promote it out of draft.")


def _prepare(directory: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force``; refuse to replace files a demo did not write."""
    if directory.exists() and not directory.is_dir():
        raise DemoError(f"{directory} exists and is not a folder",
                        hint="Name a new or empty folder for the demo workspace.")
    try:
        entries = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    except OSError as error:
        raise DemoError(f"cannot read {directory}: {error.strerror or error}",
                        hint="Choose a folder you can read and write.") from None
    if entries and not force:
        raise DemoError(f"{directory} is not empty",
                        hint="Choose a new or empty folder, or pass --force to replace a previous demo "
                             "there (only the demo's own files are removed).")
    clashes = [name for name in entries if name in _OURS]
    if clashes and MARKER not in entries:
        raise DemoError(f"{directory} holds {', '.join(clashes)}, which a demo would replace, "
                        "but no earlier demo was made there",
                        hint="Move those files away or choose another folder; --force only replaces "
                             "what `modelgate demo` wrote.")


def _replace(staging: Path, directory: Path) -> None:
    """Remove what an earlier demo wrote, then move the new workspace in."""
    for name in _OURS:
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for entry in sorted(staging.iterdir()):
        entry.rename(directory / entry.name)


def build_demo(*, directory: Path, force: bool = False, progress: Progress | None = None,
               with_registry: bool = True) -> DemoSummary:
    """Write the demo workspace into ``directory``: bundles/, policy.yaml, README.txt and a
    registry (registry.db with its store) holding the bundles in lived-in states.

    A non-empty ``directory`` is refused unless ``force``; then only what an earlier
    demo wrote there is replaced. Everything is built in a hidden folder first, so a
    failure or a cancellation leaves ``directory`` as it was.
    """
    directory = Path(directory)
    _prepare(directory, force)
    progress = progress or Progress()
    created, succeeded = not directory.exists(), False
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".modelgate-demo-build-", dir=directory))
    except OSError as error:
        raise DemoError(f"cannot create the demo workspace {directory}: {error.strerror or error}",
                        hint="Choose a folder you can write to.") from None
    try:
        versions = _versions()
        progress.start(label="building demo bundles", total=len(RELEASES) + len(format_bundles.RELEASES))
        built, folders = {}, []
        for release in RELEASES:
            progress.check()
            folder = staging / BUNDLES_DIR / f"{release.name}-{release.version}"
            built[release.ref] = _write_bundle(folder, release, versions)
            folders.append(directory / BUNDLES_DIR / folder.name)
            progress.advance(1)
        for other in format_bundles.RELEASES:
            progress.check()
            folder = staging / BUNDLES_DIR / f"{other.name}-{other.version}"
            format_bundles.write_bundle(folder, other, numpy_version=versions["numpy"])
            _lock(folder, other.ref)
            folders.append(directory / BUNDLES_DIR / folder.name)
            progress.advance(1)
        (staging / POLICY_FILE).write_text(POLICY, encoding="utf-8", newline="\n")
        (staging / README_FILE).write_text(_readme(built), encoding="utf-8", newline="\n")
        if with_registry:
            from modelgate.core.demo.registry import build_demo_registry

            build_demo_registry(directory=staging, policy_path=staging / POLICY_FILE, progress=progress,
                                bundles=[staging / BUNDLES_DIR / f.name for f in folders])
        (staging / MARKER).write_text("written by `modelgate demo`; `modelgate demo --force` replaces "
                                      "bundles/, policy.yaml, README.txt and the demo registry\n",
                                      encoding="utf-8", newline="\n")
        _replace(staging, directory)
        succeeded = True
    except OSError as error:
        raise DemoError(f"cannot write the demo workspace {directory}: {error.strerror or error}",
                        hint="Check the free space and the folder's permissions.") from None
    finally:
        demo_models.clear_caches()
        remove_tree(staging, ignore_errors=True)
        if created and not succeeded:  # leave no empty folder behind a failed first build
            remove_tree(directory, ignore_errors=True)
    return DemoSummary(directory, tuple(folders), directory / POLICY_FILE, directory / README_FILE,
                       {r.ref: r.problem for r in (*RELEASES, *format_bundles.RELEASES) if r.problem},
                       directory / REGISTRY_FILE if with_registry else None)
