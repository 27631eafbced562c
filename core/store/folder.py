"""The content-addressed bundle store: one read-only copy of each distinct bundle.

A bundle's digest is the SHA-256 of the canonical JSON ``{relative path: sha256}``
of every file except those under ``signatures/`` (``bundle.yaml`` included), so
two bundles with the same bytes share one digest whatever their folder is called.
A bundle lives at ``<root>/<digest[:2]>/<digest>/``.

Importing copies the bundle into a private folder inside the store, hashing each
file as it writes it (so the digest describes exactly what is stored, even if the source changes
meanwhile), makes it read-only and renames it into place. A rename is atomic: a
crash leaves at most an ``.incoming`` folder, never a half bundle at a digest;
:meth:`BundleStore.clean_incoming` removes such leftovers when a registry opens.

Beside the bundles, ``<root>/.files/<digest>.json`` keeps each bundle's file list
``{relative path: sha256}``, in the canonical form whose SHA-256 *is* the digest: the
list proves itself, so an edited list is simply ignored. With it, a damaged copy is
reported file by file (missing, changed, extra) rather than as one wrong digest.
Every read of a stored file through :meth:`BundleStore.open_verified` is hashed as it
streams and refused at its end when the bytes differ from that list.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from modelgate.core.bundle.reader import SIGNATURES, open_bundle
from modelgate.core.bundle.digests import bundle_digest, copy_hashed, hash_files
from modelgate.core import fsutil
from modelgate.core.errors import ModelGateError
from modelgate.core.progress import Progress
from modelgate.core.store.errors import StoreDamaged, StoreError

INCOMING = ".incoming"
LISTINGS = ".files"
#: An import still copying is younger than this, unless its process is gone.
INCOMING_GRACE_SECONDS = 10 * 60

log = logging.getLogger("modelgate.store")


def canonical_listing(digests: dict[str, str]) -> bytes:
    """The canonical JSON of ``{relative path: sha256}`` whose SHA-256 is the bundle digest."""
    covered = {name: value for name, value in digests.items() if not name.startswith(SIGNATURES + "/")}
    return json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class StoreCheck:
    """What re-hashing one stored bundle found: files ``missing``, ``changed`` or ``extra``
    compared with its file list, or a ``problem`` when no file can be named (the folder
    is gone, or no trustworthy file list is kept and the bytes hash to another digest).
    ``hashed`` is ``{file: sha256}`` of what was read, so a caller can use the digests
    instead of reading the files again (``None`` when nothing could be read)."""

    digest: str
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    problem: str | None = None
    hashed: Mapping[str, str] | None = field(default=None, compare=False, repr=False)

    @property
    def intact(self) -> bool:
        return not (self.missing or self.changed or self.extra or self.problem)

    def as_dict(self) -> dict:
        return {"digest": self.digest, "missing": list(self.missing), "changed": list(self.changed),
                "extra": list(self.extra), "problem": self.problem}

    def describe(self) -> str:
        """One line naming every damaged file, e.g. "changed: model/model.onnx; missing: LICENSE"."""
        parts = [f"{what}: {', '.join(files)}" for what, files in
                 (("missing", self.missing), ("changed", self.changed), ("extra", self.extra)) if files]
        if self.problem:
            parts.append(self.problem)
        return "; ".join(parts) or "intact"


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
    files: dict[str, str] | None = None


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
        self.location = str(self.root)

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
        check = self.inspect(digest, progress=progress)
        if check.intact:
            return None
        return f"the stored bundle {digest[:12]}… was changed after import ({check.describe()})"

    # ------------------------------------------------------------ file lists
    def listing_path(self, digest: str) -> Path:
        """Where the file list of ``digest`` is kept."""
        return self.root / LISTINGS / f"{digest}.json"

    def write_listing(self, digest: str, digests: dict[str, str]) -> None:
        """Keep ``digests`` as the file list of ``digest`` (only when it hashes to ``digest``)."""
        data = canonical_listing(digests)
        if hashlib.sha256(data).hexdigest() != digest:
            raise StoreError(f"the file list does not match the bundle {digest[:12]}…")
        path = self.listing_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def listing(self, digest: str) -> dict[str, str] | None:
        """The file list of ``digest``, or ``None`` when none is kept or it was edited."""
        try:
            data = self.listing_path(digest).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != digest:
            return None  # an edited list proves nothing; it is ignored
        try:
            parsed = json.loads(data)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def inspect(self, digest: str, *, progress: Progress | None = None) -> StoreCheck:
        """Re-hash every file of the stored ``digest`` once and say what differs."""
        folder = self.path_of(self.relative(digest))
        expected = self.listing(digest)
        if not folder.is_dir():
            if expected is None:
                return StoreCheck(digest, problem="the stored folder is missing")
            return StoreCheck(digest, missing=tuple(sorted(expected)))
        try:
            regular, odd = _scan_stored(folder)
            actual = hash_files([(f, folder.joinpath(*f.split("/"))) for f in regular], progress=progress)
        except (OSError, ModelGateError) as error:
            reason = error.message if isinstance(error, ModelGateError) else error.strerror
            return StoreCheck(digest, problem=f"the stored folder cannot be read: {reason}")
        # Links, pipes and devices are never part of a bundle: named, not followed or read.
        actual.update({name: "" for name in odd})
        hashed = MappingProxyType(actual)
        if expected is None:
            if bundle_digest(actual) == digest:
                self._keep_listing(digest, actual)  # stored before file lists were kept
                return StoreCheck(digest, hashed=hashed)
            return StoreCheck(digest, problem="its bytes no longer hash to its digest "
                                              "(no file list is kept to say which file changed)", hashed=hashed)
        return StoreCheck(
            digest,
            missing=tuple(sorted(set(expected) - set(actual))),
            changed=tuple(sorted(f for f in expected if f in actual and actual[f] != expected[f])),
            extra=tuple(sorted(set(actual) - set(expected))), hashed=hashed)

    def _keep_listing(self, digest: str, digests: dict[str, str]) -> None:
        try:
            self.write_listing(digest, digests)
        except OSError as exc:  # a read-only store still verifies, only less precisely
            log.warning("could not keep the file list of %s…: %s", digest[:12], exc.strerror)

    def open_verified(self, digest: str, relative: str) -> VerifiedReader:
        """Open one stored file for reading; its bytes are hashed as they stream, and reading
        to its end raises :class:`StoreDamaged` when they are not the bytes imported."""
        expected = self.listing(digest)
        if expected is None:
            check = self.inspect(digest)  # writes the list when the copy is intact
            expected = self.listing(digest)
            if expected is None:
                raise StoreDamaged(f"the stored bundle {digest[:12]}… is damaged ({check.describe()})",
                                   hint="`modelgate registry fsck` checks the whole store.")
        if relative not in expected:
            raise StoreDamaged(f"{relative} is not part of the stored bundle {digest[:12]}…",
                               hint="`modelgate registry fsck` checks the whole store.")
        path = self.path_of(self.relative(digest)).joinpath(*relative.split("/"))
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise StoreDamaged(f"{relative} is missing from the stored bundle {digest[:12]}… "
                               f"({exc.strerror})", hint="`modelgate registry fsck` checks the whole store.") from None
        return VerifiedReader(handle, expected=expected[relative], label=f"{relative} of the stored "
                              f"bundle {digest[:12]}…")

    def read_verified(self, digest: str, relative: str) -> bytes:
        """All bytes of one stored file, checked against its recorded digest."""
        with self.open_verified(digest, relative) as reader:
            return reader.read()

    # ----------------------------------------------------------- housekeeping
    def clean_incoming(self, *, grace_seconds: float = INCOMING_GRACE_SECONDS) -> list[str]:
        """Remove leftovers of interrupted imports: older than ``grace_seconds``, or made by
        a process that is gone. Returns the names removed, each logged."""
        incoming = self.root / INCOMING
        try:
            entries = list(os.scandir(incoming))
        except OSError:
            return []
        removed = []
        now = time.time()
        for entry in entries:
            try:
                age = now - entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            owner = _owner_pid(entry.name)
            if age < grace_seconds and (owner is None or _alive(owner)):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    remove_tree(Path(entry.path))
                else:
                    os.unlink(entry.path)
            except OSError as exc:
                log.warning("could not remove the interrupted import %s: %s", entry.path, exc.strerror)
                continue
            log.warning("removed %s, left by an interrupted import", entry.path)
            removed.append(entry.name)
        return removed

    def contains(self, digest: str) -> bool:
        return (self.root / digest[:2] / digest / "bundle.yaml").is_file()

    def holds(self, digests) -> set[str]:
        """The digests among ``digests`` stored here, from one listing of the (at most 256) shelves."""
        held = set()
        try:
            shelves = [entry for entry in os.scandir(self.root) if entry.is_dir() and len(entry.name) == 2]
        except OSError:
            return held
        for shelf in shelves:
            try:
                held.update(entry.name for entry in os.scandir(shelf.path) if entry.name.startswith(shelf.name))
            except OSError:
                continue
        return held & set(digests)

    def close(self) -> None:
        """Nothing to release: the folder store keeps no working copies."""

    def stage(self, source: Path, *, progress: Progress | None = None) -> Staged:
        """Copy a bundle folder or archive into the incoming area, hash it and read its manifest."""
        from modelgate.core.bundle.manifest import load_manifest

        progress = progress or Progress()
        incoming = self.root / INCOMING
        try:
            incoming.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"could not create the bundle store at {self.root}: {exc.strerror}",
                                hint="Check the folder's permissions, or choose another store.") from None
        # The process id in the name lets housekeeping tell a live import from a dead one.
        folder = Path(tempfile.mkdtemp(prefix=f"import-{os.getpid()}-", dir=incoming))
        try:
            written = {}
            with open_bundle(source, progress=progress) as bundle:
                names = bundle.files()
                progress.start(label="copying into the store",
                               total=sum(bundle.size(f) for f in names))
                for name in names:
                    target = folder.joinpath(*name.split("/"))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    # Hashed as written: the digest is the copy's, and no file is read twice.
                    written[name] = copy_hashed(bundle.resolve(name), target, progress=progress)
            with open_bundle(folder) as copy:
                covered = [f for f in copy.files() if not f.startswith(SIGNATURES + "/")]
                if set(covered) != {f for f in written if not f.startswith(SIGNATURES + "/")}:
                    raise StoreError("the copy in the store does not hold the files copied into it",
                                        hint="Something else writes into the store's incoming folder.")
                files = {name: written[name] for name in covered}
                digest = bundle_digest(files)
                manifest = load_manifest(copy).require()
            return Staged(folder=folder, digest=digest, manifest=manifest, files=files)
        except BaseException:
            remove_tree(folder)
            raise

    def place(self, staged: Staged) -> tuple[Path, bool]:
        """Move a staged bundle to its digest's folder; return (folder, whether it was new).

        When the digest is already stored the staged copy is dropped instead. A damaged
        stored copy is never replaced quietly: :class:`StoreDamaged` names the damage, and
        only :meth:`replace` (``modelgate registry repair``) puts a copy back.
        """
        target = self.root / staged.digest[:2] / staged.digest
        if target.exists():
            check = self.inspect(staged.digest)
            if not check.intact:
                raise StoreDamaged(f"the stored bundle {staged.digest[:12]}… is damaged ({check.describe()})",
                                   hint="Repair it with `modelgate registry repair NAME@VERSION BUNDLE`.",
                                   damage=check)
            remove_tree(staged.folder)
            return target, False
        return self._put(staged, target)

    def replace(self, staged: Staged) -> Path:
        """Put ``staged`` in place of the stored copy of the same digest, whatever its state."""
        target = self.root / staged.digest[:2] / staged.digest
        if target.exists():
            # Moved aside first: a crash between the two renames leaves the damaged copy
            # beside the target, never a missing one with nothing to show for it.
            aside = target.parent / f".{staged.digest}.{os.getpid()}.damaged"
            os.chmod(target, 0o755)
            os.rename(target, aside)
            self._put(staged, target)
            remove_tree(aside)
        else:
            self._put(staged, target)
        return target

    def _put(self, staged: Staged, target: Path) -> tuple[Path, bool]:
        if staged.files is not None:
            self.write_listing(staged.digest, staged.files)
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


def _scan_stored(folder: Path) -> tuple[list[str], list[str]]:
    """``(regular files, anything else)`` below a stored folder, as sorted relative POSIX paths,
    leaving out ``signatures/``. Nothing is followed: the store holds only what import wrote."""
    regular, odd, pending = [], [], [folder]
    while pending:
        here = pending.pop()
        for entry in os.scandir(here):
            relative = Path(entry.path).relative_to(folder).as_posix()
            if relative == SIGNATURES or relative.startswith(SIGNATURES + "/"):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                regular.append(relative)
            else:
                odd.append(relative)
    return sorted(regular), sorted(odd)


def _owner_pid(name: str) -> int | None:
    """The process id in an incoming folder's name (``import-PID-…``), if it has one."""
    parts = name.split("-")
    if len(parts) >= 3 and parts[0] == "import" and parts[1].isdigit():
        return int(parts[1])
    return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists, owned by someone else (or we cannot tell: keep it)
    return True


class VerifiedReader:
    """A stored file opened for reading, hashed as it streams; at its end the hash must be the
    one recorded at import, or :class:`StoreDamaged` is raised."""

    def __init__(self, handle, *, expected: str, label: str) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self._expected = expected
        self._label = label
        self._done = False

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._hash.update(data)
        at_end = size is None or size < 0 or not data
        if at_end and not self._done:
            self._done = True
            if self._hash.hexdigest() != self._expected:
                raise StoreDamaged(f"{self._label} was changed after import",
                                   hint="`modelgate registry fsck` checks the whole store; "
                                        "`modelgate registry repair` restores it from the bundle.")
        return data

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> VerifiedReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
