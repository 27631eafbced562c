"""Each format recognises its own files (written by its own library) and only those, and reads
their facts without loading weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from modelgate.core.bundle.manifest_types import typed_manifest
from modelgate.core.formats import registry
from modelgate.core.formats.interface import Format
from modelgate.core.formats.rules import METADATA_MISMATCH, SHARDS
from modelgate.core.findings import Severity
from tests.core.formats import _writers

_ONNX_DATA = Path(onnx.__file__).parent / "backend/test/data"
ONNX_MODELS = sorted(model for folder in ("simple", "pytorch-operator", "pytorch-converted")
                     for model in (_ONNX_DATA / folder).glob("*/model.onnx"))


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    return {
        "safetensors": _writers.write_safetensors(tmp_path / "m.safetensors"),
        "gguf": _writers.write_gguf(tmp_path / "m.gguf"),
        "tflite": _writers.write_tflite(tmp_path / "m.tflite"),
        "pytorch": _write(tmp_path / "m.pt", _writers.torch_zip_bytes()),
        "onnx": ONNX_MODELS[0],
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_every_format_implements_the_protocol():
    assert all(isinstance(fmt, Format) for fmt in registry.formats())
    assert set(registry.names()) == {"onnx", "safetensors", "gguf", "tflite", "pytorch"}


def test_each_file_is_detected_as_its_own_format_and_no_other(files):
    for name, path in files.items():
        claimed = [fmt.names[0] for fmt in registry.formats()
                   if fmt.detect(head=path.read_bytes()[:64], path=path)]
        assert claimed == [name], path


def test_detection_goes_by_content_not_by_name(files, tmp_path):
    renamed = tmp_path / "weights.bin"
    renamed.write_bytes(files["gguf"].read_bytes())
    assert registry.detect(renamed).names[0] == "gguf"


@pytest.mark.parametrize("model", ONNX_MODELS[::8], ids=lambda p: p.parent.name)
def test_the_onnx_conformance_models_read_behind_the_interface(model):
    fmt = registry.detect(model)
    assert fmt is registry.by_name("onnx")
    facts = fmt.read(path=model, label="model.onnx")
    graph = onnx.load(str(model))
    initializers = {i.name for i in graph.graph.initializer}
    assert [p.name for p in facts.inputs] == [i.name for i in graph.graph.input if i.name not in initializers]
    assert [p.name for p in facts.outputs] == [o.name for o in graph.graph.output]
    assert {name for name, _ in facts.operators} == {n.op_type if n.domain in ("", "ai.onnx") else
                                                     f"{n.domain}.{n.op_type}" for n in graph.graph.node}


def test_safetensors_facts_are_the_saved_tensors(tmp_path):
    path = _writers.write_safetensors(tmp_path / "m.safetensors", metadata={"format": "pt", "source": "tests"})
    facts = registry.by_name("safetensors").read(path=path, label="model/m.safetensors")
    shown = {t.name: (t.dtype, t.shape, t.nbytes) for t in facts.tensors}
    assert shown == {"embed.weight": ("float32", (8, 4), 128), "head.bias": ("float16", (3,), 6)}
    assert facts.meta("source") == "tests" and facts.parameter_count == 35
    assert facts.inputs is None and facts.findings == ()


def _shards(folder: Path, *, misplace: bool = False, drop: bool = False) -> Path:
    a = _writers.write_safetensors(folder / "model-00001-of-00002.safetensors",
                                   tensors={"a": np.zeros((2, 2), np.float32)})
    b = _writers.write_safetensors(folder / "model-00002-of-00002.safetensors",
                                   tensors={"b": np.zeros(3, np.float32)})
    weight_map = {"a": a.name, "b": a.name if misplace else b.name}
    if drop:
        b.unlink()
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 28}, "weight_map": weight_map}))
    return index


def test_a_sharded_checkpoint_reads_as_one_artifact(tmp_path):
    index = _shards(tmp_path)
    fmt = registry.detect(index)
    facts = fmt.read(path=index, label="model/model.safetensors.index.json")
    assert fmt.names == ("safetensors",)
    assert {t.name for t in facts.tensors} == {"a", "b"} and facts.findings == ()
    assert facts.files == ("model/model.safetensors.index.json", "model/model-00001-of-00002.safetensors",
                           "model/model-00002-of-00002.safetensors")


@pytest.mark.parametrize("problem", ["misplace", "drop"])
def test_an_inconsistent_shard_index_is_mg228(tmp_path, problem):
    index = _shards(tmp_path, **{problem: True})
    facts = registry.by_name("safetensors").read(path=index, label="model/index")
    assert [f.rule for f in facts.findings] == [SHARDS.id]


def test_gguf_facts_come_from_its_metadata(tmp_path):
    path = _writers.write_gguf(tmp_path / "m.gguf")
    fmt = registry.by_name("gguf")
    facts = fmt.read(path=path, label="model/m.gguf")
    assert facts.meta("general.architecture") == "llama"
    assert facts.meta("llama.context_length") == "256"
    assert facts.meta("tokenizer.ggml.model") == "llama"
    assert {t.name: (t.dtype, t.shape) for t in facts.tensors} == {
        "token_embd.weight": ("F16", (16, 8)), "output_norm.weight": ("F32", (8,))}
    starter = fmt.starter(path=path, facts=facts)
    assert (starter.variant, starter.license) == ("f16", "apache-2.0")


def test_gguf_metadata_is_cross_checked_against_the_manifest(tmp_path):
    fmt = registry.by_name("gguf")
    facts = fmt.read(path=_writers.write_gguf(tmp_path / "m.gguf", name="Other Model", license_id="mit"),
                     label="model/m.gguf")
    manifest = typed_manifest({"name": "tiny-llama", "license": "Apache-2.0"})
    found = list(fmt.cross_check(facts=facts, manifest=manifest))
    assert [(f.rule, f.severity, f.location.path) for f in found] == [
        (METADATA_MISMATCH.id, Severity.ERROR, "license"), (METADATA_MISMATCH.id, Severity.WARNING, "name")]
    same = fmt.read(path=_writers.write_gguf(tmp_path / "n.gguf", name="Tiny Llama"), label="n")
    assert list(fmt.cross_check(facts=same, manifest=manifest)) == []


def test_tflite_facts_are_the_graph(tmp_path):
    fmt = registry.by_name("tflite")
    facts = fmt.read(path=_writers.write_tflite(tmp_path / "m.tflite"), label="m.tflite")
    assert facts.interface() == {"inputs": [{"name": "input", "dtype": "float32", "shape": ["dim0", 4]}],
                                 "outputs": [{"name": "output", "dtype": "float32", "shape": ["dim0", 3]}]}
    assert facts.operators == (("FULLY_CONNECTED", 9),) and facts.custom_operators == ()
    assert [(t.name, t.nbytes) for t in facts.tensors] == [("dense/weights", 48)]
    custom = fmt.read(path=_writers.write_tflite(tmp_path / "c.tflite", custom="MyOp"), label="c")
    assert custom.custom_operators == ("MyOp",)


def test_a_torch_zip_lists_its_storages_without_unpickling(tmp_path):
    path = _write(tmp_path / "m.pt", _writers.torch_zip_bytes(shapes={"w": (3, 4), "b": (3,)}))
    facts = registry.by_name("pytorch").read(path=path, label="m.pt")
    assert [(t.dtype, t.shape, t.nbytes) for t in facts.tensors] == [("float32", (12,), 48), ("float32", (3,), 12)]
    assert set(facts.imports) == {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage"}
    assert facts.findings == ()
