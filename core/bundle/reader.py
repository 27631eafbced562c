"""Opening bundles: a directory, or a .zip / .tar / .tar.gz archive of one.

:func:`open_bundle` returns a :class:`Bundle` whose ``root`` is a real
directory: the folder itself, or a private temporary folder (mode 0700) that
an archive was safely extracted into and that is removed on close. Every file
read goes through :meth:`Bundle.resolve`, which refuses paths that leave the
bundle, so a manifest cannot make ModelGate open ``../../etc/passwd``.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from modelgate.core.bundle.archive import ArchiveLimits, extract, is_archive
from modelgate.core.errors import BundleError, UnsafeBundleError
from modelgate.core.progress import Progress

MANIFEST = "bundle.yaml"
MODEL_CARD = "MODEL_CARD.md"
SIGNATURES = "signatures"


@dataclass
class Bundle:
    """An opened bundle. Use as a context manager so extracted archives are removed."""

    source: Path
    root: Path
    temporary: Path | None = None
    _files: list[str] | None = field(default=None, repr=False)

    @property
    def is_archive(self) -> bool:
        return self.temporary is not None

    def close(self) -> None:
        """Remove the private extraction folder, if any."""
        if self.temporary is not None and self.temporary.exists():
            shutil.rmtree(self.temporary, ignore_errors=True)
            self.temporary = None

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def files(self) -> list[str]:
        """Every regular file in the bundle, as sorted relative POSIX paths."""
        if self._files is None:
            self._files = _scan(self.root)
        return list(self._files)

    def content_files(self) -> list[str]:
        """The files that digests cover: all but ``bundle.yaml`` and ``signatures/``."""
        return [f for f in self.files() if f != MANIFEST and not f.startswith(SIGNATURES + "/")]

    def resolve(self, relative: str) -> Path:
        """The real path of ``relative`` inside the bundle; refuses anything outside it."""
        pure = PurePosixPath(relative.replace("\\", "/"))
        # A NUL ends a path at the operating system's door: no file can have one in its name.
        if "\x00" in relative or pure.is_absolute() or ".." in pure.parts or (relative[1:2] == ":"):
            raise UnsafeBundleError(
                f"path {relative!r} is not inside the bundle",
                hint="Paths in bundle.yaml are relative to the bundle folder, without '..'.",
                rule="MG110",
            )
        candidate = self.root.joinpath(*pure.parts)
        real = candidate.resolve()
        if not real.is_relative_to(self.root.resolve()):
            raise UnsafeBundleError(
                f"path {relative!r} leads outside the bundle (through a link)",
                rule="MG110",
            )
        return candidate

    def read_bytes(self, relative: str, *, limit: int) -> bytes:
        """Read a small file (manifest, card, JSON) with a size cap."""
        path = self.resolve(relative)
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise BundleError(f"{relative} is larger than {limit} bytes",
                              hint="This file is expected to be small; check what it holds.")
        return data

    def size(self, relative: str) -> int:
        return self.resolve(relative).stat().st_size


#: Deeper folders are refused: no bundle needs them, and recursive tools fail on them.
MAX_DEPTH = 64


def _scan(root: Path) -> list[str]:
    real_root = root.resolve()
    found: list[str] = []
    pending = [root]
    while pending:  # iterative: a hostile tree must not exhaust the recursion limit
        here = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError as exc:
            raise BundleError(f"cannot read the folder {here}: {exc.strerror}") from None
        dirnames = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        filenames = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
        depth = len(here.relative_to(root).parts)
        if dirnames and depth >= MAX_DEPTH:
            raise UnsafeBundleError(f"{here.relative_to(root).as_posix()[:80]}… is nested more than "
                                    f"{MAX_DEPTH} folders deep", rule="MG121",
                                    hint="A bundle's layout is a few levels deep.")
        pending.extend(here / name for name in dirnames)
        for name in filenames:
            full = here / name
            rel = full.relative_to(root).as_posix()
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                raise UnsafeBundleError(
                    f"{rel.encode('utf-8', 'surrogateescape')!r} is not a UTF-8 file name",
                    hint="Rename the file: manifests and signatures record names as UTF-8.",
                    rule="MG121") from None
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                target = full.resolve()
                if target.is_dir():
                    raise UnsafeBundleError(
                        f"{rel} is a link to a folder",
                        hint="Bundles may not contain links to folders; copy the folder in.",
                        rule="MG121")
                if not target.is_relative_to(real_root):
                    raise UnsafeBundleError(
                        f"{rel} is a link that leaves the bundle (to {os.readlink(full)})",
                        hint="Replace the link by the file itself.",
                        rule="MG121",
                    )
                if not target.is_file():
                    raise UnsafeBundleError(f"{rel} is a link to something that is not a file",
                                            rule="MG121")
            elif not stat.S_ISREG(info.st_mode):
                raise UnsafeBundleError(
                    f"{rel} is a device, FIFO or socket, not a regular file",
                    hint="A bundle holds only folders and regular files.",
                    rule="MG121",
                )
            found.append(rel)
    found.sort()
    return found


def _find_root(folder: Path) -> Path:
    """The bundle root inside an extracted archive: the top, or its single sub-folder."""
    if (folder / MANIFEST).exists():
        return folder
    entries = [e for e in folder.iterdir() if not e.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return folder


def open_bundle(path: str | os.PathLike, *, progress: Progress | None = None,
                limits: ArchiveLimits | None = None) -> Bundle:
    """Open a bundle directory or archive; raise :class:`BundleError` if it cannot be read."""
    source = Path(path)
    progress = progress or Progress()
    if not source.exists():
        raise BundleError(f"{source}: no such file or folder")
    if source.is_dir():
        # Scanning up front refuses escaping links and special files before any read.
        return Bundle(source=source, root=source, _files=_scan(source))
    if not is_archive(source):
        raise BundleError(
            f"{source} is neither a bundle folder nor a .zip, .tar or .tar.gz archive",
            hint="Pass the folder that holds bundle.yaml, or an archive of it.",
        )
    import tempfile  # only archives need a private folder

    temporary = Path(tempfile.mkdtemp(prefix="modelgate-bundle-"))
    os.chmod(temporary, 0o700)
    try:
        extract(source, temporary, limits=limits or ArchiveLimits.from_settings(), progress=progress)
        root = _find_root(temporary)
        bundle = Bundle(source=source, root=root, temporary=temporary)
        bundle.files()
        return bundle
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
