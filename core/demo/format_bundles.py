"""The demo's bundles in formats other than ONNX: an LLM-style safetensors checkpoint, its
q8_0 GGUF export, a TFLite mobile classifier and a PyTorch checkpoint hiding code.

These models are not trained (their weights come from fixed seeds) and carry no benchmark
results: they show how each format is read, checked and shown, so the demo registry keeps
them at candidate, where the policy asks for no metrics, and the poisoned checkpoint at
draft, where the gate refuses it (MG223).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from modelgate.core import BUNDLE_FORMAT
from modelgate.core.demo import cards as demo_cards
from modelgate.core.demo import format_models, torch_zip
from modelgate.core.demo.catalogue import SYNTHETIC_NOTE
from modelgate.core.demo.catalogue import provenance as demo_provenance


@dataclass(frozen=True)
class FormatRelease:
    """One demo version whose one artifact is a safetensors, GGUF, TFLite or PyTorch file."""

    name: str
    version: str
    license: str
    created_at: str
    format: str
    variant: str
    file: str                       # under model/
    target: dict
    summary: str
    seed: int
    parent: str | None = None
    problem: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def _port(name: str, dtype: str, shape: list, description: str) -> dict:
    return {"name": name, "dtype": dtype, "shape": shape, "description": description}


#: What every version of a family shares: team, owners, tags, interface, dependencies.
FAMILIES = {
    "support-assistant": {
        "team": "Example Corp Customer Support ML", "tags": ["nlp", "llm", "text-generation", "team:support-ml"],
        "description": "A small decoder-only language model that drafts replies to support tickets.",
        "owners": [{"name": "Support ML", "email": "support-ml@example.com"},
                   {"name": "Mei Lin", "email": "mei.lin@example.com"}],
        "inputs": [_port("input_ids", "int64", ["batch", "seq"], "Token ids of the prompt, at most 256")],
        "outputs": [_port("logits", "float32", ["batch", "seq", format_models.LLM["vocab"]],
                          "Next-token logits over the 64-token vocabulary")],
        "dependencies": [{"name": "support-tokenizer", "version": "3.0.0"}],
    },
    "keyword-spotter": {
        "team": "Example Manufacturing Field Apps", "tags": ["audio", "keyword-spotting", "mobile", "team:field-apps"],
        "description": "Recognises four spoken commands on field technicians' phones.",
        "owners": [{"name": "Field Apps", "email": "field-apps@example.com"},
                   {"name": "Jonas Berger", "email": "jonas.berger@example.com"}],
        "inputs": [_port("features", "float32", ["batch", format_models.FEATURES], "40 log-mel audio features")],
        "outputs": [_port("probabilities", "float32", ["batch", len(format_models.KEYWORDS)],
                          "Softmax over: " + ", ".join(format_models.KEYWORDS))],
        "dependencies": [{"name": "mel-frontend", "version": "1.2.0"}],
    },
    "churn-predictor": {
        "team": "Example Corp Retention Analytics", "tags": ["tabular", "classification", "churn", "team:retention"],
        "description": "Probability that a subscription customer cancels within 90 days.",
        "owners": [{"name": "Retention Analytics", "email": "retention@example.com"},
                   {"name": "Ana Kovac", "email": "ana.kovac@example.com"}],
        "inputs": [_port("features", "float32", ["batch", 12], "Standardised account features")],
        "outputs": [_port("probabilities", "float32", ["batch", 2], "Softmax over [stays, cancels]")],
        "dependencies": [],
    },
}

_CHURN_SHAPES = {"encoder.weight": (16, 12), "encoder.bias": (16,), "head.weight": (2, 16), "head.bias": (2,)}

RELEASES: tuple[FormatRelease, ...] = (
    FormatRelease("support-assistant", "1.0.0", "Apache-2.0", "2026-05-04T09:00:00Z", "safetensors", "fp16",
                  "support-assistant.safetensors",
                  {"name": "gpu-server", "runtime": "transformers", "runtime_version": "4.57", "device": "gpu",
                   "artifact": "fp16", "memory_mb": 64},
                  "First checkpoint, saved as fp16 safetensors for the GPU server.", seed=41),
    FormatRelease("support-assistant", "1.1.0", "Apache-2.0", "2026-06-15T09:00:00Z", "gguf", "q8_0",
                  "support-assistant-q8_0.gguf",
                  {"name": "agent-laptop", "runtime": "llama.cpp", "runtime_version": "0.3", "device": "cpu",
                   "artifact": "q8_0", "memory_mb": 32},
                  "The 1.0.0 weights quantised to q8_0 as GGUF, to run on agents' laptops with llama.cpp.",
                  seed=41, parent="support-assistant@1.0.0"),
    FormatRelease("keyword-spotter", "1.0.0", "MIT", "2026-04-20T14:30:00Z", "tflite", "fp32",
                  "keyword-spotter.tflite",
                  {"name": "android-phone", "runtime": "tflite", "runtime_version": "2.18", "device": "cpu",
                   "artifact": "fp32", "memory_mb": 8},
                  "First on-device release for the inspection checklist app.", seed=52),
    FormatRelease("churn-predictor", "0.3.0", "Apache-2.0", "2026-07-01T08:15:00Z", "pytorch", "fp32",
                  "churn-predictor.pt",
                  {"name": "batch-scoring", "runtime": "transformers", "runtime_version": "4.57",
                   "device": "cpu", "artifact": "fp32", "memory_mb": 16},
                  "Checkpoint delivered by an outside contractor as a PyTorch file.", seed=63,
                  problem="its PyTorch checkpoint hides a call to exec in its pickle, which would run "
                          "code on any machine that loads it"),
)


def _write_model(release: FormatRelease, path: Path) -> tuple[dict, str]:
    """Write the release's model file; returns its hyperparameters and the library that wrote it."""
    from importlib.metadata import version

    if release.format == "safetensors":
        return format_models.write_llm_safetensors(path, seed=release.seed), f"safetensors {version('safetensors')}"
    if release.format == "gguf":
        hyper = format_models.write_llm_gguf(path, seed=release.seed, name=release.name,
                                             license_id=release.license.lower())
        return hyper, f"gguf {version('gguf')}"
    if release.format == "tflite":
        hyper = format_models.write_mobile_tflite(path, seed=release.seed,
                                                  description=f"{release.name} {release.version}")
        return hyper, f"tflite {version('tflite')} (flatbuffers {version('flatbuffers')})"
    return torch_zip.write_poisoned_torch_zip(path, seed=release.seed, shapes=_CHURN_SHAPES), "pickle"


def _manifest(release: FormatRelease, hyper: dict, writer: str, numpy_version: str) -> dict:
    family = FAMILIES[release.name]
    provenance = demo_provenance(release=release, numpy_version=numpy_version, seed=release.seed, datasets=[],
                                 hyperparameters=dict(hyper, writer=writer))
    data = {
        "bundle_format": BUNDLE_FORMAT, "name": release.name, "version": release.version,
        "description": f"{family['description']} {release.summary}",
        "owners": family["owners"], "tags": family["tags"], "license": release.license,
        "license_files": ["LICENSE"],
        "artifacts": [{"path": f"model/{release.file}", "format": release.format, "variant": release.variant}],
        "interface": {"version": "1.0", "inputs": family["inputs"], "outputs": family["outputs"]},
        "targets": [release.target], "dependencies": family["dependencies"], "provenance": provenance,
    }
    return json.loads(json.dumps(data))          # plain, unshared containers for the YAML dump


def write_bundle(folder: Path, release: FormatRelease, *, numpy_version: str) -> None:
    """Write ``release`` as an unlocked bundle in ``folder`` (the caller locks it)."""
    from modelgate.core.bundle.lock import dump_manifest

    family = FAMILIES[release.name]
    (folder / "model").mkdir(parents=True, exist_ok=True)
    hyper, writer = _write_model(release, folder / "model" / release.file)
    license_text = demo_cards.license_text(release.license, model=release.name, version=release.version,
                                           year=release.created_at[:4], holder=family["team"])
    (folder / "LICENSE").write_text(license_text, encoding="utf-8", newline="\n")
    training = ("No training data: the weights were drawn from a fixed seed and written with "
                f"{writer}, so that the demo shows how a {release.format} file is governed." + SYNTHETIC_NOTE)
    evaluation = ("Not evaluated yet, so the bundle carries no benchmark results: the candidate gate asks "
                  "for none, but the staging gate's accuracy and latency floors will stop it until a "
                  f"measured run on the {release.target['name']} target is added.")
    card = demo_cards.model_card(name=release.name, version=release.version, license=release.license,
                                 tags=family["tags"], summary=f"{family['description']} {release.summary}",
                                 training=training, evaluation=evaluation, results=[])
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8", newline="\n")
    (folder / "bundle.yaml").write_text(dump_manifest(_manifest(release, hyper, writer, numpy_version)),
                                        encoding="utf-8", newline="\n")
