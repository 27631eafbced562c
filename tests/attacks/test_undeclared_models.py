"""Every file whose bytes are a model is a declared artifact, whatever its name, locked or not."""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from modelgate.core.bundle.scope import detect_model_format
from tests.factory import make_bundle, rules_of, tiny_model, validate


def onnx_file(path: Path) -> None:
    tiny_model(path, seed=3)


def onnx_reordered(path: Path) -> None:
    """The same model with its top-level fields reversed (graph first): still valid ONNX."""
    import onnx

    tiny_model(path, seed=4)
    data, fields, at = path.read_bytes(), [], 0

    def varint():
        nonlocal at
        value, shift = 0, 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    while at < len(data):
        start = at
        tag = varint()
        if tag & 7 == 0:
            varint()
        else:
            length = varint()
            at += length
        fields.append(data[start:at])
    path.write_bytes(b"".join(reversed(fields)))
    assert onnx.load(str(path)).graph.node  # onnx still reads it


def safetensors_file(path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))


def gguf_file(path: Path) -> None:
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))


def tflite_file(path: Path) -> None:
    path.write_bytes(struct.pack("<I", 16) + b"TFL3" + bytes(24))


def pickle_file(path: Path) -> None:
    path.write_bytes(pickle.dumps({"state_dict": [1.0, 2.0]}, protocol=4))


def pytorch_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("archive/version", "3\n")


MODELS = {"onnx": onnx_file, "onnx (fields reordered)": onnx_reordered, "safetensors": safetensors_file,
          "gguf": gguf_file, "tflite": tflite_file, "pickle": pickle_file, "pytorch": pytorch_zip}


@pytest.mark.parametrize("kind", MODELS)
@pytest.mark.parametrize("locked", [False, True], ids=["unlocked", "locked"])
def test_an_undeclared_model_is_an_error_whatever_its_name(tmp_path, kind, locked):
    root = make_bundle(tmp_path / "b", lock=False)
    MODELS[kind](root / "model" / "notes.txt")  # a name that says nothing about the content
    if locked:
        from modelgate.core.bundle.lock import lock_bundle

        lock_bundle(root)  # recorded in `files`, so MG106 is silent: only the content tells
    report = validate(root, stage="draft")
    found = [f for f in report.findings if f.rule == "MG131"]
    assert [f.location.file for f in found] == ["model/notes.txt"]
    assert f"a {kind.split()[0]} model file" in found[0].message
    assert report.verdict.startswith("FAILED")


def test_declared_artifacts_and_honest_files_are_not_flagged(tmp_path):
    import numpy as np
    import onnx

    root = make_bundle(tmp_path / "b", lock=False)
    (root / "samples").mkdir()
    np.save(root / "samples" / "input.npy", np.zeros((2, 4), np.float32))
    tensor = onnx.numpy_helper.from_array(np.ones((1, 4), np.float32), "features")
    (root / "samples" / "input_0.pb").write_bytes(tensor.SerializeToString())  # a TensorProto
    (root / "samples" / "empty.bin").write_bytes(b"")
    (root / "samples" / "weights.bin").write_bytes(np.arange(64, dtype=np.float32).tobytes())
    (root / "licenses").mkdir()
    (root / "licenses" / "NOTICE").write_text("\x08 backspace-led text that is not a model\n")
    assert "MG131" not in rules_of(validate(root, stage="draft"))


def test_the_onnx_conformance_inputs_are_not_models():
    """Real TensorProto files from the ONNX project's test data (shipped with onnx)."""
    import onnx

    data = Path(onnx.__file__).parent / "backend" / "test" / "data"
    inputs = sorted(data.glob("*/*/test_data_set_0/*.pb"))[:300]
    models = sorted(data.glob("*/*/model.onnx"))[:100]
    assert inputs and models
    assert [p for p in inputs if detect_model_format(p) is not None] == []
    assert all(detect_model_format(p) == "onnx" for p in models)
