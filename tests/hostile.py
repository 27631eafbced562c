"""Builders of hostile inputs for the bundle reader tests.

Everything here writes real archives and manifests with the standard library
(zipfile, tarfile), exactly as an attacker could, so the tests exercise the
same bytes a malicious bundle would carry.
"""

from __future__ import annotations

import io
import stat
import struct
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One archive entry.

    ``kind`` is one of ``file``, ``dir``, ``symlink``, ``hardlink``, ``chr``,
    ``blk``, ``fifo``. For links, ``target`` is the link target; for files,
    ``data`` is the content (or ``size`` bytes of zeros when ``data`` is None).
    """

    name: str
    kind: str = "file"
    data: bytes | None = None
    target: str = ""
    size: int = 0
    mode: int | None = None


def file(name: str, data: bytes | str = b"") -> Entry:
    return Entry(name, "file", data.encode() if isinstance(data, str) else data)


def zeros(name: str, size: int) -> Entry:
    """A file of ``size`` zero bytes, streamed (never held in memory)."""
    return Entry(name, "file", None, size=size)


def directory(name: str) -> Entry:
    return Entry(name, "dir")


def symlink(name: str, target: str) -> Entry:
    return Entry(name, "symlink", target=target)


def hardlink(name: str, target: str) -> Entry:
    return Entry(name, "hardlink", target=target)


def device(name: str, kind: str = "chr") -> Entry:
    return Entry(name, kind)


def bundle_entries(folder: Path, prefix: str = "") -> list[Entry]:
    """The files of a bundle folder as archive entries (optionally under ``prefix/``)."""
    entries = []
    if prefix:
        entries.append(directory(prefix.rstrip("/") + "/"))
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        name = f"{prefix.rstrip('/')}/{rel}" if prefix else rel
        if path.is_dir():
            entries.append(directory(name + "/"))
        else:
            entries.append(file(name, path.read_bytes()))
    return entries


class _Zeros(io.RawIOBase):
    """A readable stream of ``size`` zero bytes."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


# --------------------------------------------------------------------------- zip


def write_zip(path: Path, entries: list[Entry], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Write ``entries`` into a zip archive, duplicates and hostile names included."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is exactly what some tests want
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for entry in entries:
                info = zipfile.ZipInfo(entry.name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = compression
                if entry.kind == "dir":
                    info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                    zf.writestr(info, b"")
                elif entry.kind == "symlink":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    info.create_system = 3  # Unix
                    zf.writestr(info, entry.target.encode())
                elif entry.kind == "fifo":
                    info.external_attr = (stat.S_IFIFO | 0o644) << 16
                    info.create_system = 3
                    zf.writestr(info, b"")
                elif entry.kind == "file":
                    info.external_attr = (stat.S_IFREG | (entry.mode or 0o644)) << 16
                    info.create_system = 3
                    if entry.data is not None:
                        zf.writestr(info, entry.data)
                    else:
                        with zf.open(info, "w", force_zip64=entry.size > 2**31) as out:
                            chunk = bytes(MIB)
                            left = entry.size
                            while left:
                                out.write(chunk[: min(MIB, left)])
                                left -= min(MIB, left)
                else:
                    raise ValueError(f"zip cannot hold a {entry.kind}")
    return path


def patch_zip_sizes(path: Path, *, uncompressed: int) -> None:
    """Make every header of a (non-zip64) archive lie about the uncompressed size.

    Both the local header and the central directory entry are rewritten, so the
    archive looks consistent to anything that trusts the headers.
    """
    data = bytearray(path.read_bytes())
    offset = 0
    while (offset := data.find(b"PK\x03\x04", offset)) != -1:
        struct.pack_into("<I", data, offset + 22, uncompressed)
        offset += 4
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        struct.pack_into("<I", data, offset + 24, uncompressed)
        offset += 4
    path.write_bytes(bytes(data))


# --------------------------------------------------------------------------- tar


def write_tar(path: Path, entries: list[Entry], *, compression: str = "") -> Path:
    """Write ``entries`` into a tar archive; ``compression`` is "" or "gz"."""
    mode = f"w:{compression}" if compression else "w"
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tf:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mtime = 1_700_000_000
            info.mode = entry.mode or 0o644
            fileobj = None
            if entry.kind == "file":
                info.type = tarfile.REGTYPE
                if entry.data is not None:
                    info.size = len(entry.data)
                    fileobj = io.BytesIO(entry.data)
                else:
                    info.size = entry.size
                    fileobj = io.BufferedReader(_Zeros(entry.size), buffer_size=MIB)
            elif entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
            elif entry.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = entry.target
            elif entry.kind == "chr":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = 1, 3  # /dev/null
            elif entry.kind == "blk":
                info.type = tarfile.BLKTYPE
                info.devmajor, info.devminor = 8, 0
            elif entry.kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                raise ValueError(entry.kind)
            tf.addfile(info, fileobj)
    return path


def write_archive(path: Path, entries: list[Entry]) -> Path:
    """Write ``entries`` in the format named by ``path``'s suffix."""
    name = path.name
    if name.endswith(".zip"):
        return write_zip(path, entries)
    if name.endswith((".tar.gz", ".tgz")):
        return write_tar(path, entries, compression="gz")
    if name.endswith(".tar"):
        return write_tar(path, entries)
    raise ValueError(name)


def truncate(path: Path, *, keep: int | None = None) -> Path:
    """Cut ``path`` to ``keep`` bytes (default: half of it)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 if keep is None else keep])
    return path


def tar_member_boundaries(path: Path) -> list[int]:
    """Byte offsets at which each member's header starts in an uncompressed tar."""
    with tarfile.open(path, "r:") as tf:
        return [m.offset for m in tf.getmembers()]


# --------------------------------------------------------------------------- YAML


def billion_laughs(levels: int = 9, width: int = 10, *, referenced_from: str | None = None) -> str:
    """The classic exponential alias bomb: ``width ** levels`` leaves once expanded.

    The anchors are top-level keys; with ``referenced_from`` (a manifest key
    such as ``description``) the largest level is also used as that key's value,
    where a validator would look at it.
    """
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*lol{level - 1}"] * width)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    if referenced_from:
        lines.append(f"{referenced_from}: *lol{levels}")
    return "\n".join(lines) + "\n"


def deep_nesting(depth: int = 100_000) -> str:
    """``[[[[...]]]]``: a flow sequence nested ``depth`` times."""
    return "[" * depth + "]" * depth + "\n"


# --------------------------------------------------------------------------- checks


def leftover_extractions(folder: Path) -> list[str]:
    """Extraction folders (``modelgate-bundle-*``) still present in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("modelgate-bundle-"))
