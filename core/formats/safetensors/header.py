"""The safetensors header, read and bounded without touching the weights.

A safetensors file is an 8-byte little-endian header length, a JSON header mapping each
tensor to ``{dtype, shape, data_offsets}`` (offsets relative to the end of the header)
plus an optional ``__metadata__`` map of strings, then the tensor bytes. The length is
read first and bounded, so a hostile u64 never becomes an allocation; the offsets are then
checked to tile the data exactly: in range, no overlap, no gap, no trailing bytes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from modelgate.core.formats.interface import FormatError, ModelFacts, TensorInfo
from modelgate.core.formats.rules import LAYOUT, UNREADABLE

#: The safetensors library refuses headers above 100 MB; so does ModelGate, before reading one.
MAX_HEADER_BYTES = 100_000_000
#: A file with thousands of bad ranges gets a readable report, not thousands of lines.
MAX_LAYOUT_PROBLEMS = 10

#: Bits per element of each safetensors dtype, and the name the bundle standard uses for it.
DTYPES = {
    "BOOL": (8, "bool"), "U8": (8, "uint8"), "I8": (8, "int8"), "F8_E5M2": (8, "float8e5m2"),
    "F8_E4M3": (8, "float8e4m3fn"), "F8_E8M0": (8, "float8e8m0"), "I16": (16, "int16"),
    "U16": (16, "uint16"), "F16": (16, "float16"), "BF16": (16, "bfloat16"), "I32": (32, "int32"),
    "U32": (32, "uint32"), "F32": (32, "float32"), "F64": (64, "float64"), "I64": (64, "int64"),
    "U64": (64, "uint64"), "C64": (64, "complex64"), "F4": (4, "float4e2m1"), "F6_E2M3": (6, "float6e2m3"),
    "F6_E3M2": (6, "float6e3m2"),
}


def _header(path: Path, size: int) -> tuple[dict, int]:
    """The decoded JSON header and its length; refuses a length the file cannot hold."""
    if size < 8:
        raise FormatError(f"{path.name} is {size} bytes long, too short for a safetensors header")
    with open(path, "rb") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        if length > MAX_HEADER_BYTES:
            raise FormatError(f"{path.name} claims a {length:,}-byte header, above the "
                              f"{MAX_HEADER_BYTES:,}-byte limit")
        if 8 + length > size:
            raise FormatError(f"{path.name} claims a {length:,}-byte header but holds only "
                              f"{size - 8:,} bytes after the length (truncated?)")
        raw = stream.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FormatError(f"{path.name}: the safetensors header is not JSON ({error.__class__.__name__})") from None
    if not isinstance(header, dict):
        raise FormatError(f"{path.name}: the safetensors header is not a JSON object")
    return header, length


def _tensor(name: str, entry, label: str) -> tuple[TensorInfo, int, int]:
    if not isinstance(entry, dict):
        raise FormatError(f"{label}: tensor {name!r} is not described by an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPES:
        raise FormatError(f"{label}: tensor {name!r} has unknown dtype {str(dtype)[:40]!r}")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise FormatError(f"{label}: tensor {name!r} has no valid shape")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int and o >= 0 for o in offsets)
            and offsets[0] <= offsets[1]):
        raise FormatError(f"{label}: tensor {name!r} has no valid data_offsets")
    bits, standard = DTYPES[dtype]
    count = 1
    for dim in shape:
        count *= dim
    info = TensorInfo(name, standard, tuple(shape), offsets[1] - offsets[0], offsets[0])
    return info, (count * bits + 7) // 8, offsets[1]


def read_file(path: Path, *, label: str) -> ModelFacts:
    """The facts of one safetensors file; layout problems are findings, a broken header an error."""
    size = path.stat().st_size
    header, length = _header(path, size)
    data_size = size - 8 - length
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FormatError(f"{label}: __metadata__ must map names to strings")
    tensors, problems = [], []
    for name, entry in header.items():
        info, expected, end = _tensor(name, entry, label)
        if info.nbytes != expected:
            problems.append(f"tensor {name!r} ({info.dtype}{list(info.shape)}) needs {expected:,} bytes "
                            f"but its offsets span {info.nbytes:,}")
        if end > data_size:
            problems.append(f"tensor {name!r} ends at byte {end:,} of the data, past its end ({data_size:,})")
        tensors.append(info)
    problems.extend(_tiling(tensors, data_size))
    findings = [LAYOUT.finding(f"{label}: {text}", file=label) for text in problems[:MAX_LAYOUT_PROBLEMS]]
    if len(problems) > MAX_LAYOUT_PROBLEMS:
        findings.append(LAYOUT.finding(f"{label}: {len(problems) - MAX_LAYOUT_PROBLEMS} more layout "
                                       "problems", file=label))
    if not problems:
        findings.extend(_library_verdict(path, label))
    return ModelFacts(format="safetensors", path=label, size=size, tensors=tuple(tensors),
                      metadata=tuple(sorted((str(k), v) for k, v in metadata.items())),
                      findings=tuple(findings))


def _tiling(tensors: list[TensorInfo], data_size: int) -> list[str]:
    """Overlaps, gaps and trailing bytes: the ranges must tile the data exactly."""
    problems, cursor, previous = [], 0, None
    for tensor in sorted(tensors, key=lambda t: (t.offset, t.nbytes)):
        if tensor.offset < cursor:
            problems.append(f"tensor {tensor.name!r} overlaps {previous!r} (bytes {tensor.offset:,}-"
                            f"{tensor.offset + tensor.nbytes:,} of the data)")
        elif tensor.offset > cursor:
            problems.append(f"{tensor.offset - cursor:,} unaccounted bytes before tensor {tensor.name!r}")
        if tensor.offset + tensor.nbytes >= cursor:
            cursor, previous = tensor.offset + tensor.nbytes, tensor.name
    if cursor < data_size:
        problems.append(f"{data_size - cursor:,} trailing bytes after the last tensor")
    return problems


def _library_verdict(path: Path, label: str) -> list:
    """The safetensors library's own reading of the header (it maps, never loads, the data)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            list(handle.keys())
    except (SafetensorError, OSError, ValueError) as error:
        return [UNREADABLE.finding(f"{label}: the safetensors library refuses the file: "
                                   f"{' '.join(str(error).split())[:300]}", file=label)]
    return []
