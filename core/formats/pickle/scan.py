"""Scan a PyTorch or pickle checkpoint statically, in every form ``torch.save`` and joblib write.

Forms: a bare pickle stream (``.pkl``, joblib, legacy ``torch.save``: several pickles then
raw storage bytes), a zip archive (``torch.save`` since 1.6: ``<name>/data.pkl`` plus one
``<name>/data/<key>`` entry per storage) and the legacy tar form (``sys_info``, ``pickle``,
``storages``, ``tensors`` members). Each pickle stream is walked by our opcode walk
(core/formats/pickle/opcodes.py) and by picklescan, the reference scanner; the two verdicts
are merged. Nothing is ever unpickled.
"""

from __future__ import annotations

import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from modelgate.core.formats.pickle.opcodes import Bounded, PickleLimit, Walk, walk_all

#: Members of a zip or tar checkpoint; real ones hold one entry per storage, far fewer.
MAX_MEMBERS = 200_000
#: A member that inflates more than this many times its stored size is treated as a zip bomb
#: (torch.save stores members uncompressed; a pickle compresses perhaps 10x).
MAX_RATIO = 200
#: ... once it inflates beyond this many bytes (small members compress well and harmlessly).
RATIO_FLOOR = 16 * 1024 * 1024
_TAR_PICKLES = {"sys_info", "pickle", "storages", "tensors"}
#: picklescan keeps every opcode of a stream in a list (about 50 bytes of memory per byte of
#: pickle), so its memory grows with the stream; above this size only our own walk (constant
#: memory) reads it. A state dict's data.pkl is a few MB: the tensors live in the storages.
REFERENCE_LIMIT = 8 * 1024 * 1024


@dataclass
class Scan:
    """Everything a scan found in one checkpoint file."""

    form: str                                   # "pickle", "zip" or "tar"
    walk: Walk = field(default_factory=Walk)
    streams: list[str] = field(default_factory=list)        # the pickle streams scanned
    storage_sizes: dict[str, int] = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)         # what could not be scanned, and why
    scanner_dangerous: list[str] = field(default_factory=list)
    scanner_error: str | None = None
    reference_skipped: list[str] = field(default_factory=list)   # streams too large for picklescan


def _reference_scan(stream, size: int, name: str, scan: Scan) -> None:
    """picklescan's verdict on one stream (its list of dangerous globals)."""
    from picklescan.scanner import SafetyLevel, scan_pickle_bytes

    try:
        result = scan_pickle_bytes(Bounded(stream, size), name)
    except Exception as error:  # the reference scanner may raise anything on hostile input
        scan.scanner_error = f"{name}: {error.__class__.__name__}"
        return
    for found in result.globals:
        if found.safety is SafetyLevel.Dangerous:
            scan.scanner_dangerous.append(f"{found.module}.{found.name}")
    if result.scan_err:
        scan.scanner_error = f"{name}: picklescan could not parse the stream"


def _scan_stream(open_stream, size: int, name: str, scan: Scan) -> None:
    """Our walk first; the reference scanner only on streams that walked cleanly."""
    scan.streams.append(name)
    with open_stream() as stream:
        try:
            spanned = walk_all(Bounded(stream, size), into=scan.walk)
        except PickleLimit as limit:
            scan.limits.append(f"{name}: {limit}")
            return
    if spanned > REFERENCE_LIMIT:
        scan.reference_skipped.append(name)
        return
    with open_stream() as stream:  # only the pickles: the scanner would crawl raw tensor bytes
        _reference_scan(stream, spanned, name, scan)


def _zip(path: Path, scan: Scan) -> None:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            scan.limits.append(f"the archive holds {len(members):,} members, above {MAX_MEMBERS:,}")
            return
        for member in members:
            inflated = member.file_size
            if inflated > RATIO_FLOOR and inflated > MAX_RATIO * max(member.compress_size, 1):
                scan.limits.append(f"{member.filename} inflates from {member.compress_size:,} to "
                                   f"{inflated:,} bytes (a zip bomb?)")
                continue
            parts = member.filename.split("/")
            if len(parts) >= 2 and parts[-2] == "data" and not member.is_dir():
                scan.storage_sizes[parts[-1]] = inflated
            if member.filename.endswith(".pkl"):
                _scan_stream(lambda m=member: archive.open(m), inflated, member.filename, scan)
        if not scan.streams and not scan.limits:
            scan.limits.append("the archive holds no .pkl member; it is not a torch.save archive")


def _tar(path: Path, scan: Scan) -> None:
    with tarfile.open(path, mode="r:") as archive:
        count = 0
        for member in archive:
            count += 1
            if count > MAX_MEMBERS:
                scan.limits.append(f"the archive holds more than {MAX_MEMBERS:,} members")
                return
            if member.isfile() and (member.name in _TAR_PICKLES or member.name.endswith(".pkl")):
                _scan_stream(lambda m=member: archive.extractfile(m), member.size, member.name, scan)


def form_of(head: bytes, path: Path) -> str | None:
    """``"zip"``, ``"tar"`` or ``"pickle"`` when the file is a checkpoint in that form."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if head[:1] in (b"(", b"]", b"}", b"c") and path.suffix.lower() in (".pkl", ".pickle", ".joblib"):
        return "pickle"  # protocol 0 and 1 pickles open with a MARK, a container or a GLOBAL
    if tarfile.is_tarfile(path):
        return "tar"
    return None


def scan_file(path: Path, *, form: str) -> Scan:
    """Scan the checkpoint at ``path`` in ``form``; never loads it.

    Raises ``zipfile.BadZipFile``, ``tarfile.TarError`` or ``OSError`` for an archive that
    cannot be opened at all.
    """
    scan = Scan(form)
    if form == "zip":
        _zip(path, scan)
    elif form == "tar":
        _tar(path, scan)
    else:
        _scan_stream(lambda: open(path, "rb"), path.stat().st_size, path.name, scan)
    return scan
