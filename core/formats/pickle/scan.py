"""Scan a PyTorch or pickle checkpoint statically, in every form ``torch.save`` and joblib write.

Forms: a bare pickle stream (``.pkl``, joblib, legacy ``torch.save``: several pickles then
raw storage bytes), a compressed one (joblib's ``compress=``), a zip archive (``torch.save``
since 1.6: ``<name>/data.pkl`` plus one ``<name>/data/<key>`` entry per storage, possibly
more pickles or archives inside) and the legacy tar form (``sys_info``, ``pickle``,
``storages``, ``tensors`` members). Each pickle stream is read once, by our opcode walk
(core/formats/pickle/opcodes.py); picklescan, the reference scanner, judges the imports that
walk found (core/formats/pickle/reference.py). Nothing is ever unpickled.
"""

from __future__ import annotations

import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from modelgate.core.formats.pickle import compressed, legacy, reference
from modelgate.core.formats.pickle.opcodes import PickleLimit, Walk, is_opcode, walk_all
from modelgate.core.formats.pickle.source import Source

#: Members of a zip or tar checkpoint: torch.save writes one per storage (tensor), and no
#: single checkpoint file approaches this many; a zip bomb of tiny members does.
MAX_MEMBERS = 16_384
#: A member that inflates more than this many times its stored size is treated as a zip bomb
#: (torch.save stores members uncompressed; a pickle compresses perhaps 10x).
MAX_RATIO = 200
#: ... once it inflates beyond this many bytes (small members compress well and harmlessly).
RATIO_FLOOR = 16 * 1024 * 1024
#: Archives inside archives: torch.save nests none; a checkpoint zipped once more is fine.
MAX_ARCHIVE_DEPTH = 2
_TAR_PICKLES = {"sys_info", "pickle", "storages", "tensors"}
#: Tar members that interleave pickles with raw bytes, each read by its own layout.
_LEGACY_READERS = {"storages": legacy.storages, "tensors": legacy.tensors}
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".dat", ".data")
_PICKLE_MAGIC = {b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class Scan:
    """Everything a scan found in one checkpoint file."""

    form: str                                   # "pickle", "compressed", "zip" or "tar"
    walk: Walk = field(default_factory=Walk)
    streams: list[str] = field(default_factory=list)        # the pickle streams scanned
    storage_sizes: dict[str, int] = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)         # what could not be scanned, and why
    scanner_dangerous: list[str] = field(default_factory=list)


def _scan_stream(source: Source, name: str, scan: Scan, *, lenient: bool = False, reader=walk_all) -> None:
    """Walk every pickle in ``source`` with ``reader``. ``lenient``: bytes that merely open like a
    pickle (a storage, an unnamed member) are data unless the walk found an import before it failed."""
    found = Walk(opcodes=scan.walk.opcodes)
    try:
        reader(source, into=found)
        failed = None
    except PickleLimit as limit:
        failed = str(limit)
    if failed and lenient and not found.imports:
        scan.walk.opcodes = found.opcodes
        return
    scan.streams.append(name)
    scan.walk.imports.update(found.imports)
    scan.walk.storages.extend(found.storages)
    scan.walk.opcodes = found.opcodes
    scan.walk.protocol = max(scan.walk.protocol, found.protocol)
    scan.walk.arrays += found.arrays
    if failed:
        scan.limits.append(f"{name}: {failed}")


def _declared_members(raw) -> int | None:
    """How many members a zip's end record declares, read before zipfile builds its list."""
    raw.seek(0, 2)
    size = raw.tell()
    raw.seek(max(0, size - 65_557))
    tail = raw.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    count = struct.unpack_from("<H", tail, at + 10)[0]
    locator = tail.rfind(b"PK\x06\x07", 0, at)
    if count == 0xFFFF and locator >= 0 and len(tail) - locator >= 20:
        record = struct.unpack_from("<Q", tail, locator + 8)[0]
        raw.seek(record)
        head = raw.read(56)
        if len(head) == 56 and head[:4] == b"PK\x06\x06":
            count = struct.unpack_from("<Q", head, 32)[0]
    return count


def _member_source(archive: zipfile.ZipFile, raw, member: zipfile.ZipInfo) -> Source:
    """A stored member straight from the file (so payloads are skipped by seeking), else inflated."""
    if member.compress_type == zipfile.ZIP_STORED and not member.flag_bits & 0x1 and member.header_offset >= 0:
        raw.seek(member.header_offset)
        header = raw.read(30)
        if len(header) == 30 and header[:4] == b"PK\x03\x04":
            name_length, extra_length = struct.unpack_from("<HH", header, 26)
            raw.seek(member.header_offset + 30 + name_length + extra_length)
            return Source(raw, size=member.file_size, seekable=True)
    return Source(archive.open(member), size=member.file_size, seekable=False)


def _zip(path_or_stream, scan: Scan, *, prefix: str = "", depth: int = 0) -> None:
    with zipfile.ZipFile(path_or_stream) as archive:
        raw = archive.fp
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:   # an archive inside the file: its list is already read
            scan.limits.append(f"{prefix}the archive holds {len(members):,} members, above {MAX_MEMBERS:,}")
            return
        declared = sum(member.file_size for member in members)
        archive_size = raw.seek(0, 2)
        if declared > max(RATIO_FLOOR, MAX_RATIO * archive_size):
            scan.limits.append(f"{prefix}the archive declares {declared:,} bytes uncompressed in "
                               f"{archive_size:,} (a zip bomb?); it was not opened")
            return
        for member in members:
            if member.is_dir():
                continue
            name = prefix + member.filename
            inflated = member.file_size
            if inflated > RATIO_FLOOR and inflated > MAX_RATIO * max(member.compress_size, 1):
                scan.limits.append(f"{name} inflates from {member.compress_size:,} to "
                                   f"{inflated:,} bytes (a zip bomb?)")
                continue
            parts = member.filename.split("/")
            if len(parts) >= 2 and parts[-2] == "data":
                scan.storage_sizes[parts[-1]] = inflated
            try:
                _member(archive, raw, member, name, scan, depth)
            except (RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                # encrypted, a compression zipfile cannot read, a bad CRC, a broken archive inside
                scan.limits.append(f"{name} cannot be read ({error.__class__.__name__}: "
                                   f"{' '.join(str(error).split())[:120]})")
        if not scan.streams and not scan.limits and depth == 0:
            scan.limits.append("the archive holds no pickle; it is not a torch.save archive")


def _member(archive, raw, member, name: str, scan: Scan, depth: int) -> None:
    """One zip member: a pickle by name is walked strictly; by content, leniently; archives recurse."""
    named = member.filename.lower().endswith(_PICKLE_SUFFIXES)
    source = _member_source(archive, raw, member)
    head = source.peek(4)
    if named or head[:2] in _PICKLE_MAGIC:
        _scan_stream(source, name, scan, lenient=not named)
    elif head.startswith(_ZIP_MAGIC):
        if depth >= MAX_ARCHIVE_DEPTH:
            scan.limits.append(f"{name}: archives nested more than {MAX_ARCHIVE_DEPTH} deep")
            return
        with archive.open(member) as inner:
            _zip(inner, scan, prefix=name + "!", depth=depth + 1)


def _tar(path: Path, scan: Scan) -> None:
    with tarfile.open(path, mode="r:") as archive:
        count = 0
        for member in archive:
            count += 1
            if count > MAX_MEMBERS:
                scan.limits.append(f"the archive holds more than {MAX_MEMBERS:,} members")
                return
            if not member.isfile():
                continue
            stream = archive.extractfile(member)
            source = Source(stream, size=member.size, seekable=True)
            named = member.name in _TAR_PICKLES or member.name.endswith(_PICKLE_SUFFIXES)
            if named or source.peek(2) in _PICKLE_MAGIC:
                reader = _LEGACY_READERS.get(member.name, walk_all)
                _scan_stream(source, member.name, scan, lenient=not named, reader=reader)


def form_of(head: bytes, path: Path) -> str | None:
    """``"zip"``, ``"tar"``, ``"pickle"`` or ``"compressed"`` when the file is a checkpoint in that form."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    kind = compressed.kind_of(head)
    if kind is not None and _inflates_to_pickle(path, kind):
        return "compressed"
    if head and is_opcode(head[0]) and path.suffix.lower() in (".pkl", ".pickle", ".joblib"):
        return "pickle"  # protocol 0 and 1 pickles have no header: any opcode may come first
    if tarfile.is_tarfile(path):
        return "tar"
    return None


def _inflates_to_pickle(path: Path, kind: str) -> bool:
    try:
        with open(path, "rb") as stream:
            head = compressed.Inflating(stream, kind=kind, compressed=path.stat().st_size).read(2)
    except (PickleLimit, OSError):
        return False
    return head in _PICKLE_MAGIC


def too_many_members(path: Path) -> int | None:
    """The member count a zip declares when it is above :data:`MAX_MEMBERS` (read from its end
    record, before anything lists the members), else ``None``."""
    with open(path, "rb") as raw:
        declared = _declared_members(raw)
    return declared if declared is not None and declared > MAX_MEMBERS else None


def _zip_file(path: Path, scan: Scan) -> None:
    declared = too_many_members(path)
    if declared is not None:
        scan.limits.append(f"the archive declares {declared:,} members, above {MAX_MEMBERS:,}; "
                           "it was not opened")
        return
    _zip(path, scan)


def scan_file(path: Path, *, form: str) -> Scan:
    """Scan the checkpoint at ``path`` in ``form``; never loads it.

    Raises ``zipfile.BadZipFile``, ``tarfile.TarError`` or ``OSError`` for an archive that
    cannot be opened at all.
    """
    scan = Scan(form)
    if form == "zip":
        _zip_file(path, scan)
    elif form == "tar":
        _tar(path, scan)
    else:
        size = path.stat().st_size
        with open(path, "rb", buffering=0) as stream:
            if form == "compressed":
                kind = compressed.kind_of(stream.read(8)) or "zlib"
                source = Source(compressed.Inflating(stream, kind=kind, compressed=size), size=None,
                                seekable=False)
            else:
                source = Source(stream, size=size, seekable=True)
            _scan_stream(source, path.name, scan)
    imports = [parts for parts in scan.walk.imports.values() if parts is not None]
    scan.scanner_dangerous = reference.dangerous(imports, label=path.name)
    return scan
