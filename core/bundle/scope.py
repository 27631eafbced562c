"""What the digests and signatures cover, and which files are models, told by their bytes.

``signatures/`` is left out of every digest and signature (a signature cannot
cover itself), so it may hold signature files and nothing else: a benchmark or
license file kept there, or declared there by ``bundle.yaml``, could be edited
after signing without any check noticing. And a model is a model whatever its
name: a second ``.onnx`` or weights file renamed ``notes.txt`` must still be a
declared artifact, so every file is recognised by its content.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from modelgate.core.bundle.reader import SIGNATURES, Bundle
from modelgate.core.bundle.manifest_types import Manifest

#: Only ``signatures/<signer>.sig`` belongs in signatures/ (what ``modelgate sign`` writes).
SIGNATURE_SUFFIXES = (".sig",)


def is_signature_file(name: str) -> bool:
    """Whether bundle path ``name`` is a signature file as the bundle standard lays them out."""
    parts = name.split("/")
    return len(parts) == 2 and parts[0] == SIGNATURES and parts[1].endswith(SIGNATURE_SUFFIXES) \
        and parts[1] not in SIGNATURE_SUFFIXES


def in_signatures(name: str) -> bool:
    cleaned = name.replace("\\", "/").lstrip("./")
    return cleaned == SIGNATURES or cleaned.startswith(SIGNATURES + "/")


@dataclass(frozen=True)
class ScopeProblem:
    """One breach of the signature scope: ``file`` is the bundle file or the declared path,
    ``path`` the manifest path of the declaration (``None`` for a stray file)."""

    file: str
    path: str | None
    message: str


def _declared_paths(manifest: Manifest):
    """``(manifest path, bundle path)`` for every declaration of a file in ``bundle.yaml``."""
    for artifact in manifest.artifacts:
        if artifact.path is not None:
            yield f"artifacts[{artifact.index}].path", artifact.path
    for key in ("license_files", "benchmarks"):
        for index, item in manifest.indexed(key):
            yield f"{key}[{index}]", item
    for name in manifest.files:
        yield f"files.{name}", name


def signature_scope_problems(bundle: Bundle, manifest: Manifest) -> list[ScopeProblem]:
    """Files under signatures/ that are not signatures, and declarations pointing there."""
    problems = [ScopeProblem(name, None, f"{name} is under {SIGNATURES}/, which holds signature "
                                         "files only; no digest or signature covers it")
                for name in bundle.files() if in_signatures(name) and not is_signature_file(name)]
    problems += [ScopeProblem(value, where, f"{where} names {value}, under {SIGNATURES}/, which no "
                                            "digest or signature covers")
                 for where, value in _declared_paths(manifest) if in_signatures(value)]
    return problems


# ----------------------------------------------------------------------------- content sniffing

#: ModelProto's top-level fields and their wire types (varint 0, length-delimited 2).
_MODEL_PROTO_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}
_GRAPH_FIELD = 7
#: A sniff reads no more than this many top-level fields before giving up.
_MAX_FIELDS = 4096


def _varint(handle) -> int | None:
    value, shift = 0, 0
    while shift < 64:
        byte = handle.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
    return None


def _is_onnx(handle, size: int) -> bool:
    """The whole file parses as a sequence of ModelProto's top-level fields with a graph.

    Only tags and lengths are read (seeking over every payload), so the cost is a few
    reads whatever the file's size, and reordering fields does not hide a model.
    """
    handle.seek(0)
    graph = False
    for _ in range(_MAX_FIELDS):
        if handle.tell() == size:
            return graph
        tag = _varint(handle)
        if tag is None or _MODEL_PROTO_FIELDS.get(tag >> 3) != (tag & 7):
            return False
        if tag & 7 == 0:
            if _varint(handle) is None:
                return False
            continue
        length = _varint(handle)
        if length is None or handle.tell() + length > size:
            return False
        graph |= tag >> 3 == _GRAPH_FIELD and length > 0
        handle.seek(length, 1)
    return False


def _is_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def _is_pickle(head: bytes) -> bool:
    # Protocol 2 and later open with the PROTO opcode and the protocol number.
    return len(head) >= 3 and head[0] == 0x80 and 2 <= head[1] <= 5


def _is_pytorch_zip(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any(n == "data.pkl" or n.endswith("/data.pkl") or n.endswith(".pkl")
                       for n in archive.namelist()[:10_000])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def detect_model_format(path: Path) -> str | None:
    """The model format of the file at ``path`` judged by its bytes, or ``None``:
    ``onnx``, ``safetensors``, ``gguf``, ``tflite``, ``pickle`` or ``pytorch``."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(16)
        if head.startswith(b"GGUF"):
            return "gguf"
        if head[4:8] == b"TFL3":
            return "tflite"
        if _is_safetensors(head, size):
            return "safetensors"
        if _is_pickle(head):
            return "pickle"
        if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
            return "pytorch" if _is_pytorch_zip(path) else None
        if head[:1] in (b"\x08", b"\x12", b"\x1a", b"\x22", b"\x28", b"\x32", b"\x3a", b"\x42") \
                and _is_onnx(handle, size):
            return "onnx"
    return None


def undeclared_models(bundle: Bundle, manifest: Manifest) -> list[tuple[str, str]]:
    """``(file, format)`` for every file whose bytes are a model but that no artifact declares.

    Signature files are left out (they are JSON), and so is ``bundle.yaml``.
    """
    declared = {a.path for a in manifest.artifacts if a.path is not None}
    found = []
    for name in bundle.content_files():
        if name in declared:
            continue
        try:
            fmt = detect_model_format(bundle.resolve(name))
        except OSError:
            continue  # unreadable files are reported by the digest checks
        if fmt is not None:
            found.append((name, fmt))
    return found
