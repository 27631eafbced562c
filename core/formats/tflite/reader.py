"""TFLite flatbuffers read with the ``tflite`` schema package: operators, I/O tensors, buffers.

The file is mapped, not loaded. A flatbuffer is a web of offsets; a hostile one can point
anywhere, so every vector length is bounded by the file size, every index (operator code,
tensor, buffer) is checked against its table, and every out-of-line buffer (models above
2 GB keep their weights after the flatbuffer) must lie inside the file.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from modelgate.core.formats.interface import FormatError, ModelFacts, Port, TensorInfo
from modelgate.core.formats.rules import LAYOUT

IDENTIFIER = b"TFL3"
MAX_PROBLEMS = 10
#: Errors the flatbuffers runtime raises when an offset points outside the buffer.
_BROKEN = (struct.error, IndexError, ValueError, TypeError, UnicodeDecodeError, AttributeError, OverflowError)


def _names(enum_class) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_") and isinstance(value, int)}


def _bounded(count: int, size: int, what: str, label: str) -> int:
    if count < 0 or count * 4 > size:
        raise FormatError(f"{label} claims {count:,} {what}; a {size:,}-byte file cannot hold that many")
    return count


def _shape(tensor) -> tuple[int | str, ...]:
    signature = [int(d) for d in tensor.ShapeSignatureAsNumpy()] if tensor.ShapeSignatureLength() else []
    shape = [int(d) for d in tensor.ShapeAsNumpy()] if tensor.ShapeLength() else []
    if len(signature) == len(shape):
        return tuple(f"dim{j}" if want < 0 else dim for j, (want, dim) in enumerate(zip(signature, shape)))
    return tuple(shape)


def _port(tensor, dtypes: dict[int, str]) -> Port:
    return Port(tensor.Name().decode("utf-8", errors="replace"), dtypes.get(tensor.Type(), "unknown").lower(),
                _shape(tensor))


def _read(model, size: int, label: str):
    import tflite

    builtin, dtypes = _names(tflite.BuiltinOperator), _names(tflite.TensorType)
    problems, operators, custom = [], {}, []
    codes = _bounded(model.OperatorCodesLength(), size, "operator codes", label)
    for index in range(codes):
        code = model.OperatorCodes(index)
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = builtin.get(number, f"BUILTIN_{number}")
        if name == "CUSTOM":
            name = (code.CustomCode() or b"?").decode("utf-8", errors="replace")
            custom.append(name)
        operators[(name, int(code.Version()))] = None
    buffers = _bounded(model.BuffersLength(), size, "buffers", label)
    for index in range(buffers):
        buffer = model.Buffers(index)
        offset, length = int(buffer.Offset()), int(buffer.Size())
        if offset > 1 and offset + length > size:
            problems.append(f"buffer {index} claims bytes {offset:,}-{offset + length:,}, past the end of "
                            f"the file ({size:,})")
    if model.SubgraphsLength() < 1:
        raise FormatError(f"{label} holds no subgraph")
    _bounded(model.SubgraphsLength(), size, "subgraphs", label)
    tensors, ports = [], None
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        count = _bounded(graph.TensorsLength(), size, "tensors", label)
        for t in range(count):
            tensor = graph.Tensors(t)
            if tensor.Buffer() >= buffers:
                problems.append(f"tensor {t} of subgraph {s} names buffer {tensor.Buffer()}, but the "
                                f"model has {buffers} buffers")
                continue
            data = model.Buffers(tensor.Buffer()).DataLength() if tensor.Buffer() else 0
            if data:
                port = _port(tensor, dtypes)
                tensors.append(TensorInfo(port.name, port.dtype, port.shape, data))
        for o in range(_bounded(graph.OperatorsLength(), size, "operators", label)):
            if graph.Operators(o).OpcodeIndex() >= codes:
                problems.append(f"operator {o} of subgraph {s} names operator code "
                                f"{graph.Operators(o).OpcodeIndex()}, but the model has {codes}")
        ends = []
        for which in ("Inputs", "Outputs"):
            indices = [int(i) for i in getattr(graph, f"{which}AsNumpy")()] \
                if getattr(graph, f"{which}Length")() else []
            bad = [i for i in indices if not 0 <= i < count]
            if bad:
                raise FormatError(f"{label}: subgraph {s} {which.lower()} name tensor {bad[0]}, but it "
                                  f"has {count} tensors")
            ends.append(tuple(_port(graph.Tensors(i), dtypes) for i in indices))
        if ports is None:
            ports = ends
    return tensors, ports, tuple(operators), tuple(dict.fromkeys(custom)), problems


def read_file(path: Path, *, label: str) -> ModelFacts:
    """Operators and versions, the main subgraph's inputs and outputs, weights, bound findings."""
    import tflite

    size = path.stat().st_size
    if size < 8:
        raise FormatError(f"{label} is {size} bytes long, too short for a TFLite model")
    with open(path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[4:8] != IDENTIFIER:
            raise FormatError(f"{label} does not carry the TFLite identifier")
        try:
            model = tflite.Model.GetRootAsModel(data, 0)
            version = int(model.Version())
            description = (model.Description() or b"").decode("utf-8", errors="replace")[:200]
            tensors, ports, operators, custom, problems = _read(model, size, label)
        except _BROKEN as error:
            raise FormatError(f"{label} is a malformed TFLite flatbuffer ({error.__class__.__name__}: "
                              f"{' '.join(str(error).split())[:160]})") from None
    findings = [LAYOUT.finding(f"{label}: {text}", file=label) for text in problems[:MAX_PROBLEMS]]
    metadata = (("schema version", str(version)), ("description", description))
    return ModelFacts(format="tflite", path=label, size=size, tensors=tuple(tensors), metadata=metadata,
                      inputs=ports[0], outputs=ports[1], operators=operators, custom_operators=custom,
                      findings=tuple(findings))
