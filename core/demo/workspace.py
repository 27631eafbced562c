"""``modelgate demo``: a workspace of real, locked ONNX bundles, a policy and a README.

Everything is made from scratch, offline and deterministically (fixed seeds, fixed
dates): the models are fit on synthetic data and measured with onnxruntime (see
:mod:`modelgate.core.demo.models`). Some versions carry the problems a reviewer is
there to catch; :data:`RELEASES` says which, and the README repeats it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from modelgate.core import BUNDLE_FORMAT
from modelgate.core.demo import cards as demo_cards
from modelgate.core.demo import models as demo_models
from modelgate.core.errors import ModelGateError
from modelgate.core.fsutil import remove_tree
from modelgate.core.bundle.lock import dump_manifest, lock_bundle
from modelgate.core.progress import Progress

BUNDLES_DIR, POLICY_FILE, README_FILE = "bundles", "policy.yaml", "README.txt"
#: Where a demo registry lives, if the caller makes one; ``force`` removes it with the rest.
REGISTRY_FILE = "registry.db"
_REGISTRY_FILES = tuple(REGISTRY_FILE + suffix for suffix in ("", "-journal", "-wal", "-shm"))
INTERNAL_DATA = "LicenseRef-ExampleCorp-Internal"


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


@dataclass(frozen=True)
class Release:
    """One version of a demo model: how it is fit and what its manifest says."""

    name: str
    version: str
    license: str
    created_at: str
    recipe: dict
    summary: str
    training: str
    datasets: tuple[tuple[str, str, str, str], ...]     # (role in Built.datasets, name, version, license)
    parent: str | None = None
    deprecation: dict | None = None
    outputs: tuple[dict, ...] | None = None               # a declared output that differs from the graph
    problem: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def _tensor(name: str, dtype: str, shape: list, description: str) -> dict:
    return {"name": name, "dtype": dtype, "shape": shape, "description": description}


def _target(name: str, device: str, artifact: str, runtime: str, opset: int, memory: int, latency: int) -> dict:
    return {"name": name, "runtime": "onnxruntime", "runtime_version": runtime, "max_opset": opset,
            "device": device, "artifact": artifact, "memory_mb": memory, "latency_p95_ms": latency}


#: What every version of a model shares. ``latency`` is the reference p95 in ms of one
#: single-item call per target, recorded as a constant so that the benchmark files are
#: the same on every build: for the CPU targets it was measured once on a 2-core x86 CPU
#: with onnxruntime (200 calls after warm-up, one thread) and rounded up; for the NPU
#: target, which cannot be measured here, it is the figure the made-up team reports.
FAMILIES = {
    "credit-risk": {
        "build": demo_models.build_credit_risk, "team": "Example Bank Credit Risk Modelling",
        "description": "Probability that a consumer loan applicant defaults within 12 months, "
                       "from 12 standardised application features.",
        "owners": [{"name": "Credit Risk Modelling", "email": "credit-ml@example.com"},
                   {"name": "Ana Kovac", "email": "ana.kovac@example.com"}],
        "tags": ["tabular", "classification", "credit", "team:risk-ml"],
        "inputs": [_tensor("features", "float32", ["batch", 12], "Standardised features from "
                           "credit-feature-pipeline, in order: " + ", ".join(demo_models.CREDIT_FEATURES))],
        "outputs": [_tensor("probabilities", "float32", ["batch", 2], "Softmax over [repaid, default]")],
        "targets": [_target("cpu-online", "cpu", "fp32", "1.20", 21, 128, 10)],
        "dependencies": [{"name": "credit-feature-pipeline", "version": "3.2.0"}],
        "observability": {"metrics": ["predicted_default_rate", "feature_drift_psi", "latency_p95_ms"],
                          "health_check": "GET /v1/models/credit-risk/health",
                          "fallback": "route the application to the manual underwriting queue"},
        "test_set": ("loan-applications-holdout", "3,000 applications"), "latency": {"cpu-online": 0.1},
    },
    "defect-detector": {
        "build": demo_models.build_defect_detector, "team": "Example Manufacturing Vision Inspection",
        "description": "Classifies 64x64 RGB crops of brushed-aluminium panels as ok, scratch, dent or stain.",
        "owners": [{"name": "Vision Inspection", "email": "vision-qa@example.com"},
                   {"name": "Jonas Berger", "email": "jonas.berger@example.com"}],
        "tags": ["vision", "classification", "quality-inspection", "team:vision"],
        "inputs": [_tensor("image", "float32", ["batch", 3, 64, 64], "RGB crop, channels first, scaled to [0, 1]")],
        "outputs": [_tensor("logits", "float32", ["batch", 4], "Class logits for: "
                            + ", ".join(demo_models.DEFECT_CLASSES))],
        "targets": [_target("line3-pc", "cpu", "fp32", "1.20", 21, 256, 30),
                    _target("line3-edge-npu", "npu", "int8", "1.18", 19, 64, 15)],
        "dependencies": [{"name": "inspection-cropper", "version": "1.4.1"}],
        "observability": {"metrics": ["defect_rate_by_class", "mean_image_brightness", "latency_p95_ms"],
                          "health_check": "GET /healthz on the line 3 inspection service",
                          "fallback": "divert every part to the manual inspection station"},
        "test_set": ("panel-crops-holdout", "400 crops, 100 per class"), "latency": {"line3-pc": 1.0, "line3-edge-npu": 3.0},
    },
    "support-embedder": {
        "build": demo_models.build_support_embedder, "team": "Example Corp Customer Support ML",
        "description": "64-dimensional unit embeddings of short English support tickets, for queue "
                       "routing and similar-ticket search.",
        "owners": [{"name": "Support ML", "email": "support-ml@example.com"},
                   {"name": "Mei Lin", "email": "mei.lin@example.com"}],
        "tags": ["nlp", "embedding", "customer-support", "team:support-ml"],
        "inputs": [_tensor("token_ids", "int64", ["batch", "seq"], "support-tokenizer ids, 0 for unknown words")],
        "outputs": [_tensor("embedding", "float32", ["batch", 64], "L2-normalised ticket embedding")],
        "targets": [_target("cpu-router", "cpu", "fp32", "1.20", 21, 256, 20),
                    _target("cpu-router-int8", "cpu", "int8", "1.20", 21, 128, 10)],
        "dependencies": [{"name": "support-tokenizer", "version": "2.3.0"}],
        "observability": {"metrics": ["routing_override_rate", "unknown_token_share", "latency_p95_ms"],
                          "health_check": "GET /v2/embed/health",
                          "fallback": "keyword rules route the ticket; similar-ticket search is hidden"},
        "test_set": ("support-tickets-holdout", "800 tickets, 100 per queue"),
        "latency": {"cpu-router": 0.1, "cpu-router-int8": 0.1},
        "metrics_note": " accuracy is routing accuracy to the nearest queue centroid (centroids from the "
                        "training tickets); precision_at_5 is the share of same-queue tickets among each "
                        "ticket's five nearest neighbours.",
    },
}


def _cr(version, created, recipe, summary, training, snapshot, **extra) -> Release:
    datasets = (("train", "loan-applications", snapshot, INTERNAL_DATA),
                ("test", "loan-applications-holdout", "2024-H2", INTERNAL_DATA))
    return Release("credit-risk", version, "Apache-2.0", created, recipe, summary, training, datasets, **extra)


def _dd(version, created, recipe, summary, training, **extra) -> Release:
    datasets = (("train", "panel-crops", recipe["data_version"], INTERNAL_DATA),
                ("test", "panel-crops-holdout", "2025-01", INTERNAL_DATA))
    return Release("defect-detector", version, "MIT", created, recipe, summary, training, datasets, **extra)


_CREDIT = dict(hidden=16, l2=1e-3)
_DEFECT = dict(steps=300, lr=0.5, l2=1e-3)
_EMBED = dict(ridge=1.0)
_SYNTHETIC = " In this demo workspace the data is synthetic, generated with a fixed seed."

RELEASES: tuple[Release, ...] = (
    _cr("1.0.0", "2025-02-11T10:15:00Z", dict(_CREDIT, rows=600, epochs=30, lr=0.01, seed=1, data_seed=101),
        "First production scorer for unsecured personal loans.",
        "Fit on 600 applications from the loan-applications 2024-06 extract, labelled with their "
        "12-month default outcome; the twelve features come from credit-feature-pipeline 3.2.", "2024-06",
        deprecation={"after": "2026-03-31", "replacement": "credit-risk@1.1.0"}),
    _cr("1.1.0", "2025-09-02T14:02:00Z", dict(_CREDIT, rows=6000, epochs=10, lr=0.005, seed=2, data_seed=202),
        "Refit on ten times more applications; better ranking and accuracy than 1.0.0.",
        "Fit on 6,000 applications from the loan-applications 2025-06 extract, labelled with their "
        "12-month default outcome; the twelve features come from credit-feature-pipeline 3.2.", "2025-06",
        parent="credit-risk@1.0.0"),
    _cr("1.2.0", "2026-02-17T09:40:00Z",
        dict(_CREDIT, rows=6000, epochs=10, lr=0.005, seed=3, data_seed=303, zero_column="inquiries_6m"),
        "Quarterly refit on the newest extract, same architecture and settings as 1.1.0.",
        "Fit on 6,000 applications from the loan-applications 2025-12 extract, labelled with their "
        "12-month default outcome; the twelve features come from credit-feature-pipeline 3.2.", "2025-12",
        parent="credit-risk@1.1.0",
        problem="accuracy and f1 regressed against 1.1.0 beyond the allowed loss: the 2025-12 extract "
                "delivered the inquiries_6m column as zeros"),
    _dd("0.9.0", "2025-01-20T08:30:00Z", dict(_DEFECT, data_seed=111, per_class=40, seed=8, dark_threshold=0.36,
                                              data_version="2024-11"),
        "Pilot model for line 3, run in shadow mode next to the human inspectors.",
        "160 labelled crops (40 per class) from the panel-crops 2024-11 collection on line 3."),
    _dd("1.0.0", "2025-06-05T16:45:00Z", dict(_DEFECT, data_seed=222, per_class=100, seed=7,
                                              dark_threshold=0.42, data_version="2025-04"),
        "First release that diverts parts on its own; more data and a more sensitive dent filter.",
        "400 labelled crops (100 per class) from the panel-crops 2025-04 collection on line 3.",
        parent="defect-detector@0.9.0"),
    _dd("1.1.0-rc.1", "2026-04-14T11:20:00Z", dict(_DEFECT, data_seed=333, per_class=100, seed=7,
                                                   dark_threshold=0.42, data_version="2026-02"),
        "Release candidate that adds a fifth class, crack, to the interface.",
        "400 labelled crops (100 per class) from the panel-crops 2026-02 collection; crack examples "
        "are still being labelled.", parent="defect-detector@1.0.0",
        outputs=(_tensor("logits", "float32", ["batch", 5], "Class logits for: ok, scratch, dent, stain, crack"),),
        problem="the manifest declares logits [batch, 5] (a new crack class) but the graph still "
                "outputs [batch, 4]"),
    Release("support-embedder", "2.0.0", "Apache-2.0", "2025-05-12T13:00:00Z",
            dict(_EMBED, corpora=((401, 60),), dim=32, idf=False, seed=11),
            "Embedder trained on the team's own labelled tickets.",
            "480 tickets (60 per queue) from the support-tickets 2025-03 export, redacted before use.",
            (("train0", "support-tickets", "2025-03", INTERNAL_DATA),
             ("test", "support-tickets-holdout", "2025-03", INTERNAL_DATA))),
    Release("support-embedder", "2.1.0", "CC-BY-NC-4.0", "2026-01-28T10:05:00Z",
            dict(_EMBED, corpora=((401, 60), (402, 400)), dim=48, idf=True, seed=12),
            "Adds the public-support-forums corpus and idf weighting; much better routing than 2.0.0.",
            "480 tickets from the support-tickets 2025-03 export plus 3,200 posts from the "
            "public-support-forums corpus (v3), which is licensed CC-BY-NC-4.0; the model inherits that "
            "license.",
            (("train0", "support-tickets", "2025-03", INTERNAL_DATA),
             ("train1", "public-support-forums", "3.0", "CC-BY-NC-4.0"),
             ("test", "support-tickets-holdout", "2025-03", INTERNAL_DATA)),
            parent="support-embedder@2.0.0",
            problem="licensed CC-BY-NC-4.0 (non-commercial), which the policy denies, because it was "
                    "trained on a non-commercial corpus"),
)

POLICY = """\
# Release policy of Example Corp, the made-up organisation of the ModelGate demo.
# Its metric floors fit the demo models: every bundle reports accuracy and
# latency_p95_ms in benchmarks/*.json. Validate with, for example:
#   modelgate validate bundles/credit-risk-1.2.0 --policy policy.yaml --stage staging \\
#       --champion bundles/credit-risk-1.1.0
policy_format: modelgate.policy/v1
name: example-corp-demo
description: >-
  Example Corp's gates: permissive licenses and internal data only, a complete
  model card, and gates that tighten from candidate to production.

licenses:
  allow: [Apache-2.0, MIT, BSD-2-Clause, BSD-3-Clause, CC0-1.0, CC-BY-4.0, LicenseRef-ExampleCorp-Internal]
  deny: [CC-BY-NC-4.0, CC-BY-NC-SA-4.0, CC-BY-NC-ND-4.0, AGPL-3.0-only, AGPL-3.0-or-later,
         GPL-3.0-only, GPL-3.0-or-later]
  unknown: warning

model_card:
  required_sections: [Intended use, Limitations, Training data, Evaluation, Ethical considerations]
  min_words_per_section: 10

stages:
  draft: {}
  candidate:
    provenance: [source.commit]
    approvals: {count: 1, roles: [reviewer]}
    regression:
      default: {max_relative: 0.05}
  staging:
    require_lock: true
    require_inference: true
    provenance: [source.commit, training_run, framework, seed, datasets]
    metrics:
      - {metric: accuracy, min: 0.8}
      - {metric: latency_p95_ms, max: 50}
    regression:
      default: {max_absolute: 0.01, max_relative: 0.02}
      metrics:
        accuracy: {max_absolute: 0.005}
    approvals: {count: 1, roles: [approver]}
  production:
    require_lock: true
    require_inference: true
    provenance: [source.commit, training_run, framework, seed, datasets]
    metrics:
      - {metric: accuracy, min: 0.85}
      - {metric: latency_p95_ms, max: 20}
    regression:
      default: {max_absolute: 0.01, max_relative: 0.01}
      metrics:
        accuracy: {max_absolute: 0.005}
    approvals: {count: 2, roles: [approver]}
    signature: {required: true, roles: [signer]}
  deprecated: {}
  archived: {}
"""

MARKER = ".modelgate-demo"

REGISTRY_STORE = "registry.store"
_OURS = (BUNDLES_DIR, POLICY_FILE, README_FILE, MARKER, REGISTRY_STORE, "keys", *_REGISTRY_FILES)


def _versions() -> dict[str, str]:
    import numpy
    import onnx
    import onnxruntime
    return {"numpy": numpy.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


def _manifest(release: Release, family: dict, built: demo_models.Built, versions: dict) -> dict:
    commit = hashlib.sha1(release.ref.encode()).hexdigest()
    datasets = [{"name": name, "version": version, "uri": f"https://data.example.com/{release.name}/{name}/{version}",
                 "sha256": built.datasets[role], "license": license}
                for role, name, version, license in release.datasets]
    hyper = dict(built.hyperparameters, exporter=f"onnx {versions['onnx']}", opset=demo_models.OPSET)
    if "int8" in built.artifacts:
        hyper["quantizer"] = f"onnxruntime {versions['onnxruntime']}"
    provenance = {"source": {"repository": f"https://git.example.com/ml/{release.name}", "commit": commit},
                  "training_run": f"https://ci.example.com/ml/{release.name}/runs/"
                                  f"{release.created_at[:10].replace('-', '')}-{commit[:8]}",
                  "framework": {"name": "numpy", "version": versions["numpy"]},
                  "seed": release.recipe["seed"], "datasets": datasets, "hyperparameters": hyper}
    if release.parent:
        provenance["parent"] = release.parent
    provenance["created_at"] = release.created_at
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
        summary=f"{family['description']} {release.summary}", training=release.training + _SYNTHETIC,
        evaluation=evaluation, results=rows)
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8", newline="\n")
    (folder / "bundle.yaml").write_text(dump_manifest(_manifest(release, family, built, versions)),
                                        encoding="utf-8", newline="\n")
    locked = lock_bundle(folder)
    if locked.remaining:
        raise DemoError(f"demo bundle {release.ref} does not validate: {locked.remaining[0].message}",
                        hint="This is a defect of the demo generator; please report it.")
    return built


def _readme(built: dict[str, demo_models.Built]) -> str:
    import textwrap
    old, new = built["credit-risk@1.1.0"].metrics["fp32"], built["credit-risk@1.2.0"].metrics["fp32"]
    text = (
        f"This ModelGate demo workspace holds {len(built)} locked bundles of three made-up models of Example Corp, "
        "all built offline from synthetic data with numpy and onnx and measured with onnxruntime, plus "
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
    return textwrap.fill(text, width=88) + "\n\n" + textwrap.fill(users, width=88) + "\n"


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
        progress.start(label="building demo bundles", total=len(RELEASES))
        built, folders = {}, []
        for release in RELEASES:
            progress.check()
            folder = staging / BUNDLES_DIR / f"{release.name}-{release.version}"
            built[release.ref] = _write_bundle(folder, release, versions)
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
                       {r.ref: r.problem for r in RELEASES if r.problem},
                       directory / REGISTRY_FILE if with_registry else None)
