"""The ModelPack config fields read from model files: parameter count and architecture."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import onnx

from modelgate.core.registry.modelfacts import measured_config
from modelgate.core.store import modelpack
from tests.core.formats._writers import write_gguf, write_safetensors

CONV = Path(onnx.__file__).parent / "backend/test/data/pytorch-operator/test_operator_conv/model.onnx"


def _elements(path: Path) -> int:
    """The parameter count as onnx itself reads it, independently of our format reader."""
    model = onnx.load(str(path), load_external_data=False)
    return sum(int(np.prod(tensor.dims)) for tensor in model.graph.initializer)


def _bundle(folder: Path, artifacts: dict[str, Path]) -> tuple[Path, dict]:
    (folder / "model").mkdir(parents=True)
    entries = []
    for relative, source in artifacts.items():
        shutil.copyfile(source, folder / relative)
        fmt = {".onnx": "onnx", ".gguf": "gguf", ".safetensors": "safetensors"}[Path(relative).suffix]
        entries.append({"path": relative, "format": fmt, "variant": "fp32"})
    return folder, {"name": "x", "version": "1.0.0", "artifacts": entries}


def test_the_parameter_count_of_an_onnx_model_from_the_onnx_wheel(tmp_path):
    folder, manifest = _bundle(tmp_path / "b", {"model/conv.onnx": CONV})
    expected = _elements(CONV)
    assert expected > 1000
    assert measured_config(folder, manifest) == {"paramSize": modelpack.param_size(expected)}
    assert modelpack.param_size(expected) == f"{round(expected / 1000, 1):.1f}K".replace(".0K", "K")


def test_gguf_gives_its_architecture_and_the_largest_variant_its_size(tmp_path):
    gguf_file = write_gguf(tmp_path / "tiny.gguf", architecture="llama")
    big = write_safetensors(tmp_path / "big.safetensors",
                            tensors={"w": np.zeros((300, 1000), dtype=np.float32)})
    folder, manifest = _bundle(tmp_path / "b", {"model/tiny.gguf": gguf_file, "model/big.safetensors": big})
    assert measured_config(folder, manifest) == {"paramSize": "300K", "architecture": "llama"}


def test_artifacts_that_cannot_be_read_or_leave_the_bundle_add_nothing(tmp_path):
    folder, manifest = _bundle(tmp_path / "b", {"model/conv.onnx": CONV})
    (folder / "model" / "broken.onnx").write_bytes(b"not a model")
    outside = tmp_path / "outside.onnx"
    shutil.copyfile(CONV, outside)
    manifest["artifacts"] = [{"path": "model/broken.onnx", "format": "onnx"},
                             {"path": "../outside.onnx", "format": "onnx"},
                             {"path": "model/missing.onnx", "format": "onnx"}]
    os.symlink(outside, folder / "model" / "link.onnx")
    manifest["artifacts"].append({"path": "model/link.onnx", "format": "onnx"})
    assert measured_config(folder, manifest) == {}
