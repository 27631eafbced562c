"""GGUF files (llama.cpp, Ollama) read with the gguf library's reader, bounded first.

The fixed header (magic, version, tensor count, key-value count) is read by hand and
each count is compared with what the file could possibly hold, so an absurd count is a
finding rather than a loop over billions of entries. Then ``gguf.GGUFReader`` maps the
file (it never reads the tensor data) and its fields and tensor infos are checked:
alignment, every tensor inside the file, no two tensors sharing bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path

from modelgate.core.formats.interface import FormatError, ModelFacts, TensorInfo
from modelgate.core.formats.rules import LAYOUT

MAGIC = b"GGUF"
#: The smallest possible tensor info (empty name, no dims, type, offset) and key-value pair.
_MIN_TENSOR_INFO = 8 + 4 + 4 + 8
_MIN_KV = 8 + 4 + 1
#: Metadata values are shown up to this many characters; arrays by their length.
_SHOWN = 200
MAX_LAYOUT_PROBLEMS = 10


def _counts(path: Path, size: int, label: str) -> None:
    if size < 24:
        raise FormatError(f"{label} is {size} bytes long, too short for a GGUF header")
    with open(path, "rb") as stream:
        magic, version, tensors, kvs = struct.unpack("<4sIQQ", stream.read(24))
    if magic != MAGIC:
        raise FormatError(f"{label} does not start with the GGUF magic")
    if version not in (2, 3):
        raise FormatError(f"{label} is GGUF version {version}; versions 2 and 3 are read")
    if tensors * _MIN_TENSOR_INFO > size or kvs * _MIN_KV > size:
        raise FormatError(f"{label} claims {tensors:,} tensors and {kvs:,} metadata entries; a "
                          f"{size:,}-byte file cannot hold that many")


def _value(field) -> str:
    """A metadata field as text: strings and numbers as they are, arrays by their length."""
    from gguf import GGUFValueType

    kind = field.types[0] if field.types else None
    if kind == GGUFValueType.ARRAY:
        return f"[{len(field.data)} items]"
    if not field.data:
        return ""
    part = field.parts[field.data[0]]
    if kind == GGUFValueType.STRING:
        return bytes(part).decode("utf-8", errors="replace")[:_SHOWN]
    return str(part[0]) if len(part) else ""


def _tensor_problems(tensors, size: int, alignment: int) -> list[str]:
    problems, cursor, previous = [], 0, None
    for tensor in sorted(tensors, key=lambda t: int(t.data_offset)):
        start, length = int(tensor.data_offset), int(tensor.n_bytes)
        if start % alignment:
            problems.append(f"tensor {tensor.name!r} starts at byte {start:,}, not a multiple of the "
                            f"alignment {alignment}")
        if start + length > size:
            problems.append(f"tensor {tensor.name!r} ends at byte {start + length:,}, past the end "
                            f"of the file ({size:,})")
        if start < cursor:
            problems.append(f"tensor {tensor.name!r} overlaps {previous!r}")
        if start + length > cursor:
            cursor, previous = start + length, tensor.name
    return problems


def read_file(path: Path, *, label: str) -> ModelFacts:
    """The facts of a GGUF file: metadata, tensors and their quantisation types, layout findings."""
    size = path.stat().st_size
    _counts(path, size, label)
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path), "r")
    except (ValueError, IndexError, KeyError, OverflowError, TypeError, struct.error, OSError, MemoryError) as error:
        raise FormatError(f"{label} is not a readable GGUF file ({error.__class__.__name__}: "
                          f"{' '.join(str(error).split())[:160]})") from None
    metadata = tuple((name, _value(field)) for name, field in reader.fields.items()
                     if not name.startswith("GGUF."))
    alignment = int(dict(metadata).get("general.alignment") or 32)
    tensors = tuple(TensorInfo(t.name, t.tensor_type.name, tuple(int(d) for d in reversed(t.shape.tolist())),
                               int(t.n_bytes), int(t.data_offset)) for t in reader.tensors)
    problems = _tensor_problems(reader.tensors, size, alignment)
    if reader.data_offset % alignment:
        problems.insert(0, f"the tensor data starts at byte {reader.data_offset:,}, not a multiple of "
                           f"the alignment {alignment}")
    findings = [LAYOUT.finding(f"{label}: {text}", file=label) for text in problems[:MAX_LAYOUT_PROBLEMS]]
    return ModelFacts(format="gguf", path=label, size=size, tensors=tensors, metadata=metadata,
                      findings=tuple(findings))
