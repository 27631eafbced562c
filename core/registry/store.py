"""The content-addressed bundle store: one read-only copy of each distinct bundle.

A bundle's digest is the SHA-256 of the canonical JSON ``{relative path: sha256}``
of every file except those under ``signatures/`` (``bundle.yaml`` included), so
two bundles with the same bytes share one digest whatever their folder is called.
A bundle lives at ``<root>/<digest[:2]>/<digest>/``.

Importing copies the bundle into a private folder inside the store, hashes the
copy (so the digest describes exactly what is stored, even if the source changes
meanwhile), makes it read-only and renames it into place. A rename is atomic: a
crash leaves at most an ``.incoming`` folder, never a half bundle at a digest.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..bundle import SIGNATURES, open_bundle
from ..digests import bundle_digest, hash_files
from .. import fsutil
from ..errors import ModelGateError
from ..progress import Progress
from .errors import RegistryError

CHUNK = 4 * 1024 * 1024
INCOMING = ".incoming"


def digest_folder(root: Path, *, progress: Progress | None = None) -> str:
    """The bundle digest of an (unpacked) bundle folder."""
    with open_bundle(root) as bundle:
        files = [f for f in bundle.files() if not f.startswith(SIGNATURES + "/")]
        return bundle_digest(hash_files([(f, bundle.root / f) for f in files], progress=progress))


@dataclass(frozen=True)
class Staged:
    """A bundle copied into the store's incoming area, hashed but not yet in place."""

    folder: Path
    digest: str
    manifest: dict


def _copy(src: Path, dest: Path, progress: Progress) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as reader, open(dest, "wb") as out:
        while chunk := reader.read(CHUNK):
            out.write(chunk)
            progress.advance(len(chunk))
        out.flush()
        os.fsync(out.fileno())


def make_read_only(folder: Path, *, include_top: bool = True) -> None:
    """Remove every write permission below ``folder`` (and on it, if ``include_top``)."""
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
        here = Path(dirpath)
        for name in filenames:
            os.chmod(here / name, 0o444)
        for name in dirnames:
            os.chmod(here / name, 0o555)
    if include_top:
        os.chmod(folder, 0o555)


def remove_tree(folder: Path) -> None:
    """Delete a folder even if it was made read-only."""
    if folder.exists():
        fsutil.remove_tree(folder)


class BundleStore:
    """The store under ``root``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def relative(digest: str) -> str:
        """Where a digest lives, relative to the root (as stored in ``versions.store_path``)."""
        return f"{digest[:2]}/{digest}"

    def path_of(self, relative: str) -> Path:
        """The absolute folder of a stored bundle from its relative store path."""
        return self.root.joinpath(*relative.split("/"))

    def verify(self, digest: str, *, progress: Progress | None = None) -> str | None:
        """Why the stored copy of ``digest`` cannot be trusted, or ``None`` when its bytes match.

        Read-only files stop accidents, not people: a bundle is re-hashed before any
        gate relies on it, so an edit made in the store after import is caught.
        """
        folder = self.path_of(self.relative(digest))
        if not (folder / "bundle.yaml").is_file():
            return f"the stored bundle {digest[:12]}… is missing from {self.root}"
        try:
            actual = digest_folder(folder, progress=progress)
        except ModelGateError as error:
            return f"the stored bundle {digest[:12]}… cannot be read: {error.message}"
        if actual != digest:
            return (f"the stored bundle {digest[:12]}… was changed after import "
                    f"(its bytes now hash to {actual[:12]}…)")
        return None

    def contains(self, digest: str) -> bool:
        return (self.root / digest[:2] / digest / "bundle.yaml").is_file()

    def stage(self, source: Path, *, progress: Progress | None = None) -> Staged:
        """Copy a bundle folder or archive into the incoming area, hash it and read its manifest."""
        from ..manifest import load_manifest

        progress = progress or Progress()
        incoming = self.root / INCOMING
        try:
            incoming.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"could not create the bundle store at {self.root}: {exc.strerror}",
                                hint="Check the folder's permissions, or choose another store.") from None
        folder = Path(tempfile.mkdtemp(prefix="import-", dir=incoming))
        try:
            with open_bundle(source, progress=progress) as bundle:
                files = bundle.files()
                progress.start(label="copying into the store",
                               total=sum(bundle.size(f) for f in files))
                for name in files:
                    _copy(bundle.resolve(name), folder.joinpath(*name.split("/")), progress)
            with open_bundle(folder) as copy:
                covered = [f for f in copy.files() if not f.startswith(SIGNATURES + "/")]
                digest = bundle_digest(hash_files([(f, folder / f) for f in covered], progress=progress))
                manifest = load_manifest(copy).require()
            return Staged(folder=folder, digest=digest, manifest=manifest)
        except BaseException:
            remove_tree(folder)
            raise

    def place(self, staged: Staged) -> tuple[Path, bool]:
        """Move a staged bundle to its digest's folder; return (folder, whether it was new).

        When the digest is already stored the staged copy is dropped instead.
        """
        target = self.root / staged.digest[:2] / staged.digest
        if self.contains(staged.digest):
            if self.verify(staged.digest) is None:
                remove_tree(staged.folder)
                return target, False
            # The stored copy was damaged or edited: the fresh, verified copy replaces it.
            remove_tree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        make_read_only(staged.folder, include_top=False)
        # First beside the target (still writable, so it may move between folders),
        # then read-only, then one rename within the same folder: the atomic step.
        beside = target.parent / f".{staged.digest}.{os.getpid()}.{staged.folder.name}"
        os.rename(staged.folder, beside)
        os.chmod(beside, 0o555)
        try:
            os.rename(beside, target)
        except OSError:
            if not self.contains(staged.digest):
                raise
            remove_tree(beside)  # another process stored the same bytes first
            return target, False
        return target, True

    def discard(self, staged: Staged) -> None:
        """Drop a staged bundle that will not be stored."""
        remove_tree(staged.folder)
