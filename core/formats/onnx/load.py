"""Safe handling of ONNX files inside a bundle: external-data confinement and smoke runs.

An ONNX model may keep its weights in other files, named by each tensor's
``external_data`` ``location``. onnx and onnxruntime open those paths relative
to the model, so a hostile model could name ``../../etc/passwd``. Everything
here works on the graph loaded *without* external data and on file sizes; the
checker and onnxruntime only see a model once its references are confined.

onnx, onnxruntime and numpy are imported inside the functions.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from modelgate.core.errors import UnsafeBundleError

#: Bits per element of ONNX TensorProto data types (4- and 2-bit types are packed).
#: Types missing here (strings, newer packed types) are not size-checked.
_ELEMENT_BITS = {1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32,
                 13: 64, 14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4,
                 23: 4, 24: 8, 25: 2, 26: 2}
_DRIVE = re.compile(r"^[A-Za-z]:")
#: A model with thousands of bad records gets a readable report, not thousands of lines.
_MAX_RANGE_PROBLEMS = 10


@dataclass(frozen=True)
class ExternalRef:
    """One tensor whose data lives in another file."""

    tensor: str                  # what to call it in a message
    entries: dict[str, str]      # the external_data key/value pairs
    nbytes: int | None           # bytes its dims and type call for, when computable


@dataclass(frozen=True)
class ExternalProblem:
    kind: str       # "location" (the reference itself is unsafe or dangling) or "range"
    message: str


def _expected_bytes(tensor) -> int | None:
    count = 1
    for dim in tensor.dims:
        if dim < 0:
            return None
        count *= dim
    bits = _ELEMENT_BITS.get(tensor.data_type)
    return None if bits is None else (count * bits + 7) // 8


def _graph_tensors(graph, scope: str) -> Iterator[tuple[object, str]]:
    for tensor in graph.initializer:
        yield tensor, f"initializer {tensor.name!r}{scope}"
    for sparse in graph.sparse_initializer:
        yield sparse.values, f"sparse initializer {sparse.values.name!r}{scope}"
        yield sparse.indices, f"indices of sparse initializer {sparse.values.name!r}{scope}"
    for node in graph.node:
        yield from _node_tensors(node, scope)


def _node_tensors(node, scope: str) -> Iterator[tuple[object, str]]:
    label = f"attribute {{}} of node {node.name or node.op_type!r}{scope}"
    for attribute in node.attribute:
        where = label.format(repr(attribute.name))
        if attribute.HasField("t"):
            yield attribute.t, where
        for tensor in attribute.tensors:
            yield tensor, where
        sparse = list(attribute.sparse_tensors)
        if attribute.HasField("sparse_tensor"):
            sparse.append(attribute.sparse_tensor)
        for item in sparse:
            yield item.values, where
            yield item.indices, where
        inner = f" in a subgraph of node {node.name or node.op_type!r}"
        if attribute.HasField("g"):
            yield from _graph_tensors(attribute.g, inner)
        for graph in attribute.graphs:
            yield from _graph_tensors(graph, inner)


def external_refs(model) -> list[ExternalRef]:
    """Every tensor of ``model`` (initializers, sparse and attribute tensors, subgraphs and
    local functions) whose data is stored externally."""
    from onnx import TensorProto

    def tensors():
        yield from _graph_tensors(model.graph, "")
        for function in model.functions:
            for node in function.node:
                yield from _node_tensors(node, f" in function {function.name!r}")

    refs = []
    for tensor, where in tensors():
        if tensor.HasField("data_location") and tensor.data_location == TensorProto.EXTERNAL:
            entries = {entry.key: entry.value for entry in tensor.external_data}
            refs.append(ExternalRef(where, entries, _expected_bytes(tensor)))
    return refs


def unsafe_location(location: str) -> str | None:
    """Why ``location`` may not be followed, or ``None`` when it is a plain relative path."""
    if not location:
        return "is empty"
    if "\x00" in location:
        return "contains a NUL character"
    if "\\" in location:
        return "uses backslashes"
    if location.startswith("/") or _DRIVE.match(location):
        return "is an absolute path"
    if ".." in location.split("/"):
        return "climbs out with '..'"
    return None


def _offset(entries: dict, key: str) -> int | None | str:
    raw = entries.get(key)
    if raw is None:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() else f"{key} {raw!r} is not a whole number"


def check_external_data(bundle, artifact: str,
                        refs: list[ExternalRef]) -> tuple[list[ExternalProblem], set[str]]:
    """Check every external reference of ``artifact`` without opening any data file.

    Returns the problems and the bundle paths of the data files referenced. A
    location must stay inside the artifact's bundle, name a file covered by the
    digests, and each ``offset``/``length`` must fit in that file.
    """
    folder = posixpath.dirname(artifact)
    covered = set(bundle.content_files())
    present = set(bundle.files())
    problems: list[ExternalProblem] = []
    bad_locations: dict[tuple[str, str], list[str]] = {}
    sizes: dict[str, int] = {}
    for ref in refs:
        location = ref.entries.get("location")
        reason = "has no location" if location is None else unsafe_location(location)
        relative = None
        if reason is None:
            relative = posixpath.normpath(posixpath.join(folder, location))
            if relative not in present:
                reason = f"names {relative}, which is not in the bundle"
            elif relative not in covered:
                reason = f"names {relative}, which the bundle's digests do not cover"
            elif relative not in sizes:
                try:
                    sizes[relative] = bundle.size(relative)
                except UnsafeBundleError as error:
                    reason = error.message
        if reason is not None:
            bad_locations.setdefault((location or "", reason), []).append(ref.tensor)
            continue
        problems.extend(ExternalProblem("range", f"{ref.tensor}: {text}")
                        for text in _range_problems(ref, relative, sizes[relative]))
    if len(problems) > _MAX_RANGE_PROBLEMS:
        extra = len(problems) - _MAX_RANGE_PROBLEMS
        problems = problems[:_MAX_RANGE_PROBLEMS]
        problems.append(ExternalProblem("range", f"{extra} more tensors have the same kind of problem"))
    for (location, reason), tensors in bad_locations.items():
        shown = ", ".join(tensors[:3]) + (f" and {len(tensors) - 3} more" if len(tensors) > 3 else "")
        subject = f"external data location {location!r}" if location else "an external tensor"
        problems.insert(0, ExternalProblem("location", f"{subject} {reason} (used by {shown})"))
    return problems, set(sizes)


def _range_problems(ref: ExternalRef, relative: str, size: int) -> list[str]:
    offset, length = _offset(ref.entries, "offset"), _offset(ref.entries, "length")
    malformed = [value for value in (offset, length) if isinstance(value, str)]
    if malformed:
        return malformed
    start = offset or 0
    if length is not None and ref.nbytes is not None and length != ref.nbytes:
        return [f"length is {length} bytes but its type and dims need {ref.nbytes}"]
    needed = length if length is not None else (ref.nbytes or 0)
    if start + needed > size:
        return [f"bytes {start}..{start + needed} lie beyond the end of {relative} ({size} bytes)"]
    return []


#: A shape-inference error raised inside a standard operator's function body:
#: "(op_type:Outer): [ShapeInferenceError] Inference error(s): (op_type:Inner)".
_IN_FUNCTION_BODY = re.compile(r"^\[ShapeInferenceError\] Inference error\(s\): \(op_type:(\w+)\): "
                               r"\[ShapeInferenceError\] Inference error\(s\): \(op_type:\w+\)")


def in_function_body(message: str) -> bool:
    """Whether onnx's shape-inference ``message`` comes from inside the function body of a
    standard operator (onnx's own definition), rather than from the model's graph."""
    import onnx

    match = _IN_FUNCTION_BODY.match(message)
    if match is None:
        return False
    try:
        schema = onnx.defs.get_schema(match[1])
    except onnx.defs.SchemaError:
        return False
    return schema.has_function or schema.has_context_dependent_function


# ----------------------------------------------------------------------------- graph facts

def graph_values(model) -> dict[str, tuple]:
    """``{name: (kind, type, shape)}`` of the graph's inputs and outputs. ``kind`` is the
    type's oneof (``tensor_type``, ``sequence_type``...), ``type`` its text (see
    :func:`~modelgate.core.formats.onnx.info.type_text`); ``shape`` is ``None`` when the rank
    is unknown, and a dimension is ``None`` when the graph leaves it dynamic and unnamed."""
    from modelgate.core.formats.onnx.info import type_text

    values = {}
    for info in [*model.graph.input, *model.graph.output]:
        kind = info.type.WhichOneof("value")
        shape = None
        if kind in ("tensor_type", "sparse_tensor_type"):
            tensor = getattr(info.type, kind)
            if tensor.HasField("shape"):
                shape = [int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or None)
                         for d in tensor.shape.dim]
        values[info.name] = (kind, type_text(info.type), shape)
    return values


def manifest_dim(value):
    """A manifest dimension as an int or a name; ``None`` when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0 or isinstance(value, str) and value.strip():
        return value
    return None


def show_shape(shape) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


# ----------------------------------------------------------------------------- smoke runs

def open_session(path: str):
    """An onnxruntime CPU session for the model at ``path``, quiet and with few threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    # 4 (fatal only): failures reach us as exceptions; at 3 onnxruntime also prints them.
    options.log_severity_level = 4
    options.intra_op_num_threads = 1  # one smoke run: a thread pool costs more than it saves
    options.inter_op_num_threads = 1
    # Pre-packing copies every weight matrix into a kernel-friendly layout: worth it for a
    # server, pure cost for one run (about 1 s per 256 MB of MatMul weights).
    options.add_session_config_entry("session.disable_prepacking", "1")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


#: Largest synthetic input, in elements (a fixed 1 x 3 x 4096 x 4096 image is 50M).
MAX_INPUT_ELEMENTS = 64 * 1024**2
_NUMERIC = {"float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32",
            "uint32", "int64", "uint64", "bool", "complex64", "complex128"}


def _size_for(name: str) -> int:
    """A small size for a dynamic axis: 1 for a batch, enough for downsampling in images."""
    low = name.lower()
    if "batch" in low or low in {"n", "b", "bs"}:
        return 1
    if "height" in low or "width" in low or low in {"h", "w"}:
        return 64
    return 8


def synthetic_inputs(declared: list[dict], values: dict) -> tuple[dict, dict, str]:
    """Feeds for the declared inputs, ``{axis name: size}`` and a description for messages.

    Fixed sizes come from the graph where it has them, then from the manifest; a dynamic
    axis gets one size per name. Integer inputs hold 0 and 1 (they often index embedding
    tables). Raises :class:`ValueError` for a dtype numpy cannot build.
    """
    import numpy as np

    feeds, bindings, shown = {}, {}, []
    for tensor in declared:
        name, dtype = tensor["name"], tensor.get("dtype")
        if not isinstance(dtype, str) or dtype != "string" and dtype not in _NUMERIC:
            raise ValueError(f"input {name!r} has dtype {dtype}, which cannot be synthesised")
        graph_shape = values[name][2] or []
        wanted = tensor.get("shape") if isinstance(tensor.get("shape"), list) else graph_shape
        shape = []
        for j, dim in enumerate(wanted):
            dim = manifest_dim(dim)
            fixed = graph_shape[j] if j < len(graph_shape) and isinstance(graph_shape[j], int) else None
            fixed = fixed if fixed is not None else (dim if isinstance(dim, int) else None)
            if fixed is None:
                label = dim if isinstance(dim, str) else f"{name}[{j}]"
                fixed = bindings.setdefault(label, _size_for(label))
            elif isinstance(dim, str):
                bindings.setdefault(dim, fixed)
            shape.append(fixed)
        if int(np.prod(shape, dtype=object)) > MAX_INPUT_ELEMENTS:
            raise ValueError(f"input {name!r} would be {show_shape(shape)}, too large to synthesise")
        if dtype == "string":
            feeds[name] = np.full(shape, "a", dtype=object)
        elif dtype == "bool":
            feeds[name] = np.zeros(shape, dtype=bool)
        elif dtype.startswith(("float", "complex")):
            # Deterministic values in [0, 1) without numpy.random's import cost.
            feeds[name] = ((np.arange(int(np.prod(shape))) % 97) / 97).reshape(shape).astype(dtype)
        else:
            feeds[name] = (np.arange(int(np.prod(shape))) % 2).reshape(shape).astype(dtype)
        shown.append(f"{name} {dtype}{show_shape(shape)}")
    return feeds, bindings, ", ".join(shown)
