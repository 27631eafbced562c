"""Safe extraction of archived bundles (.zip, .tar, .tar.gz) into a private folder.

Every entry is checked before anything is written: absolute paths, ``..``
parts, links that leave the archive, device files and FIFOs are refused, and
the number of entries and the bytes written are capped (counted as they are
written, not trusted from headers). Nothing is ever written outside the
destination folder, which the caller creates with mode 0700.
"""

from __future__ import annotations

import os
import posixpath
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

from modelgate.core import settings
from modelgate.core.errors import BundleError, UnsafeBundleError
from modelgate.core.progress import Progress

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
#: Deeper paths are refused: no bundle needs them, and tools that walk them recursively fail.
MAX_DEPTH = 64
#: Below this many bytes expanded, the expansion ratio is not checked.
RATIO_FLOOR = 16 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps applied while extracting; defaults come from :mod:`modelgate.core.settings`."""

    max_entries: int
    max_bytes: int
    max_ratio: int = 200
    max_member_bytes: int = 32 * 1024**3
    max_header_bytes: int = 1024**2

    @classmethod
    def from_settings(cls) -> ArchiveLimits:
        return cls(
            max_entries=settings.get(settings.MAX_ARCHIVE_ENTRIES),
            max_bytes=settings.get(settings.MAX_ARCHIVE_BYTES),
            max_ratio=settings.get(settings.MAX_ARCHIVE_RATIO),
            max_member_bytes=settings.get(settings.MAX_ARCHIVE_MEMBER_BYTES),
            max_header_bytes=settings.get(settings.MAX_ARCHIVE_HEADER_BYTES),
        )


def is_archive(path: Path) -> bool:
    """Whether ``path`` names an archive format ModelGate reads."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def safe_member_name(name: str, *, archive: Path) -> str:
    """Normalise an entry name, refusing absolute paths and ``..`` parts."""
    cleaned = name.replace("\\", "/")
    if "\x00" in cleaned:  # no file system takes a NUL in a name; tar headers can hold one
        raise UnsafeBundleError(
            f"{archive.name}: entry {name[:80]!r} has a NUL character in its name",
            hint="Rebuild the archive from the bundle folder.",
            rule="MG120",
        )
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise UnsafeBundleError(
            f"{archive.name}: entry {name!r} has an absolute path",
            hint="Archive the bundle folder with relative paths (e.g. `tar -C parent -czf b.tar.gz bundle`).",
            rule="MG120",
        )
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if len(parts) > MAX_DEPTH:
        raise UnsafeBundleError(
            f"{archive.name}: entry {name[:80]!r}… is nested more than {MAX_DEPTH} folders deep",
            hint="A bundle's layout is a few levels deep; rebuild the archive.", rule="MG120")
    if ".." in parts:
        raise UnsafeBundleError(
            f"{archive.name}: entry {name!r} climbs out of the archive with '..'",
            hint="Refusing to extract it; rebuild the archive from the bundle folder.",
            rule="MG120",
        )
    return "/".join(parts)


def _link_target_inside(member_name: str, target: str) -> bool:
    if target.startswith("/") or "\\" in target:
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member_name), target))
    return not (resolved == ".." or resolved.startswith("../") or resolved.startswith("/"))


def _refuse_link(archive: Path, name: str, target: str) -> UnsafeBundleError:
    return UnsafeBundleError(
        f"{archive.name}: entry {name!r} is a link to {target!r}, outside the bundle",
        hint="Replace the link by the file itself.",
        rule="MG121",
    )


class _Budget:
    def __init__(self, archive: Path, limits: ArchiveLimits, progress: Progress) -> None:
        self.archive, self.limits, self.progress = archive, limits, progress
        self.entries = 0
        self.bytes = 0
        self.packed = max(1, archive.stat().st_size)

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise UnsafeBundleError(
                f"{self.archive.name} has more than {self.limits.max_entries} entries",
                hint="Raise MODELGATE_MAX_ARCHIVE_ENTRIES if this bundle is genuine.",
                rule="MG122",
            )

    def spend(self, amount: int) -> None:
        self.bytes += amount
        if self.bytes > self.limits.max_bytes:
            raise UnsafeBundleError(
                f"{self.archive.name} expands to more than {self.limits.max_bytes} bytes",
                hint="Raise MODELGATE_MAX_ARCHIVE_BYTES if this bundle is genuine.",
                rule="MG122",
            )
        if self.bytes > RATIO_FLOOR and self.bytes > self.limits.max_ratio * self.packed:
            raise UnsafeBundleError(
                f"{self.archive.name} expands more than {self.limits.max_ratio} times its size "
                f"({self.packed} bytes packed, over {self.bytes} unpacked so far): an archive bomb",
                hint="Model weights do not compress like that; raise MODELGATE_MAX_ARCHIVE_RATIO "
                     "if this bundle is genuine.",
                rule="MG122",
            )
        self.progress.advance(amount)

    def member(self, name: str, size: int, packed: int | None = None) -> None:
        """Refuse a member whose header (or whose bytes so far) cross a per-member limit.

        ``packed`` is the member's compressed size where the format records it (zip): the
        bytes actually read for it, so its ratio is checked against what is on disk.
        """
        if size > self.limits.max_member_bytes:
            raise UnsafeBundleError(
                f"{self.archive.name}: entry {name!r} expands to more than "
                f"{self.limits.max_member_bytes} bytes",
                hint="Raise MODELGATE_MAX_ARCHIVE_MEMBER_BYTES if this bundle is genuine.",
                rule="MG122")
        if packed is not None and size > RATIO_FLOOR and size > self.limits.max_ratio * max(packed, 1):
            raise UnsafeBundleError(
                f"{self.archive.name}: entry {name!r} expands more than {self.limits.max_ratio} "
                f"times its packed size ({packed} bytes packed, {size} unpacked): an archive bomb",
                hint="Model weights do not compress like that; raise MODELGATE_MAX_ARCHIVE_RATIO "
                     "if this bundle is genuine.",
                rule="MG122")

    def header(self, name: str, kind: str, size: int) -> None:
        if size > self.limits.max_header_bytes:
            raise UnsafeBundleError(
                f"{self.archive.name}: {kind} of {size} bytes (entry {name[:80]!r}) is larger than "
                f"the {self.limits.max_header_bytes}-byte limit for headers",
                hint="A bundle's paths and metadata are short; raise MODELGATE_MAX_ARCHIVE_HEADER_BYTES "
                     "if this bundle is genuine.",
                rule="MG122")


def _copy(src, dest: Path, budget: _Budget, *, name: str = "", packed: int | None = None) -> int:
    """Stream ``src`` into the new file ``dest``, charging every byte to the budgets: the
    archive's, and this member's own size and ratio (checked as the bytes arrive, so a
    header that lies about them gains nothing)."""
    written = 0
    with open(dest, "xb") as out:
        while chunk := src.read(_CHUNK):
            budget.spend(len(chunk))
            written += len(chunk)
            budget.member(name or dest.name, written, packed)
            out.write(chunk)
    return written


def _read_link(src, budget: _Budget, archive: Path, name: str) -> str:
    raw = src.read(4097)
    budget.spend(len(raw))
    link = raw.decode("utf-8", "replace")
    if len(raw) > 4096 or "\x00" in link:
        raise _refuse_link(archive, name, link[:80])
    return link


def _extract_zip(archive: Path, dest: Path, budget: _Budget) -> None:
    import zipfile

    _zip_directory_fits(archive, budget)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:  # headers first: nothing is written for an archive that lies up front
            budget.member(info.filename, info.file_size, info.compress_size)
        budget.progress.start(label="extracting", total=sum(i.file_size for i in infos))
        links: list[tuple[str, str]] = []
        for info in infos:
            budget.entry()
            name = safe_member_name(info.filename, archive=archive)
            if not name:
                continue
            mode = info.external_attr >> 16
            target = dest / name
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if stat.S_ISLNK(mode):
                with zf.open(info) as src:
                    link = _read_link(src, budget, archive, info.filename)
                if not _link_target_inside(name, link):
                    raise _refuse_link(archive, info.filename, link)
                links.append((name, link))
                continue
            # Many zip writers store permission bits without a file type: that is a file.
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise UnsafeBundleError(
                    f"{archive.name}: entry {info.filename!r} is not a regular file",
                    rule="MG121",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                written = _copy(src, target, budget, name=info.filename, packed=info.compress_size)
            if written != info.file_size:
                raise BundleError(f"{archive.name}: entry {info.filename!r} holds {written} bytes "
                                  f"but its header says {info.file_size}",
                                  hint="The archive is corrupt; rebuild it.")
        _materialise_links(dest, links, archive, budget)


def _zip_directory_fits(archive: Path, budget: _Budget) -> None:
    """Read the zip's end record alone and refuse a central directory that is too large or
    counts too many entries, before zipfile loads the whole directory into memory."""
    import zipfile

    with open(archive, "rb") as handle:
        end = zipfile._EndRecData(handle)  # the stdlib's own reader of the end record
    if end is None:
        return  # not a zip: zipfile reports it
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > budget.limits.max_entries:
        raise UnsafeBundleError(
            f"{archive.name} has more than {budget.limits.max_entries} entries ({entries})",
            hint="Raise MODELGATE_MAX_ARCHIVE_ENTRIES if this bundle is genuine.", rule="MG122")
    budget.header("central directory", "the central directory", size)


def _bounded_tarinfo(budget: _Budget):
    """A TarInfo class that refuses an oversized PAX or GNU long-name record before tarfile
    reads it whole into memory (it would buffer a 1 GB "name")."""
    import tarfile

    big_records = {tarfile.GNUTYPE_LONGNAME: "a GNU long-name record",
                   tarfile.GNUTYPE_LONGLINK: "a GNU long-link record",
                   tarfile.XHDTYPE: "a PAX header", tarfile.XGLTYPE: "a PAX global header",
                   tarfile.SOLARIS_XHDTYPE: "a PAX header"}

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tarfile_):
            if self.type in big_records:
                budget.header(self.name, big_records[self.type], self.size)
            elif self.isreg():
                budget.member(self.name, self.size)
            return super()._proc_member(tarfile_)

    return BoundedTarInfo


def _extract_tar(archive: Path, dest: Path, budget: _Budget) -> None:
    import tarfile

    with tarfile.open(archive, mode="r:*", tarinfo=_bounded_tarinfo(budget)) as tf:
        budget.progress.start(label="extracting", total=0)
        links: list[tuple[str, str]] = []
        for member in tf:
            budget.entry()
            name = safe_member_name(member.name, archive=archive)
            if not name:
                continue
            target = dest / name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.issym():
                if "\x00" in member.linkname or not _link_target_inside(name, member.linkname):
                    raise _refuse_link(archive, member.name, member.linkname)
                links.append((name, member.linkname))
            elif member.islnk():
                # Hard-link targets are archive paths, not relative to the member.
                try:
                    link_name = safe_member_name(member.linkname, archive=archive)
                except UnsafeBundleError:
                    raise _refuse_link(archive, member.name, member.linkname) from None
                rel = posixpath.relpath(link_name, posixpath.dirname(name) or ".")
                links.append((name, rel))
            elif member.isreg():
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(member)
                _copy(src, target, budget, name=member.name)
            else:
                raise UnsafeBundleError(
                    f"{archive.name}: entry {member.name!r} is a device, FIFO or other special file",
                    hint="A bundle holds only folders and regular files.",
                    rule="MG121",
                )
        _require_end_marker(tf, archive)
        _materialise_links(dest, links, archive, budget)


def _require_end_marker(tf: tarfile.TarFile, archive: Path) -> None:
    """tarfile stops quietly at a missing end-of-archive block; a cut archive must not pass."""
    import tarfile

    tf.fileobj.seek(tf.offset)
    if tf.fileobj.read(tarfile.BLOCKSIZE) != tarfile.NUL * tarfile.BLOCKSIZE:
        raise BundleError(f"{archive.name} is truncated (no end-of-archive marker)",
                          hint="Rebuild the archive from the bundle folder.")


def _materialise_links(dest: Path, links: list[tuple[str, str]], archive: Path,
                       budget: _Budget) -> None:
    """Turn in-archive links into plain copies, so later reads never follow a link.

    The copies count against the byte budget, so thousands of links to one large
    file cannot fill the disk.
    """
    root = dest.resolve()
    for name, link in links:
        source = (dest / posixpath.dirname(name) / link).resolve()
        if not source.is_relative_to(root) or not source.is_file():
            raise _refuse_link(archive, name, link)
        target = dest / name
        if target.exists() or target.is_symlink():
            raise UnsafeBundleError(f"{archive.name} holds the same path twice ({name})", rule="MG120")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as src:
            _copy(src, target, budget)


def extract(archive: Path, dest: Path, *, limits: ArchiveLimits, progress: Progress) -> None:
    """Extract ``archive`` into the empty folder ``dest`` after checking every entry."""
    import tarfile  # only archives pay for these
    import zipfile

    budget = _Budget(archive, limits, progress)
    try:
        if archive.name.lower().endswith(".zip"):
            _extract_zip(archive, dest, budget)
        else:
            _extract_tar(archive, dest, budget)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise BundleError(f"{archive.name} is not a readable zip archive ({exc})",
                          hint="The file may be truncated or corrupt; rebuild it.") from None
    except tarfile.TarError as exc:
        reason = (str(exc).splitlines() or ["unexpected end"])[0]
        raise BundleError(f"{archive.name} is not a readable tar archive ({reason})",
                          hint="The file may be truncated or corrupt; rebuild it.") from None
    except (EOFError, zlib.error) as exc:
        raise BundleError(f"{archive.name} is truncated or corrupt ({exc})",
                          hint="Rebuild the archive from the bundle folder.") from None
    except FileExistsError as exc:
        where = Path(exc.filename).relative_to(dest) if exc.filename else "an entry"
        raise UnsafeBundleError(f"{archive.name} holds the same path twice ({where})",
                                rule="MG120") from None
    except OSError as exc:
        raise BundleError(f"could not extract {archive.name}: {exc.strerror or exc}") from None
    os.chmod(dest, 0o700)
