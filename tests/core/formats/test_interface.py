"""Each format recognises its own files (written by its own library) and only those, and reads
their facts without loading weights."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from modelgate.core.formats import registry
from modelgate.core.formats.interface import Format
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


