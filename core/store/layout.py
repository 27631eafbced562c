"""An OCI image layout folder (image-spec ``image-layout.md``) as a store back-end.

``oci-layout`` names the layout version, ``blobs/sha256/<hex>`` hold every blob and
manifest, ``index.json`` lists the model manifest (tagged by its
``org.opencontainers.image.ref.name`` annotation, which ``skopeo inspect oci:DIR:TAG``
reads) and each attachment (an artifact whose ``subject`` is the model manifest; a
layout has no referrers API, and the image spec lets readers find referrers by their
``subject`` in the index). A layout carries a release across an air gap; reading one
back verifies every blob as :class:`~.client.OciClient` does for a registry.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from modelgate.core import settings
from modelgate.core.store import modelpack
from modelgate.core.store.errors import ArtifactRefused, StoreError
from modelgate.core.store.blobs import copy_blob
from modelgate.core.store.reference import DIGEST

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_FILE = "oci-layout"
CHUNK = 4 * 1024 * 1024


class LayoutStore:
    """The layout in ``folder``; ``target`` is the tag (or digest) a pull reads."""

    def __init__(self, *, folder: Path, target: str | None = None) -> None:
        self.folder = Path(folder)
        self._target = target or ""

    @property
    def target(self) -> str:
        return self._target

    def where(self, tag: str | None) -> str:
        return f"oci:{self.folder}:{tag}" if tag else f"oci:{self.folder}"

    def _blob(self, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise ArtifactRefused(f"{digest!r} is not a sha256 digest")
        return self.folder / "blobs" / "sha256" / digest.removeprefix("sha256:")

    # ------------------------------------------------------------------ writing
    def create(self) -> None:
        """Start a new layout; ``folder`` must not exist or be empty."""
        if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
            raise StoreError(f"{self.folder} already exists and is not an empty folder",
                             hint="Export into a new folder.")
        (self.folder / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.folder / LAYOUT_FILE).write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self._write_index({"schemaVersion": 2, "mediaType": modelpack.INDEX_MEDIA_TYPE, "manifests": []})

    def push_blob(self, *, digest: str, size: int, path: Path | None = None, data: bytes | None = None,
                  advance=None) -> None:
        target = self._blob(digest)
        if target.exists():
            if advance:
                advance(size)
            return
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        hasher = hashlib.sha256()
        with open(partial, "wb") as out:
            if data is not None:
                hasher.update(data)
                out.write(data)
            else:
                with open(path, "rb") as reader:
                    while chunk := reader.read(CHUNK):
                        hasher.update(chunk)
                        out.write(chunk)
                        if advance:
                            advance(len(chunk))
        if "sha256:" + hasher.hexdigest() != digest or partial.stat().st_size != size:
            partial.unlink()
            raise StoreError(f"the bytes written for {digest} do not hash to it (the source changed meanwhile)")
        os.replace(partial, target)

    def push_manifest(self, *, data: bytes, target: str, media_type: str) -> None:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.push_blob(digest=digest, size=len(data), data=data)
        document = json.loads(data)
        descriptor = {"mediaType": media_type, "digest": digest, "size": len(data)}
        if document.get("artifactType"):
            descriptor["artifactType"] = document["artifactType"]
        if target != digest:
            descriptor["annotations"] = {REF_NAME: target}
        index = self._index()
        kept = [m for m in index["manifests"] if m.get("digest") != digest
                and (m.get("annotations") or {}).get(REF_NAME) != descriptor.get("annotations", {}).get(REF_NAME, 0)]
        index["manifests"] = kept + [descriptor]
        self._write_index(index)

    def supports_referrers(self, digest: str) -> bool:
        return True  # the index itself lists every attachment

    def _write_index(self, index: dict) -> None:
        path = self.folder / "index.json"
        partial = path.with_name(f".index.json.{os.getpid()}")
        partial.write_bytes(modelpack.canonical_json(index))
        os.replace(partial, path)

    # ------------------------------------------------------------------ reading
    def _index(self) -> dict:
        try:
            layout = json.loads((self.folder / LAYOUT_FILE).read_bytes())
            with open(self.folder / "index.json", "rb") as handle:
                data = handle.read(settings.get(settings.MAX_JSON_BYTES) + 1)
        except (OSError, ValueError):
            raise ArtifactRefused(f"{self.folder} is not an OCI image layout",
                                  hint="An image layout holds oci-layout, index.json and blobs/.") from None
        if len(data) > settings.get(settings.MAX_JSON_BYTES):
            raise ArtifactRefused("the layout's index.json is larger than allowed",
                                  hint="MODELGATE_MAX_JSON_BYTES sets the limit.")
        try:
            index = json.loads(data)
        except ValueError:
            raise ArtifactRefused("the layout's index.json is not JSON") from None
        if not isinstance(layout, dict) or layout.get("imageLayoutVersion") != "1.0.0" \
                or not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
            raise ArtifactRefused(f"{self.folder} is not an OCI image layout version 1.0.0")
        return index

    def manifest(self, target: str) -> tuple[bytes, str, str]:
        descriptor = None
        for entry in self._index()["manifests"]:
            if not isinstance(entry, dict):
                continue
            if entry.get("digest") == target or (entry.get("annotations") or {}).get(REF_NAME) == target:
                descriptor = modelpack.check_descriptor(entry, what=f"the index entry of {target}")
        if descriptor is None:
            raise ArtifactRefused(f"the layout {self.folder} has no {target}",
                                  hint="Check the tag: a version's '+' becomes '_'.")
        data = self.blob_bytes(descriptor)
        return data, descriptor["digest"], descriptor["mediaType"]

    def blob_bytes(self, descriptor: dict) -> bytes:
        if descriptor["size"] > settings.get(settings.MAX_JSON_BYTES):
            raise ArtifactRefused(f"the blob {descriptor['digest']} is larger than the document limit",
                                  hint="MODELGATE_MAX_JSON_BYTES sets the limit.")
        chunks: list[bytes] = []
        self.stream_blob(descriptor, write=chunks.append)
        return b"".join(chunks)

    def stream_blob(self, descriptor: dict, *, write, advance=None) -> None:
        digest, size = descriptor["digest"], descriptor["size"]
        path = self._blob(digest)
        if path.is_symlink() or not path.is_file():
            raise ArtifactRefused(f"the layout has no blob {digest}", hint="The layout is incomplete.")
        with open(path, "rb") as reader:
            # Never more than one byte past the declared size is read: that byte proves it longer.
            chunks = iter(lambda: reader.read(CHUNK), b"")
            copy_blob(_at_most(chunks, size + 1), digest=digest, size=size, write=write, advance=advance)

    def referrers(self, digest: str) -> list[dict]:
        found = []
        for entry in self._index()["manifests"]:
            if not isinstance(entry, dict) or entry.get("artifactType") in (None, modelpack.ARTIFACT_TYPE):
                continue
            data, _, _ = self.manifest(modelpack.check_descriptor(entry, what="an index entry")["digest"])
            try:
                subject = json.loads(data).get("subject", {}).get("digest")
            except (ValueError, AttributeError):
                continue
            if subject == digest:
                found.append(entry)
        return found


def _at_most(chunks, limit: int):
    """``chunks`` cut off after ``limit`` bytes in all."""
    for chunk in chunks:
        if limit <= 0:
            return
        yield chunk[:limit]
        limit -= len(chunk)
