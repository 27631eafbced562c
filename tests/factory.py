"""Builders of real test bundles: a clean one that passes every check, to be broken on purpose."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from modelgate.core.bundle.lock import dump_manifest, lock_bundle

CARD = """---
model_name: {name}
version: {version}
license: {license}
---
# {name}

## Intended use
Scores loan applications for the credit team's manual review queue; it is not meant to decide alone.

## Limitations
Trained on applicants from one country; accuracy drops for thin credit files and for applicants under 21.

## Training data
Anonymised applications from 2019 to 2023 with repayment outcomes, described in the datasets section of the manifest.

## Evaluation
Accuracy and F1 on a held-out 2024 test split, stratified by region, reported in benchmarks/results.json.

## Ethical considerations
Protected attributes are excluded and disparate impact is audited each quarter by the fairness review board.
"""

APACHE_NOTE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n"


def tiny_model(path: Path, *, inputs: int = 4, outputs: int = 2, opset: int = 17, seed: int = 0) -> None:
    """Write a small real ONNX classifier: features[batch, N] -> probabilities[batch, M]."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((inputs, outputs)).astype("float32"), "W")
    bias = numpy_helper.from_array(rng.standard_normal(outputs).astype("float32"), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "W"], ["logits0"]),
         helper.make_node("Add", ["logits0", "B"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)],
        "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", inputs])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", outputs])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="modelgate-tests")
    model.ir_version = 9
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def clean_manifest(name: str = "tiny-classifier", version: str = "1.0.0") -> dict:
    """A manifest that meets the default policy up to production (before locking)."""
    return {
        "bundle_format": "modelgate.bundle/v1",
        "name": name,
        "version": version,
        "description": "A tiny classifier used by the test-suite.",
        "owners": [{"name": "Ada Reviewer", "email": "ada@example.com"}],
        "tags": ["tabular", "test"],
        "license": "Apache-2.0",
        "license_files": ["LICENSE"],
        "artifacts": [{"path": "model/model.onnx", "format": "onnx", "variant": "fp32"}],
        "interface": {
            "version": "1",
            "inputs": [{"name": "features", "dtype": "float32", "shape": ["batch", 4]}],
            "outputs": [{"name": "probabilities", "dtype": "float32", "shape": ["batch", 2]}],
        },
        "targets": [{"name": "cpu-default", "runtime": "onnxruntime", "runtime_version": "1.18",
                     "max_opset": 21, "device": "cpu", "artifact": "fp32", "memory_mb": 256,
                     "latency_p95_ms": 20}],
        "provenance": {
            "source": {"repository": "https://git.example.com/ml/tiny",
                       "commit": "3f2a9c1d5e7b8a6f4c3d2e1f0a9b8c7d6e5f4a3b"},
            "training_run": "run-2026-11-01-001",
            "framework": {"name": "numpy", "version": "2.1"},
            "seed": 1234,
            "datasets": [{"name": "loans", "version": "2024.1", "uri": "s3://data/loans/2024.1",
                          "sha256": "a" * 64, "license": "CC-BY-4.0"}],
            "hyperparameters": {"learning_rate": 0.01, "epochs": 10},
            "created_at": "2026-11-01",
        },
        "benchmarks": ["benchmarks/results.json"],
        "observability": {"metrics": ["prediction_latency_ms"], "health_check": "/healthz",
                          "fallback": "rules-engine"},
    }


def clean_results() -> dict:
    return {"results": [
        {"dataset": "loans", "split": "test", "metric": "accuracy", "value": 0.91},
        {"dataset": "loans", "split": "test", "metric": "f1", "value": 0.88},
        {"dataset": "loans", "split": "test", "metric": "latency_p95_ms", "value": 4.2,
         "target": "cpu-default", "higher_is_better": False, "unit": "ms"},
    ]}


def make_bundle(root: Path, *, manifest: dict | None = None, card: str | None = None,
                results: dict | None = None, lock: bool = True, model=tiny_model) -> Path:
    """Write a complete bundle folder at ``root`` and (by default) lock it.

    Pass a modified ``manifest``/``card``/``results`` to break one thing; edit files
    after the call to break the lock.
    """
    data = manifest if manifest is not None else clean_manifest()
    root.mkdir(parents=True, exist_ok=True)
    if model is not None:
        model(root / "model" / "model.onnx")
    (root / "LICENSE").write_text(APACHE_NOTE, encoding="utf-8")
    text = card if card is not None else CARD.format(
        name=data.get("name"), version=data.get("version"), license=data.get("license"))
    (root / "MODEL_CARD.md").write_text(text, encoding="utf-8")
    (root / "benchmarks").mkdir(exist_ok=True)
    (root / "benchmarks" / "results.json").write_text(
        json.dumps(results if results is not None else clean_results(), indent=2), encoding="utf-8")
    (root / "bundle.yaml").write_text(dump_manifest(data), encoding="utf-8")
    if lock:
        lock_bundle(root)
    return root


def edit_manifest(root: Path, change) -> None:
    """Apply ``change(data)`` to bundle.yaml in place (no re-lock)."""
    path = root / "bundle.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(dump_manifest(data), encoding="utf-8")


def validate(root: Path, *, stage: str = "production", policy=None, champion: Path | None = None,
             trust=None):
    """Run the validation engine on a bundle folder and return the report."""
    from modelgate.core.policy.document import load_policy
    from modelgate.core.checks.engine import validate_folder

    policy = policy if policy is not None and not isinstance(policy, (str, Path)) else load_policy(policy)
    return validate_folder(path=root, policy=policy, stage=stage, champion=champion, trust=trust)


PASSPHRASE = b"correct horse battery"


def signing_key(folder: Path, name: str = "release-officer") -> Path:
    """A new key pair ``NAME.key``/``NAME.pub`` in ``folder`` (passphrase :data:`PASSPHRASE`)."""
    from modelgate.core.signing.keys import generate_key_pair

    return generate_key_pair(name=name, out_dir=folder, passphrase=PASSPHRASE).private_path


def sign(root: Path, key: Path, signer: str | None = None):
    """Sign the bundle folder ``root`` with ``key``; return the :class:`SignResult`."""
    from modelgate.core.signing.sign import sign_bundle

    return sign_bundle(path=root, key=key, passphrase=PASSPHRASE, signer=signer or key.stem)


def trust_of(*keys: Path):
    """A trust store of the public keys beside ``keys``."""
    from modelgate.core.signing.trust import load_trust_store

    return load_trust_store([key.with_suffix(".pub") for key in keys])


def policy_file(folder: Path, change) -> Path:
    """Write the default policy with ``change(data)`` applied into ``folder``; return its path."""
    from modelgate.core import resources
    data = yaml.safe_load(resources.text("default-policy.yaml"))
    change(data)
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def findings(report, rule_id: str) -> list:
    """The findings of one rule in a report."""
    return [f for f in report.findings if f.rule == rule_id]


def rules_of(report, severity: str | None = None) -> set[str]:
    """The rule ids in a report, optionally only those of one severity."""
    return {f.rule for f in report.findings if severity is None or f.severity.value == severity}
