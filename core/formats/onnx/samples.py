"""Sample inputs and expected outputs (``samples/``, bundle standard v1.1) and how a run uses them.

A sample set is a folder in the ONNX test-data layout: ``input_K.pb`` for the
graph's K-th input and, optionally, ``output_K.pb`` for its K-th output, each a
serialised ``TensorProto`` (or ``SequenceProto``, ``OptionalProto``, ``MapProto``
for inputs of those types). The smoke run feeds the inputs instead of made-up
values, and compares every output that has an expected value: numbers within a
tolerance, text and booleans exactly. Types that numpy has no arithmetic for
(bfloat16, float8, int4...) are compared by type and shape only.

Reading happens in the bounded model process; onnx, onnxruntime and numpy are
imported inside the functions.
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass

DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-6
_FILE = re.compile(r"^(input|output)_(\d+)\.pb$")
#: onnxruntime's names of element types that differ from the bundle standard's.
_ORT_NAMES = {"float": "float32", "double": "float64"}


@dataclass(frozen=True)
class SampleSet:
    """One declared set: its folder and the bundle paths of its files by position."""

    folder: str
    inputs: dict[int, str]
    outputs: dict[int, str]


def sample_sets(manifest: dict | None, files: list[str]) -> tuple[list[SampleSet], float, float]:
    """The declared sample sets (``samples.sets``) with the files the bundle holds in each,
    and the tolerances. Malformed declarations are the schema's finding and are left out."""
    samples = (manifest or {}).get("samples")
    if not isinstance(samples, dict) or not isinstance(samples.get("sets"), list):
        return [], DEFAULT_RTOL, DEFAULT_ATOL
    rtol, atol = _tolerance(samples.get("rtol"), DEFAULT_RTOL), _tolerance(samples.get("atol"), DEFAULT_ATOL)
    found = []
    for folder in samples["sets"]:
        if not isinstance(folder, str):
            continue
        folder = posixpath.normpath(folder)
        inputs, outputs = {}, {}
        for path in files:
            if posixpath.dirname(path) != folder:
                continue
            match = _FILE.match(posixpath.basename(path))
            if match:
                (inputs if match[1] == "input" else outputs)[int(match[2])] = path
        found.append(SampleSet(folder, inputs, outputs))
    return found, rtol, atol


def _tolerance(value, default: float) -> float:
    """A declared tolerance as a finite, non-negative float; anything else (the schema's finding)
    leaves the default, so an absurd number can neither crash the run nor wave every output through."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return default
    try:
        number = float(value)
    except OverflowError:       # an integer of a thousand digits
        return default
    return number if math.isfinite(number) and number >= 0 else default


def read_value(path: str, type_proto):
    """The value stored at ``path`` for a graph port of type ``type_proto``: an array, a list,
    a dict or ``None`` (an empty optional)."""
    import onnx
    from onnx import numpy_helper

    with open(path, "rb") as handle:
        data = handle.read()
    kind = type_proto.WhichOneof("value")
    if kind == "sequence_type":
        proto = onnx.SequenceProto()
        proto.ParseFromString(data)
        return numpy_helper.to_list(proto)
    if kind == "optional_type":
        proto = onnx.OptionalProto()
        proto.ParseFromString(data)
        return numpy_helper.to_optional(proto)
    if kind == "map_type":
        proto = onnx.MapProto()
        proto.ParseFromString(data)
        return numpy_helper.to_dict(proto)
    proto = onnx.TensorProto()
    proto.ParseFromString(data)
    return numpy_helper.to_array(proto)


def _ort_value(value, elem_type: int):
    """``value`` as an onnxruntime OrtValue, or ``None`` when only ``session.run`` can take it."""
    import numpy as np
    import onnxruntime as ort

    if not isinstance(value, np.ndarray) or value.dtype.kind in "OUS":
        return None
    if value.dtype.kind == "V" or value.dtype.name in _PACKED_NUMPY:
        if value.dtype.itemsize not in (1, 2):
            return None
        bits = value.view(np.uint8 if value.dtype.itemsize == 1 else np.uint16)
        return None if elem_type in _SUB_BYTE else ort.OrtValue.ortvalue_from_numpy_with_onnx_type(bits, elem_type)
    return ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value))


#: ml_dtypes' names (numpy cannot compute with them) and the packed element types onnxruntime
#: takes two or four to a byte, which an unpacked array cannot feed directly.
_PACKED_NUMPY = frozenset({"bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                           "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn", "int4", "uint4",
                           "int2", "uint2"})
_SUB_BYTE = frozenset({21, 22, 23, 25, 26})


class Unfeedable(ValueError):
    """An input onnxruntime's Python API cannot take; the run is skipped, not failed."""


def run(session, feeds: dict, elem_types: dict[str, int]) -> list[tuple[str, str | None, tuple | None, object]]:
    """Run ``session`` on ``feeds``; ``(name, dtype, shape, value)`` for each output.

    Through OrtValues where every feed allows it, so an output of a type numpy cannot hold
    (bfloat16, float8...) still reports its type and shape; ``value`` is then ``None``.
    """
    import numpy as np

    from modelgate.core.formats.onnx.info import dtype_name

    packed = sorted(name for name, value in feeds.items() if elem_types.get(name) in _SUB_BYTE)
    if packed:
        raise Unfeedable(f"input {packed[0]!r} is a packed sub-byte type "
                         f"({dtype_name(elem_types[packed[0]])}), which Python cannot hand to onnxruntime")
    converted = {name: _ort_value(value, elem_types.get(name, 0)) for name, value in feeds.items()}
    names = [output.name for output in session.get_outputs()]
    described = []
    if all(value is not None for value in converted.values()):
        for name, value in zip(names, session.run_with_ort_values(None, converted)):
            if not value.is_tensor():
                described.append((name, None, None, None))
                continue
            text = value.data_type()[len("tensor("):-1]
            dtype = _ORT_NAMES.get(text, text)
            try:
                array = value.numpy()
            except (RuntimeError, TypeError):  # no numpy type for it
                array = None
            described.append((name, dtype, tuple(int(d) for d in value.shape()), array))
        return described
    for name, value in zip(names, session.run(None, feeds)):
        if isinstance(value, np.ndarray):
            dtype = "string" if value.dtype.kind in "OUS" else value.dtype.name
            described.append((name, dtype, tuple(int(d) for d in value.shape), value))
        else:
            described.append((name, None, None, value))
    return described


def mismatch(expected, actual, *, type_text: str, rtol: float, atol: float,
             by_value: bool = True) -> str | None:
    """Why ``actual`` differs from ``expected``, or ``None`` when it does not (or cannot be told).
    Without ``by_value`` (a model that draws random numbers) only the shapes are compared."""
    import numpy as np

    from modelgate.core.formats.onnx.info import NOT_COMPARABLE

    if isinstance(expected, (list, dict)) or expected is None or actual is None:
        return None  # sequences, maps and optionals are checked for their type by the contract
    expected = np.asarray(expected)
    if type_text in NOT_COMPARABLE or expected.dtype.kind == "V":
        return None
    actual = np.asarray(actual)
    if expected.shape != actual.shape:
        return f"has shape {list(actual.shape)}; the sample expects {list(expected.shape)}"
    if not by_value:
        return None
    if expected.dtype.kind in "OUSb" or actual.dtype.kind in "OUSb":
        differ = int(np.sum(expected.astype(str) != actual.astype(str)))
        return f"{differ} of {expected.size} values differ from the sample" if differ else None
    wide = np.complex128 if "c" in (expected.dtype.kind, actual.dtype.kind) else np.float64
    actual, expected = actual.astype(wide), expected.astype(wide)
    # Measured against the output's largest magnitude, not element by element: transforms
    # such as a DFT add and cancel large terms, so small elements carry the large ones' error.
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size else 0.0
    close = (np.abs(actual - expected) <= atol + rtol * scale) | (actual == expected) | \
        (np.isnan(actual) & np.isnan(expected))
    differ = int(close.size - np.count_nonzero(close))
    if not differ:
        return None
    worst = float(np.nanmax(np.abs(actual - expected)))
    return (f"{differ} of {expected.size} values differ from the sample by more than "
            f"atol + rtol * {scale:.3g} (rtol={rtol:g}, atol={atol:g}; largest difference {worst:.3g})")
