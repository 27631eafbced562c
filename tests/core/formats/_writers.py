"""Model files written by each format's own library, for the format tests and attacks.

safetensors files come from ``safetensors.numpy.save_file``, GGUF from ``gguf.GGUFWriter``,
TFLite flatbuffers from the ``tflite`` schema package's builders, and pickles from
``pickle`` itself (a ``torch.save``-style zip is the zip layout torch writes, with a
``data.pkl`` pickled through stand-ins registered under torch's names).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from modelgate.core.demo.format_models import flatbuffer_vector as _vector
from modelgate.core.demo.torch_zip import state_dict_pickle


def write_safetensors(path: Path, *, tensors: dict | None = None, metadata: dict | None = None) -> Path:
    from safetensors.numpy import save_file

    tensors = tensors if tensors is not None else {
        "embed.weight": np.arange(32, dtype=np.float32).reshape(8, 4),
        "head.bias": np.ones(3, dtype=np.float16)}
    save_file(tensors, str(path), metadata=metadata)
    return path


def write_gguf(path: Path, *, name: str = "Tiny Llama", license_id: str | None = "apache-2.0",
               architecture: str = "llama") -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_name(name)
    if license_id:
        writer.add_license(license_id)
    writer.add_context_length(256)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model("llama")
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float16))
    writer.add_tensor("output_norm.weight", np.ones((8,), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tflite_bytes(*, custom: str | None = None, weights_buffer: int = 1, input_name: str = "input",
                 opcode_index: int = 0) -> bytes:
    """A one-operator TFLite model: input[batch,4] x weights[3,4] -> output[batch,3] (float32)."""
    import flatbuffers
    import tflite

    b = flatbuffers.Builder(1024)
    weights = np.arange(12, dtype=np.float32).tobytes()
    data = _vector(b, list(weights), b.PrependUint8)
    tflite.BufferStart(b)
    empty = tflite.BufferEnd(b)
    tflite.BufferStart(b)
    tflite.BufferAddData(b, data)
    filled = tflite.BufferEnd(b)

    def tensor(name: str, shape: list[int], signature: list[int] | None, buffer: int) -> int:
        label = b.CreateString(name)
        dims = _vector(b, shape, b.PrependInt32)
        sig = _vector(b, signature, b.PrependInt32) if signature else None
        tflite.TensorStart(b)
        tflite.TensorAddName(b, label)
        tflite.TensorAddShape(b, dims)
        if sig is not None:
            tflite.TensorAddShapeSignature(b, sig)
        tflite.TensorAddType(b, tflite.TensorType.FLOAT32)
        tflite.TensorAddBuffer(b, buffer)
        return tflite.TensorEnd(b)

    tensors = [tensor(input_name, [1, 4], [-1, 4], 0), tensor("dense/weights", [3, 4], None, weights_buffer),
               tensor("output", [1, 3], [-1, 3], 0)]
    op_inputs, op_outputs = _vector(b, [0, 1], b.PrependInt32), _vector(b, [2], b.PrependInt32)
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, opcode_index)
    tflite.OperatorAddInputs(b, op_inputs)
    tflite.OperatorAddOutputs(b, op_outputs)
    operator = tflite.OperatorEnd(b)
    code_name = b.CreateString(custom) if custom else None
    tflite.OperatorCodeStart(b)
    op = tflite.BuiltinOperator.CUSTOM if custom else tflite.BuiltinOperator.FULLY_CONNECTED
    tflite.OperatorCodeAddBuiltinCode(b, op)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, op)
    if code_name is not None:
        tflite.OperatorCodeAddCustomCode(b, code_name)
    tflite.OperatorCodeAddVersion(b, 9)
    code = tflite.OperatorCodeEnd(b)
    tensor_vector = _vector(b, tensors, b.PrependUOffsetTRelative)
    graph_inputs, graph_outputs = _vector(b, [0], b.PrependInt32), _vector(b, [2], b.PrependInt32)
    operators = _vector(b, [operator], b.PrependUOffsetTRelative)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensor_vector)
    tflite.SubGraphAddInputs(b, graph_inputs)
    tflite.SubGraphAddOutputs(b, graph_outputs)
    tflite.SubGraphAddOperators(b, operators)
    graph = tflite.SubGraphEnd(b)
    codes = _vector(b, [code], b.PrependUOffsetTRelative)
    graphs = _vector(b, [graph], b.PrependUOffsetTRelative)
    buffers = _vector(b, [empty, filled], b.PrependUOffsetTRelative)
    description = b.CreateString("written by the tests")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes)
    tflite.ModelAddSubgraphs(b, graphs)
    tflite.ModelAddBuffers(b, buffers)
    tflite.ModelAddDescription(b, description)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def write_tflite(path: Path, **options) -> Path:
    path.write_bytes(tflite_bytes(**options))
    return path


class Payload:
    """Pickles into a call of ``os.system`` that would create ``marker`` if it were ever loaded."""

    def __init__(self, marker: Path, call=os.system) -> None:
        self.marker, self.call = marker, call

    def __reduce__(self):
        return (self.call, (f"touch {self.marker}",))


def malicious_pickle(marker: Path, *, protocol: int = 4, call=os.system) -> bytes:
    return pickle.dumps({"weights": [1.0, 2.0], "hook": Payload(marker, call)}, protocol=protocol)


def torch_zip_bytes(*, extra: object | None = None, shapes: dict | None = None) -> bytes:
    """A ``torch.save`` zip: ``archive/data.pkl`` (a state dict of rebuilt tensors) and its storages."""
    shapes = shapes or {"fc.weight": (3, 4), "fc.bias": (3,)}
    data, numels = state_dict_pickle(shapes, extra=None if extra is None else {"extra": extra})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/data.pkl", data)
        for key, numel in numels.items():
            archive.writestr(f"archive/data/{key}", np.zeros(numel, np.float32).tobytes())
        archive.writestr("archive/version", "3\n")
    return out.getvalue()


def format_bundle(root: Path, *, name: str, data: bytes | None = None, writer=None, fmt: str,
                  runtime: str, variant: str = "fp32", lock: bool = True) -> Path:
    """A clean bundle (tests.factory) whose one artifact is ``model/<name>`` in format ``fmt``."""
    from tests.factory import clean_manifest, make_bundle

    manifest = clean_manifest()
    manifest["artifacts"] = [{"path": f"model/{name}", "format": fmt, "variant": variant}]
    target = {"name": "serve", "runtime": runtime, "device": "cpu", "artifact": variant}
    manifest["targets"] = [target]
    make_bundle(root, manifest=manifest, model=None, lock=False)
    (root / "model").mkdir(exist_ok=True)
    if writer is not None:
        writer(root / "model" / name)
    else:
        (root / "model" / name).write_bytes(data)
    if lock:
        from modelgate.core.bundle.lock import lock_bundle

        lock_bundle(root)
    return root


def lock_bundle(root: Path) -> None:
    from modelgate.core.bundle.lock import lock_bundle as lock

    lock(root)


def write_shards(folder: Path, *, misplace: bool = False, drop: bool = False) -> Path:
    """A two-shard safetensors checkpoint and its index in ``folder``: ``misplace`` maps a tensor
    to the wrong shard, ``drop`` deletes the second shard. Returns the index file."""
    a = write_safetensors(folder / "model-00001-of-00002.safetensors",
                                   tensors={"a": np.zeros((2, 2), np.float32)})
    b = write_safetensors(folder / "model-00002-of-00002.safetensors",
                                   tensors={"b": np.zeros(3, np.float32)})
    weight_map = {"a": a.name, "b": a.name if misplace else b.name}
    if drop:
        b.unlink()
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 28}, "weight_map": weight_map}))
    return index
