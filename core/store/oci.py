"""A bundle pushed to and pulled from an OCI registry as a CNCF ModelPack artifact.

The same code writes to and reads from an OCI registry (:mod:`.client`) and an OCI image
layout on disk (:mod:`.layout`): both are :mod:`.interface` back-ends. Push uploads the config, one raw layer per file and the manifest (tagged with the version),
then each attachment (a signature, the decision record) as an artifact whose ``subject`` is
the model manifest. A registry without the referrers API gets the distribution spec's
fallback: an image index tagged ``sha256-<hex>`` listing the attachments.

Pull writes nothing to the target folder until every byte is verified: layers stream into
a hidden folder beside it, each hashed against its digest as it arrives; then the config
is checked against the schema and ``bundle.yaml``, the files' digests against the
``files`` that ``bundle.yaml`` records, and the bundle digest against the manifest's
annotation. Only then is the folder renamed into place. Any refusal removes it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from modelgate.core import fsutil, settings
from modelgate.core.progress import Progress
from modelgate.core.store import modelpack
from modelgate.core.store.interface import ArtifactSource, ArtifactTarget
from modelgate.core.store.reference import fallback_tag
from modelgate.core.store.errors import ArtifactRefused, StoreError


@dataclass(frozen=True)
class Attachment:
    """A document attached to a model manifest as a referrer."""

    artifact_type: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Pushed:
    reference: str
    digest: str
    layers: int
    attachments: int
    referrers_api: bool


@dataclass(frozen=True)
class Pulled:
    folder: Path
    digest: str
    name: str
    version: str
    files: int
    signatures: tuple[str, ...] = ()
    decisions: tuple[dict, ...] = field(default=())
    #: How many decision attestations came back into ``signatures/`` (see :data:`modelpack.ATTESTATIONS_FILE`).
    attestations: int = 0


def _sha256_descriptor(data: bytes, media_type: str) -> dict:
    import hashlib

    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


def push_bundle(*, client: ArtifactTarget, folder: Path, files: dict[str, str], manifest: dict, bundle_digest: str,
                tag: str, attachments: tuple[Attachment, ...] = (), progress: Progress | None = None,
                measured: dict | None = None) -> Pushed:
    """Push the bundle in ``folder`` whose verified file digests are ``files`` (every file
    but ``signatures/``) and whose ``bundle.yaml`` says ``manifest``, tagged ``tag``;
    ``measured`` are the config fields read from its model files (:data:`.modelpack.MEASURED`)."""
    progress = progress or Progress()
    declared = manifest.get("artifacts") or []
    weights = frozenset(str(a.get("path")) for a in declared if isinstance(a, dict))
    paths = sorted(files)
    sizes = {path: (folder / path).stat().st_size for path in paths}
    layers = []
    for path in paths:
        media_type, untested = modelpack.layer_media_type(path=path, weights=weights)
        annotations = {modelpack.FILEPATH: path}
        if untested:
            annotations[modelpack.UNTESTED] = "true"
        layers.append({"mediaType": media_type, "digest": f"sha256:{files[path]}", "size": sizes[path],
                       "annotations": annotations})
    config = modelpack.canonical_json(modelpack.model_config(manifest=manifest, measured=measured,
                                                             diff_ids=[layer["digest"] for layer in layers]))
    config_descriptor = _sha256_descriptor(config, modelpack.CONFIG_MEDIA_TYPE)
    progress.start(label=f"pushing {client.where(tag)}",
                   total=sum(sizes.values()))
    client.push_blob(digest=config_descriptor["digest"], size=len(config), data=config)
    for path, layer in zip(paths, layers):
        progress.check()
        client.push_blob(digest=layer["digest"], size=layer["size"], path=folder / path, advance=progress.advance)
    document = {"schemaVersion": 2, "mediaType": modelpack.MANIFEST_MEDIA_TYPE,
                "artifactType": modelpack.ARTIFACT_TYPE, "config": config_descriptor, "layers": layers,
                "annotations": {modelpack.BUNDLE_DIGEST: bundle_digest,
                                "org.opencontainers.image.title": str(manifest["name"]),
                                "org.opencontainers.image.version": str(manifest["version"])}}
    data = modelpack.canonical_json(document)
    subject = _sha256_descriptor(data, modelpack.MANIFEST_MEDIA_TYPE)
    client.push_manifest(data=data, target=tag, media_type=modelpack.MANIFEST_MEDIA_TYPE)
    api = client.supports_referrers(subject["digest"])
    for attachment in attachments:
        attach(client=client, subject=subject, attachment=attachment, referrers_api=api)
    return Pushed(reference=client.where(tag),
                  digest=subject["digest"], layers=len(layers), attachments=len(attachments), referrers_api=api)


def attach(*, client: ArtifactTarget, subject: dict, attachment: Attachment, referrers_api: bool) -> str:
    """Push ``attachment`` as an artifact whose subject is ``subject``; returns its digest.
    Without the referrers API, the ``sha256-<hex>`` fallback index is updated too."""
    empty = b"{}"
    client.push_blob(digest=modelpack.EMPTY_CONFIG["digest"], size=len(empty), data=empty)
    layer = _sha256_descriptor(attachment.data, attachment.artifact_type)
    layer["annotations"] = {"org.opencontainers.image.title": attachment.filename}
    client.push_blob(digest=layer["digest"], size=layer["size"], data=attachment.data)
    document = {"schemaVersion": 2, "mediaType": modelpack.MANIFEST_MEDIA_TYPE,
                "artifactType": attachment.artifact_type, "config": modelpack.EMPTY_CONFIG,
                "layers": [layer], "subject": subject,
                "annotations": {"org.opencontainers.image.title": attachment.filename}}
    data = modelpack.canonical_json(document)
    descriptor = _sha256_descriptor(data, modelpack.MANIFEST_MEDIA_TYPE)
    client.push_manifest(data=data, target=descriptor["digest"], media_type=modelpack.MANIFEST_MEDIA_TYPE)
    if not referrers_api:
        descriptor["artifactType"] = attachment.artifact_type
        descriptor["annotations"] = dict(document["annotations"])
        existing = [m for m in client.referrers(subject["digest"]) if m.get("digest") != descriptor["digest"]]
        index = {"schemaVersion": 2, "mediaType": modelpack.INDEX_MEDIA_TYPE, "manifests": existing + [descriptor]}
        client.push_manifest(data=modelpack.canonical_json(index), target=fallback_tag(subject["digest"]),
                             media_type=modelpack.INDEX_MEDIA_TYPE)
    return descriptor["digest"]


def pull_bundle(*, client: ArtifactSource, dest: Path, progress: Progress | None = None,
                measure: Callable[[Path, dict], dict] | None = None) -> Pulled:
    """Pull the artifact ``client.target`` names into the new folder ``dest``, verified
    first (see the module docstring). ``dest`` must not exist, or be an empty folder.
    ``measure(folder, manifest)`` reads the config fields the model files hold, to check
    the config's (the store cannot read model formats itself)."""
    progress = progress or Progress()
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StoreError(f"{dest} already exists and is not an empty folder", hint="Pull into a new folder.")
    data, digest, _ = client.manifest(client.target)
    document, descriptors = modelpack.parse_manifest(data=data, max_layers=settings.get(settings.MAX_ARCHIVE_ENTRIES))
    layers = modelpack.model_layers(descriptors=descriptors, max_bytes=settings.get(settings.MAX_ARCHIVE_BYTES))
    try:
        config = json.loads(client.blob_bytes(document["config"]))
    except ValueError:
        raise ArtifactRefused("the model config is not JSON") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pull-", dir=dest.parent))
    try:
        progress.start(label=f"pulling {client.where(client.target)}", total=sum(layer.size for layer in layers))
        for layer in layers:
            progress.check()
            target = staging.joinpath(*layer.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as out:
                client.stream_blob({"digest": layer.digest, "size": layer.size}, write=out.write,
                                   advance=progress.advance)
        pulled = _judge(staging=staging, layers=layers, config=config, annotations=document.get("annotations"),
                        measure=measure)
        signatures, decisions, attested = _referrers(client=client, digest=digest, staging=staging)
        if dest.exists():
            dest.rmdir()
        os.rename(staging, dest)
    except BaseException:
        fsutil.remove_tree(staging)
        raise
    return Pulled(folder=dest, digest=digest, name=pulled[0], version=pulled[1], files=len(layers),
                  signatures=signatures, decisions=decisions, attestations=attested)


def _judge(*, staging: Path, layers, config: dict, annotations, measure=None) -> tuple[str, str]:
    """Check a pulled folder against its own records; returns (name, version)."""
    from modelgate.core.bundle.digests import bundle_digest
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.errors import ModelGateError

    try:
        with open_bundle(staging) as bundle:
            manifest = load_manifest(bundle).require()
    except ModelGateError as exc:
        raise ArtifactRefused(f"the pulled bundle.yaml cannot be used: {exc.message}") from None
    measured = measure(staging, manifest) if measure is not None else None
    modelpack.check_config(config=config, layers=layers, manifest=manifest, measured=measured)
    actual = {layer.path: layer.digest.removeprefix("sha256:") for layer in layers}
    recorded = manifest.get("files")
    if isinstance(recorded, dict) and recorded:
        expected = {str(k): str(v) for k, v in recorded.items()}
        expected.setdefault("bundle.yaml", actual.get("bundle.yaml", ""))
        if expected != actual:
            differ = sorted(set(expected) ^ set(actual)) or sorted(p for p in actual if actual[p] != expected[p])
            raise ArtifactRefused(f"the artifact's files disagree with the digests bundle.yaml records "
                                  f"({', '.join(differ[:5])})", hint="The artifact was changed after it was locked.")
    claimed = annotations.get(modelpack.BUNDLE_DIGEST) if isinstance(annotations, dict) else None
    if claimed is not None and claimed != bundle_digest(actual):
        raise ArtifactRefused("the bundle digest in the manifest's annotations is not the digest of its files")
    return str(manifest.get("name")), str(manifest.get("version"))


def _referrers(*, client: ArtifactSource, digest: str,
               staging: Path) -> tuple[tuple[str, ...], tuple[dict, ...], int]:
    """Signatures attached to ``digest`` go to ``signatures/``, its decision attestations into
    one JSON Lines file there; decision records are returned."""
    signatures, decisions, envelopes = [], [], set()
    for descriptor in client.referrers(digest):
        kind = descriptor.get("artifactType")
        if kind not in (modelpack.SIGNATURE_TYPE, modelpack.DECISIONS_TYPE, modelpack.ATTESTATION_TYPE):
            continue
        modelpack.check_descriptor(descriptor, what="a referrer")
        data, _, _ = client.manifest(descriptor["digest"])
        try:
            document = json.loads(data)
            layer = modelpack.check_descriptor(document["layers"][0], what="a referrer's layer")
            subject = document["subject"]["digest"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ArtifactRefused(f"the referrer {descriptor['digest']} is not an attachment we made") from None
        if subject != digest:
            raise ArtifactRefused(f"the referrer {descriptor['digest']} names another subject")
        content = client.blob_bytes(layer)
        if kind == modelpack.ATTESTATION_TYPE:
            envelopes.add(_envelope_line(content, descriptor["digest"]))
            continue
        if kind == modelpack.DECISIONS_TYPE:
            try:
                decisions.append(json.loads(content))
            except ValueError:
                raise ArtifactRefused("an attached decision record is not JSON") from None
            continue
        name = (layer.get("annotations") or {}).get("org.opencontainers.image.title") or f"{layer['digest'][7:19]}.sig"
        name = modelpack.safe_path(name, what="a signature")
        if "/" in name:
            raise ArtifactRefused(f"the signature name {name!r} is not a plain file name")
        target = staging / "signatures" / name
        target.parent.mkdir(exist_ok=True)
        with open(target, "xb") as out:
            out.write(content)
        signatures.append(name)
    if envelopes:  # sorted: the verifier orders decisions by their own numbers, not by the registry's
        (staging / "signatures").mkdir(exist_ok=True)
        with open(staging / "signatures" / modelpack.ATTESTATIONS_FILE, "xb") as out:
            out.write(b"".join(line + b"\n" for line in sorted(envelopes)))
    return tuple(signatures), tuple(decisions), len(envelopes)


def _envelope_line(content: bytes, where: str) -> bytes:
    """An attached DSSE envelope as one JSON line; its signature is judged by whoever verifies."""
    try:
        envelope = json.loads(content)
    except ValueError:
        raise ArtifactRefused(f"the attestation {where} is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str) \
            or not isinstance(envelope.get("signatures"), list):
        raise ArtifactRefused(f"the attestation {where} is not a DSSE envelope")
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode("utf-8")
