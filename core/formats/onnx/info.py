"""Facts read from an ONNX graph: its interface, opsets and size.

onnx is imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from modelgate.core.errors import BundleError

#: ONNX TensorProto element types, by the dtype names the bundle standard uses.
DTYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz",
    19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
    24: "float8e8m0", 25: "uint2", 26: "int2",
}
#: Types whose values are bit patterns numpy has no arithmetic for: an output of one is
#: checked for its type and shape, never compared by value.
NOT_COMPARABLE = frozenset({"bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
                            "float8e5m2fnuz", "float8e8m0", "float4e2m1", "uint4", "int4",
                            "uint2", "int2"})


def dtype_name(elem_type: int) -> str:
    """The bundle-standard name of an ONNX element type (``"type<N>"`` when it has none)."""
    return DTYPES.get(elem_type, f"type{elem_type}")


def type_text(type_proto) -> str:
    """An ONNX type as the interface writes it: an element type for a tensor
    (``float32``), else ``sequence<T>``, ``optional<T>``, ``map<K, V>`` or ``sparse<E>``."""
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return dtype_name(type_proto.tensor_type.elem_type)
    if kind == "sparse_tensor_type":
        return f"sparse<{dtype_name(type_proto.sparse_tensor_type.elem_type)}>"
    if kind == "sequence_type":
        return f"sequence<{type_text(type_proto.sequence_type.elem_type)}>"
    if kind == "optional_type":
        return f"optional<{type_text(type_proto.optional_type.elem_type)}>"
    if kind == "map_type":
        inner = type_proto.map_type
        return f"map<{dtype_name(inner.key_type)}, {type_text(inner.value_type)}>"
    return "untyped"


def _tensor(value_info) -> dict:
    kind = value_info.type.WhichOneof("value")
    if kind not in ("tensor_type", "sparse_tensor_type"):
        # A sequence, optional or map has no single shape: its type says it all.
        return {"name": value_info.name, "dtype": type_text(value_info.type)}
    tensor = getattr(value_info.type, kind)
    shape: list = []
    if tensor.HasField("shape"):
        for index, dim in enumerate(tensor.shape.dim):
            if dim.HasField("dim_value"):
                shape.append(int(dim.dim_value))
            elif dim.HasField("dim_param") and dim.dim_param:
                shape.append(dim.dim_param)
            else:
                shape.append(f"dim{index}")
    return {"name": value_info.name, "dtype": type_text(value_info.type), "shape": shape}


def graph_interface(model) -> dict:
    """Inputs (initializers excluded) and outputs of a loaded ``onnx.ModelProto``."""
    initializers = {init.name for init in model.graph.initializer}
    return {
        "inputs": [_tensor(v) for v in model.graph.input if v.name not in initializers],
        "outputs": [_tensor(v) for v in model.graph.output],
    }


def default_opset(model) -> int | None:
    """The version of the default ('' or 'ai.onnx') operator set the model imports."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return None


class OnnxTextError(BundleError):
    """A text field of an ONNX model (a name, a domain) holds bytes that are not UTF-8."""


def _first_non_utf8(message, where: str) -> tuple[str, bytes] | None:
    """The first ``string`` field of ``message`` (recursively) that protobuf handed back as bytes.

    ONNX is proto2, which does not validate UTF-8; the Python runtime then
    returns such a field as ``bytes`` where every reader expects ``str``.
    """
    from google.protobuf.descriptor import FieldDescriptor
    from google.protobuf.message import Message

    stack = [(message, where)]
    while stack:
        node, at = stack.pop()
        for field, value in node.ListFields():
            label = f"{at}.{field.name}"
            if field.type == FieldDescriptor.TYPE_STRING:
                if isinstance(value, (str, bytes)):
                    if isinstance(value, bytes):
                        return label, value
                    continue
                for index, item in enumerate(value):
                    if isinstance(item, bytes):
                        return f"{label}[{index}]", item
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                if isinstance(value, Message):
                    stack.append((value, label))
                else:
                    stack.extend((item, f"{label}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


def load_header(path: Path):
    """Load a model's graph without its external data (cheap, never follows data paths).

    Raises :class:`OnnxTextError` when a name or other text field is not UTF-8,
    so that no reader meets ``bytes`` where the ONNX standard promises text.
    """
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    found = _first_non_utf8(model, "model")
    if found is not None:
        where, value = found
        raise OnnxTextError(f"{where} is not valid UTF-8 text ({value[:40]!r})",
                            hint="Export the model again with names that are UTF-8 text.")
    return model
