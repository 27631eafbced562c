"""The ONNX models of the demo workspace: their families, their releases and the policy.

A family says what every version of a model shares (interface, targets, owners); a
release says how one version is fit and what, if anything, a reviewer must catch in
it. :mod:`modelgate.core.demo.workspace` writes them as bundles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from modelgate.core.demo import models as demo_models

INTERNAL_DATA = "LicenseRef-ExampleCorp-Internal"

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
SYNTHETIC_NOTE = " In this demo workspace the data is synthetic, generated with a fixed seed."

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


def provenance(*, release, numpy_version: str, seed: int, datasets: list, hyperparameters: dict) -> dict:
    """The ``provenance`` section of a demo release's bundle.yaml: a made-up but consistent source
    commit and training run derived from the release, the writer library, seed, data and settings."""
    commit = hashlib.sha1(release.ref.encode()).hexdigest()
    section = {"source": {"repository": f"https://git.example.com/ml/{release.name}", "commit": commit},
               "training_run": f"https://ci.example.com/ml/{release.name}/runs/"
                               f"{release.created_at[:10].replace('-', '')}-{commit[:8]}",
               "framework": {"name": "numpy", "version": numpy_version}, "seed": seed,
               "datasets": datasets, "hyperparameters": hyperparameters}
    if release.parent:
        section["parent"] = release.parent
    section["created_at"] = release.created_at
    return section
