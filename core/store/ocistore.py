"""A store whose bundles live only in an OCI registry, as CNCF ModelPack artifacts.

Chosen by a store URL ``oci://HOST[:PORT]/PREFIX``: each model is the repository
``PREFIX/NAME`` and each version is tagged with its version, the same artifact
``modelgate push`` makes. The registry database records where each version is: its store
path is the repository and the manifest digest, ``oci://HOST:PORT/PREFIX/NAME@sha256:…``,
so every later read asks for exactly those bytes and a moved tag changes nothing.

No second copy is kept. Importing stages the bundle in the local incoming area (hashed as it
is copied, as the folder store does), pushes it and keeps nothing but this process's working
copy. The manifest's layers are the file list: each layer's digest is the sha256 of one file
and its path annotation the file's name, and in canonical form that list hashes to the bundle
digest, so a manifest that lists other files than the ones imported is refused.

Every read verifies: the manifest against its digest (by the client), then each blob against
its size and digest as it streams (:func:`~.blobs.copy_blob`). :meth:`OciBundleStore.inspect`
streams every blob and names the missing and changed files; :meth:`OciBundleStore.open_verified`
streams one; :meth:`OciBundleStore.path_of` pulls a verified working copy for this process
(validation, signing and export read folders), removed by :meth:`OciBundleStore.close` or,
after a crash, by the incoming area's housekeeping.

Versions imported while the store was a folder keep their folder store paths
(``ab/abcd…``) and are read from the folder store under ``root``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Callable

from modelgate.core import settings
from modelgate.core.bundle.digests import bundle_digest
from modelgate.core.progress import Progress
from modelgate.core.store import modelpack
from modelgate.core.store.errors import ArtifactRefused, StoreDamaged, StoreError
from modelgate.core.store.folder import (INCOMING, BundleStore, Staged, StoreCheck, VerifiedReader,
                                         make_read_only, remove_tree)
from modelgate.core.store.reference import SCHEME, OciReference, parse_reference, tag_for

HINT = "`modelgate registry fsck` checks every stored version."


def insecure_allowed(host: str) -> bool:
    """Whether the store may speak plain HTTP to ``host``: only when it is listed in the
    ``oci_insecure_hosts`` setting (a store URL has no --insecure flag, so it is asked for there)."""
    listed = {h.strip() for h in settings.get(settings.OCI_INSECURE_HOSTS).split(",") if h.strip()}
    return host in listed


class OciBundleStore:
    """Bundles in the repositories below ``prefix``; ``root`` is the local folder for the incoming
    area and working copies; ``locate(digest)`` is the store path the registry recorded;
    ``measure(folder, manifest)`` the config fields read from the model files."""

    def __init__(self, *, prefix: OciReference, root: Path, locate: Callable[[str], str | None],
                 measure: Callable[[Path, dict], dict] | None = None) -> None:
        self.prefix = prefix
        self.root = Path(root)
        self.location = f"{SCHEME}{prefix.host}/{prefix.repository}"
        self._locate = locate
        self._measure = measure
        self._folder = BundleStore(self.root)
        self._where: dict[str, str] = {}
        self._copies: dict[str, Path] = {}
        self._insecure = insecure_allowed(prefix.host)

    # ------------------------------------------------------------ locating
    def relative(self, digest: str) -> str:
        """The store path of ``digest``: where it was pushed, as the registry recorded it."""
        where = self._where.get(digest) or self._locate(digest)
        if not where:
            raise StoreDamaged(f"no stored copy of the bundle {digest[:12]}… is recorded", hint=HINT)
        return where

    def holds(self, digests) -> set[str]:
        """The digests among ``digests`` that have a recorded place in this store."""
        return {digest for digest in digests if self._where.get(digest) or self._locate(digest)}

    def _client(self, relative: str):
        from modelgate.core.store.client import OciClient

        reference = parse_reference(text=relative, need_target=True)
        if reference.digest is None:
            raise StoreDamaged(f"the store path {relative} names no manifest digest", hint=HINT)
        return OciClient(reference=reference, insecure=self._insecure)

    def _layers(self, relative: str):
        """``(client, layers)`` of the manifest at ``relative``, its digest checked."""
        client = self._client(relative)
        data, _, _ = client.manifest(client.target)
        _, descriptors = modelpack.parse_manifest(data=data, max_layers=settings.get(settings.MAX_ARCHIVE_ENTRIES))
        return client, modelpack.model_layers(descriptors=descriptors,
                                              max_bytes=settings.get(settings.MAX_ARCHIVE_BYTES))

    # ------------------------------------------------------------ reading
    def listing(self, digest: str) -> dict[str, str] | None:
        """``{file: sha256}`` from the manifest's layers, or ``None`` when they do not hash to ``digest``."""
        relative = self.relative(digest)
        if not relative.startswith(SCHEME):
            return self._folder.listing(digest)
        try:
            _, layers = self._layers(relative)
        except ArtifactRefused:
            return None
        files = {layer.path: layer.digest.removeprefix("sha256:") for layer in layers}
        return files if bundle_digest(files) == digest else None

    def contains(self, digest: str) -> bool:
        return self.listing(digest) is not None

    def inspect(self, digest: str, *, progress: Progress | None = None) -> StoreCheck:
        """Stream every blob of ``digest`` through its digest check and say which files are
        missing or changed. An unreachable registry raises: it says nothing about the bytes."""
        relative = self.relative(digest)
        if not relative.startswith(SCHEME):
            return self._folder.inspect(digest, progress=progress)
        try:
            client, layers = self._layers(relative)
        except ArtifactRefused as exc:
            return StoreCheck(digest, problem=f"its OCI manifest cannot be used: {exc.message}")
        expected = {layer.path: layer.digest.removeprefix("sha256:") for layer in layers}
        if bundle_digest(expected) != digest:
            return StoreCheck(digest, problem="its OCI manifest lists other files than the ones imported")
        progress = progress or Progress()
        progress.start(label=f"verifying {relative}", total=sum(layer.size for layer in layers))
        missing, changed = [], []
        for layer in layers:
            progress.check()
            try:
                client.stream_blob({"digest": layer.digest, "size": layer.size}, write=_discard,
                                   advance=progress.advance)
            except ArtifactRefused:
                (changed if client.has_blob(layer.digest) else missing).append(layer.path)
        hashed = {path: ("" if path in changed or path in missing else value) for path, value in expected.items()}
        return StoreCheck(digest, missing=tuple(sorted(missing)), changed=tuple(sorted(changed)),
                          hashed=MappingProxyType(hashed))

    def verify(self, digest: str, *, progress: Progress | None = None) -> str | None:
        """Why the stored copy of ``digest`` cannot be trusted, or ``None`` when its bytes match."""
        check = self.inspect(digest, progress=progress)
        if check.intact:
            return None
        return f"the stored bundle {digest[:12]}… in {self.location} is damaged ({check.describe()})"

    def open_verified(self, digest: str, relative: str) -> VerifiedReader:
        """One file of ``digest``, streamed from its blob into a temporary file (so memory stays
        flat) with its digest checked, then hashed again as the caller reads it."""
        where = self.relative(digest)
        if not where.startswith(SCHEME):
            return self._folder.open_verified(digest, relative)
        try:
            client, layers = self._layers(where)
        except ArtifactRefused as exc:
            raise StoreDamaged(f"the OCI manifest of the stored bundle {digest[:12]}… cannot be used: {exc.message}",
                               hint=HINT) from None
        expected = {layer.path: layer.digest.removeprefix("sha256:") for layer in layers}
        if bundle_digest(expected) != digest:
            raise StoreDamaged(f"the OCI manifest of the stored bundle {digest[:12]}… lists other files than "
                               "the ones imported", hint=HINT)
        layer = next((layer for layer in layers if layer.path == relative), None)
        if layer is None:
            raise StoreDamaged(f"{relative} is not part of the stored bundle {digest[:12]}…", hint=HINT)
        self.root.mkdir(parents=True, exist_ok=True)
        spool = tempfile.TemporaryFile(dir=self.root)
        try:
            client.stream_blob({"digest": layer.digest, "size": layer.size}, write=spool.write)
        except ArtifactRefused as exc:
            spool.close()
            raise StoreDamaged(f"{relative} of the stored bundle {digest[:12]}… in {self.location} is damaged: "
                               f"{exc.message}", hint=HINT) from None
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return VerifiedReader(spool, expected=expected[relative], label=f"{relative} of the stored "
                              f"bundle {digest[:12]}…")

    def read_verified(self, digest: str, relative: str) -> bytes:
        with self.open_verified(digest, relative) as reader:
            return reader.read()

    def path_of(self, relative: str) -> Path:
        """A folder holding the bundle at ``relative``: for an OCI store path, a working copy
        pulled and verified once per process (read-only, removed by :meth:`close`)."""
        if not relative.startswith(SCHEME):
            return self._folder.path_of(relative)
        copy = self._copies.get(relative)
        if copy is not None and copy.is_dir():
            return copy
        from modelgate.core.store.oci import pull_bundle

        # Named by its bundle digest, as a folder store copy is: signatures name the folder they covered.
        _, layers = self._layers(relative)
        digest = bundle_digest({layer.path: layer.digest.removeprefix("sha256:") for layer in layers})
        pulled = pull_bundle(client=self._client(relative), dest=self._work() / digest)
        make_read_only(pulled.folder)
        self._copies[relative] = pulled.folder
        return pulled.folder

    def _work(self) -> Path:
        incoming = self.root / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        # Named like an import (import-PID-…) so that housekeeping removes a dead process's copies.
        return Path(tempfile.mkdtemp(prefix=f"import-{os.getpid()}-copy-", dir=incoming))

    # ------------------------------------------------------------ writing
    def stage(self, source: Path, *, progress: Progress | None = None) -> Staged:
        """Copy and hash a bundle in the local incoming area, as the folder store does, then
        upload its files' blobs. The bytes travel here, before the registry's write transaction
        opens; :meth:`place` (inside it) finds them there and writes only the config and manifest."""
        from modelgate.core.store.client import OciClient

        staged = self._folder.stage(source, progress=progress)
        try:
            client = OciClient(reference=self._repository(staged), insecure=self._insecure)
            files = sorted((staged.files or {}).items())
            paths = {relative: staged.folder.joinpath(*relative.split("/")) for relative, _ in files}
            progress = progress or Progress()
            progress.start(label=f"uploading to {self.location}", total=sum(p.stat().st_size for p in paths.values()))
            for relative, hexdigest in files:
                progress.check()
                client.push_blob(digest=f"sha256:{hexdigest}", size=paths[relative].stat().st_size,
                                 path=paths[relative], advance=progress.advance)
        except BaseException:
            self._folder.discard(staged)
            raise
        return staged

    def _repository(self, staged: Staged) -> OciReference:
        """``PREFIX/NAME`` of a staged bundle."""
        name = str(staged.manifest.get("name"))
        try:
            return parse_reference(text=f"{self.location}/{name}", need_target=False)
        except StoreError as exc:
            raise StoreError(f"{name!r} cannot be an OCI repository name below {self.location}: {exc.message}",
                             hint="OCI repositories are lower-case letters, digits and single separators.") from None

    def place(self, staged: Staged, *, progress: Progress | None = None) -> tuple[Path, bool]:
        """Push a staged bundle to ``PREFIX/NAME:VERSION``; the staged folder becomes this
        process's working copy. Returns ``(working copy, True)``: what a registry holds is
        found by digest, so pushing the same bytes again is harmless."""
        from modelgate.core.store.client import OciClient
        from modelgate.core.store.oci import push_bundle

        version = str(staged.manifest.get("version"))
        repository = self._repository(staged)
        client = OciClient(reference=repository, insecure=self._insecure)
        pushed = push_bundle(client=client, folder=staged.folder, files=dict(staged.files or {}),
                             manifest=staged.manifest, bundle_digest=staged.digest, tag=tag_for(version),
                             progress=progress,
                             measured=self._measure(staged.folder, staged.manifest) if self._measure else None)
        where = f"{SCHEME}{repository.host}/{repository.repository}@{pushed.digest}"
        self._where[staged.digest] = where
        copy = self._work() / staged.digest
        staged.folder.rename(copy)
        make_read_only(copy)
        self._copies[where] = copy
        return copy, True

    def replace(self, staged: Staged) -> Path:
        """Push ``staged`` again (a registry keeps blobs by digest: a blob it still holds is
        not uploaded twice, so a damaged one must be removed in the registry first)."""
        return self.place(staged)[0]

    def discard(self, staged: Staged) -> None:
        self._folder.discard(staged)

    def clean_incoming(self, **kwargs) -> list[str]:
        return self._folder.clean_incoming(**kwargs)

    def close(self) -> None:
        """Remove this process's working copies."""
        for copy in self._copies.values():
            remove_tree(copy.parent)
        self._copies.clear()


def _discard(chunk: bytes) -> None:
    """Where the bytes of a blob go when only their digest is checked."""

