"""What a store back-end does, whatever holds the bytes.

:class:`BundleBackend` is where the registry keeps each version's bytes: the content-addressed
folder store (:class:`~.folder.BundleStore`) or an OCI registry (:class:`~.ocistore.OciBundleStore`),
chosen by the store URL (:func:`~.backends.open_backend`). The registry keeps records, decisions and audit
in its database and reaches the bytes only through these methods.

:class:`ArtifactSource` and :class:`ArtifactTarget` move OCI artifacts. Two back-ends implement both sides: :class:`~.client.OciClient` (one repository of an
OCI registry) and :class:`~.layout.LayoutStore` (an OCI image layout folder, for the air
gap). :mod:`.oci` pushes and pulls bundles through these methods only, so a bundle goes
through one mapping and one verification whichever way it travels (the OCI bundle store too).

Which back-end a reference means is its form: ``oci://HOST[:PORT]/REPO`` is a registry
and ``oci:DIR:TAG`` an image layout (:func:`open_source`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol


class BundleBackend(Protocol):
    """Where versions' bytes live. ``relative(digest)`` is the store path recorded for a
    version; every read (``inspect``, ``open_verified``, ``path_of``) checks the bytes
    against the file digests the bundle was imported with."""

    root: Path
    location: str

    def relative(self, digest: str) -> str:
        """The store path of ``digest``."""

    def path_of(self, relative: str) -> Path:
        """A folder holding the stored bundle (read-only)."""

    def holds(self, digests) -> set[str]:
        """The digests among ``digests`` this store has."""

    def listing(self, digest: str) -> dict[str, str] | None:
        """``{file: sha256}`` of the stored bundle, when it proves itself (hashes to ``digest``)."""

    def inspect(self, digest: str, *, progress=None):
        """Re-read every file of ``digest``: a :class:`~.folder.StoreCheck`."""

    def verify(self, digest: str, *, progress=None) -> str | None:
        """Why the stored copy cannot be trusted, or ``None``."""

    def open_verified(self, digest: str, relative: str):
        """One stored file, checked against its recorded digest as it is read."""

    def stage(self, source: Path, *, progress=None):
        """Copy and hash a bundle into the incoming area."""

    def place(self, staged) -> tuple[Path, bool]:
        """Store a staged bundle; ``(folder, whether it was new)``."""

    def discard(self, staged) -> None:
        """Drop a staged bundle."""

    def close(self) -> None:
        """Release working copies."""


class ArtifactSource(Protocol):
    """Where artifacts are read from; every read is verified against its digest."""

    @property
    def target(self) -> str:
        """The tag or digest the caller asked for."""

    def where(self, tag: str | None) -> str:
        """A human-readable reference to ``tag`` in this back-end."""

    def manifest(self, target: str) -> tuple[bytes, str, str]:
        """``(bytes, digest, media type)`` of the manifest ``target`` (a tag or a digest)."""

    def blob_bytes(self, descriptor: dict) -> bytes:
        """A small blob, whole and verified."""

    def stream_blob(self, descriptor: dict, *, write: Callable[[bytes], object],
                    advance: Callable[[int], None] | None = None) -> None:
        """The blob's bytes to ``write``; raises when they are not ``size`` bytes hashing to ``digest``."""

    def referrers(self, digest: str) -> list[dict]:
        """Descriptors of the artifacts whose subject is ``digest``."""


class ArtifactTarget(Protocol):
    """Where artifacts are written to."""

    def where(self, tag: str | None) -> str:
        """A human-readable reference to ``tag`` in this back-end."""

    def push_blob(self, *, digest: str, size: int, path: Path | None = None, data: bytes | None = None,
                  advance: Callable[[int], None] | None = None) -> None:
        """Store one blob (a file streamed, or ``data``) unless it is already there."""

    def push_manifest(self, *, data: bytes, target: str, media_type: str) -> None:
        """Store a manifest (or index) under ``target``, a tag or its own digest."""

    def supports_referrers(self, digest: str) -> bool:
        """Whether attachments are found without the fallback tag."""

    def referrers(self, digest: str) -> list[dict]:
        """Descriptors of the artifacts whose subject is ``digest``."""


def open_source(*, text: str, insecure: bool = False) -> ArtifactSource:
    """The back-end a pull reference names: ``oci://HOST[:PORT]/REPO:TAG`` (a registry) or
    ``oci:DIR:TAG`` (an OCI image layout folder, the form skopeo writes)."""
    from modelgate.core.store.errors import StoreError
    from modelgate.core.store.reference import SCHEME, parse_reference

    if text.startswith(SCHEME):
        from modelgate.core.store.client import OciClient

        return OciClient(reference=parse_reference(text=text, need_target=True), insecure=insecure)
    if text.startswith("oci:"):
        from modelgate.core.store.layout import LayoutStore

        folder, _, tag = text[len("oci:"):].rpartition(":")
        if folder and tag:
            return LayoutStore(folder=Path(folder), target=tag)
    raise StoreError(f"{text!r} is neither oci://HOST[:PORT]/REPO:TAG nor oci:DIR:TAG",
                     hint="A registry: oci://registry:5000/models/x:1.0.0; an image layout: oci:/media/usb/x:1.0.0.")
