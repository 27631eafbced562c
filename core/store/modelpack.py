"""A bundle as a CNCF ModelPack artifact (github.com/modelpack/model-spec, docs/spec.md,
config.md, annotations.md), and the judgement of one read back from a registry or layout.

Every file of the bundle but ``signatures/`` is one uncompressed layer (the spec's ``.raw``
media types: weights are incompressible, and a raw layer's digest *is* the file's SHA-256,
the same digest ``bundle.yaml``'s ``files`` records), annotated with its path
(``org.cncf.model.filepath``). Which role a file gets is :func:`layer_media_type`; the
mapping is documented in docs/oci.md. Signatures and decision records are not layers: they
are separate artifacts whose ``subject`` is the model manifest (OCI referrers).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from modelgate.core.store.errors import ArtifactRefused
from modelgate.core.store.reference import DIGEST

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
ARTIFACT_TYPE = "application/vnd.cncf.model.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.cncf.model.config.v1+json"
WEIGHT = "application/vnd.cncf.model.weight.v1.raw"
WEIGHT_CONFIG = "application/vnd.cncf.model.weight.config.v1.raw"
DOC = "application/vnd.cncf.model.doc.v1.raw"
CODE = "application/vnd.cncf.model.code.v1.raw"
DATASET = "application/vnd.cncf.model.dataset.v1.raw"
RAW_LAYERS = (WEIGHT, WEIGHT_CONFIG, DOC, CODE, DATASET)
FILEPATH = "org.cncf.model.filepath"
UNTESTED = "org.cncf.model.file.mediatype.untested"
#: Our own manifest annotation: the bundle digest (SHA-256 of the canonical file list).
BUNDLE_DIGEST = "dev.modelgate.bundle.digest"
#: The artifact types of what is attached to a model manifest as a referrer.
SIGNATURE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
DECISIONS_TYPE = "application/vnd.dev.modelgate.decisions.v1+json"
#: One signed decision attestation (a DSSE envelope over an in-toto statement), one referrer
#: each: the artifact type cosign gives the attestations it attaches as OCI 1.1 referrers.
ATTESTATION_TYPE = "application/vnd.dsse.envelope.v1+json"
#: Where pulled attestations land in ``signatures/``: in-toto JSON Lines, one envelope a line.
ATTESTATIONS_FILE = "decisions.intoto.jsonl"
#: The OCI "empty" config descriptor, for referrer artifacts that carry no config.
EMPTY_CONFIG = {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2,
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}

_WEIGHT_SUFFIXES = (".onnx", ".data", ".bin", ".onnx_data", ".safetensors", ".gguf", ".tflite",
                    ".pt", ".pth", ".ckpt", ".pkl", ".npz", ".npy", ".h5")
_CODE_SUFFIXES = (".py", ".sh", ".js", ".ts", ".go", ".rs", ".c", ".cc", ".cpp", ".java")
_PRECISIONS = {"fp32": "float32", "fp64": "float64", "fp16": "float16", "bf16": "bfloat16",
               "int8": "int8", "uint8": "uint8", "int16": "int16", "int32": "int32"}
_FORMATS = {"pytorch": "pt"}
#: Config fields read from the model files (format headers), not from bundle.yaml.
MEASURED = ("paramSize", "architecture")
_PARAM_SIZE = re.compile(r"^\d+(\.\d)?[QqTtBbMmKk]$")
_SCALES = (("Q", 10**15), ("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3))
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def layer_media_type(*, path: str, weights: frozenset[str]) -> tuple[str, bool]:
    """``(media type, untested)`` of the bundle file ``path``; ``weights`` are the paths
    ``bundle.yaml`` declares as artifacts. ``untested`` marks a role guessed from a suffix."""
    lower = path.lower()
    if path in weights:
        return WEIGHT, False
    if path == "bundle.yaml" or path == "MODEL_CARD.md" or path == "LICENSE" or path.startswith("licenses/") \
            or path.startswith("benchmarks/"):
        return DOC, False
    if path.startswith("samples/"):
        return DATASET, False
    if lower.endswith(_CODE_SUFFIXES):
        return CODE, True
    if path.startswith("model/"):
        # Undeclared files beside the models: external tensor data, or tokenizer/config files.
        return (WEIGHT, True) if lower.endswith(_WEIGHT_SUFFIXES) else (WEIGHT_CONFIG, True)
    return DOC, True


def param_size(count: int) -> str | None:
    """A parameter count as the spec writes ``paramSize``: ``<count><scale>`` with at most one
    decimal, e.g. ``6.7B``, ``25.6M``; ``None`` below 50 parameters (no scale can say it)."""
    for prefix, scale in _SCALES:
        value = round(count / scale, 1)
        if value >= 1 or prefix == "K":
            if value == 0:
                return None
            return f"{value:.1f}".removesuffix(".0") + prefix
    return None


def model_config(*, manifest: dict, diff_ids: list[str], measured: dict | None = None) -> dict:
    """The ModelPack config (``application/vnd.cncf.model.config.v1+json``) of a bundle whose
    ``bundle.yaml`` is ``manifest``; ``diff_ids`` are the layer digests in layer order;
    ``measured`` holds the :data:`MEASURED` fields read from the model files, when known."""
    descriptor: dict = {"name": str(manifest["name"]), "version": str(manifest["version"])}
    if manifest.get("description"):
        descriptor["description"] = str(manifest["description"])
    owners = [f"{o.get('name', '')} <{o['email']}>" if o.get("email") else str(o.get("name", ""))
              for o in manifest.get("owners") or [] if isinstance(o, dict)]
    if owners:
        descriptor["authors"] = owners
    if manifest.get("license"):
        descriptor["licenses"] = [str(manifest["license"])]
    provenance = manifest.get("provenance") or {}
    source = provenance.get("source") or {}
    if source.get("repository"):
        descriptor["sourceURL"] = str(source["repository"])
    if source.get("commit"):
        descriptor["revision"] = str(source["commit"])
    datasets = [str(d["uri"]) for d in provenance.get("datasets") or [] if isinstance(d, dict) and d.get("uri")]
    if datasets:
        descriptor["datasetsURL"] = datasets
    created = _rfc3339(provenance.get("created_at"))
    if created:
        descriptor["createdAt"] = created
    config: dict = {}
    artifacts = [a for a in manifest.get("artifacts") or [] if isinstance(a, dict)]
    formats = _unique(_FORMATS.get(str(a.get("format")), str(a.get("format"))) for a in artifacts if a.get("format"))
    if formats:
        config["format"] = ",".join(formats)
    variants = _unique(str(a["variant"]) for a in artifacts if a.get("variant"))
    precisions = _unique(_PRECISIONS[v] for v in variants if v in _PRECISIONS)
    quantisations = _unique(v for v in variants if v not in _PRECISIONS)
    if precisions:
        config["precision"] = ",".join(precisions)
    if quantisations:
        config["quantization"] = ",".join(quantisations)
    config.update({key: str(value) for key, value in (measured or {}).items() if key in MEASURED and value})
    return {"descriptor": descriptor, "config": config, "modelfs": {"type": "layers", "diffIds": list(diff_ids)}}


def _unique(values) -> list[str]:
    return list(dict.fromkeys(values))


def _rfc3339(value) -> str | None:
    if value is None:
        return None
    text = str(value).replace(" ", "T", 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text + "T00:00:00Z"
    return text if _RFC3339.match(text) else None


def canonical_json(document: dict) -> bytes:
    """The bytes we push for a JSON document (sorted keys, no spaces): one document, one digest."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# ------------------------------------------------------------------ reading one back
@dataclass(frozen=True)
class Layer:
    """One file of a pulled bundle: where it goes, its digest, size and media type."""

    path: str
    digest: str
    size: int
    media_type: str


def check_descriptor(value, *, what: str) -> dict:
    """A descriptor with a sha256 digest and a non-negative integer size, or :class:`ArtifactRefused`."""
    if not isinstance(value, dict):
        raise ArtifactRefused(f"{what} is not a descriptor")
    digest, size = value.get("digest"), value.get("size")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise ArtifactRefused(f"{what} has no sha256 digest ({digest!r})",
                              hint="Only sha256 digests are accepted.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ArtifactRefused(f"{what} has no valid size ({size!r})")
    if not isinstance(value.get("mediaType"), str):
        raise ArtifactRefused(f"{what} has no media type")
    return value


def safe_path(path, *, what: str) -> str:
    """``path`` when it is a relative POSIX path inside the bundle; :class:`ArtifactRefused` otherwise."""
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path or path.startswith("/") \
            or re.match(r"^[A-Za-z]:", path):
        raise ArtifactRefused(f"{what} has an unusable file path {path!r}",
                              hint="Layer paths are relative POSIX paths inside the bundle.")
    parts = PurePosixPath(path).parts
    if any(part in ("..", ".", "") for part in path.split("/")) or not parts:
        raise ArtifactRefused(f"{what} has a file path that leaves the bundle: {path!r}",
                              hint="'..', '.' and empty path components are refused.")
    return path


def parse_manifest(*, data: bytes, max_layers: int) -> tuple[dict, list[dict]]:
    """The manifest document and its layer descriptors, checked as a ModelPack model manifest."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ArtifactRefused("the manifest is not JSON", hint="Is this an OCI registry?") from None
    if not isinstance(manifest, dict) or manifest.get("schemaVersion") != 2:
        raise ArtifactRefused("the manifest is not an OCI image manifest (schemaVersion 2)")
    if manifest.get("mediaType") != MANIFEST_MEDIA_TYPE:
        raise ArtifactRefused(f"the manifest's media type is {manifest.get('mediaType')!r}, "
                              f"not {MANIFEST_MEDIA_TYPE}")
    if manifest.get("artifactType") != ARTIFACT_TYPE:
        raise ArtifactRefused(f"the artifact type is {manifest.get('artifactType')!r}, not {ARTIFACT_TYPE}",
                              hint="Only CNCF ModelPack model artifacts can be pulled as bundles.")
    config = check_descriptor(manifest.get("config"), what="the config")
    if config["mediaType"] != CONFIG_MEDIA_TYPE:
        raise ArtifactRefused(f"the config's media type is {config['mediaType']!r}, not {CONFIG_MEDIA_TYPE}")
    layers = manifest.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ArtifactRefused("the manifest lists no layers")
    if len(layers) > max_layers:
        raise ArtifactRefused(f"the manifest lists {len(layers)} layers, more than the {max_layers} allowed",
                              hint="MODELGATE_MAX_ARCHIVE_ENTRIES sets the limit.")
    return manifest, [check_descriptor(layer, what=f"layer {i + 1}") for i, layer in enumerate(layers)]


def model_layers(*, descriptors: list[dict], max_bytes: int) -> tuple[Layer, ...]:
    """The layers as bundle files: raw role media types only, each with a safe, unique path."""
    seen: dict[str, str] = {}
    layers, total = [], 0
    for number, descriptor in enumerate(descriptors, start=1):
        what = f"layer {number}"
        media_type = descriptor["mediaType"]
        if media_type not in RAW_LAYERS:
            hint = ("Archived (.tar) ModelPack layers are not read: every file travels as its own "
                    "raw layer." if media_type.startswith("application/vnd.cncf.model.") else None)
            raise ArtifactRefused(f"{what} has the media type {media_type!r}", hint=hint)
        annotations = descriptor.get("annotations")
        path = annotations.get(FILEPATH) if isinstance(annotations, dict) else None
        if path is None:
            raise ArtifactRefused(f"{what} has no {FILEPATH} annotation",
                                  hint="Each ModelPack layer names the file it holds.")
        path = safe_path(path, what=what)
        folded = path.casefold()  # two paths one case-insensitive disk would merge
        if folded in seen:
            raise ArtifactRefused(f"{what} repeats the path {path!r} (also {seen[folded]!r})")
        if path == "signatures" or path.startswith("signatures/"):
            raise ArtifactRefused(f"{what} puts {path!r} in signatures/, which travels as referrers")
        for parent in PurePosixPath(path).parents:
            if str(parent).casefold() in seen:
                raise ArtifactRefused(f"{what}: {path!r} lies under the file {str(parent)!r}")
        seen[folded] = path
        total += descriptor["size"]
        if total > max_bytes:
            raise ArtifactRefused(f"the layers add up to more than {max_bytes} bytes",
                                  hint="MODELGATE_MAX_ARCHIVE_BYTES sets the limit.")
        layers.append(Layer(path, descriptor["digest"], descriptor["size"], media_type))
    prefixes = {str(p).casefold() for layer in layers for p in PurePosixPath(layer.path).parents}
    clash = [layer.path for layer in layers if layer.path.casefold() in prefixes]
    if clash:
        raise ArtifactRefused(f"{clash[0]!r} is both a file and a folder of the artifact")
    if "bundle.yaml" not in seen:
        raise ArtifactRefused("the artifact has no bundle.yaml layer", hint="Is this a ModelGate bundle?")
    return tuple(layers)


def check_config(*, config: dict, layers: tuple[Layer, ...], manifest: dict, measured: dict | None = None) -> None:
    """The pulled config agrees with the schema, the layers and the pulled ``bundle.yaml``, and
    with ``measured`` (what the pulled model files say) when the caller read them; without
    it the :data:`MEASURED` fields are only checked for their form."""
    from jsonschema_rs import Draft202012Validator

    from modelgate.core import resources

    validator = Draft202012Validator(resources.json_schema("modelpack-config.schema.json"),
                                     validate_formats=False, offline=True)
    problem = next(iter(validator.iter_errors(config)), None)
    if problem is not None:
        raise ArtifactRefused(f"the model config is not a ModelPack config: {problem.message}")
    if config["modelfs"]["diffIds"] != [layer.digest for layer in layers]:
        raise ArtifactRefused("the config's diffIds are not the layers' digests")
    size = config.get("config", {}).get("paramSize")
    if size is not None and not _PARAM_SIZE.match(size):
        raise ArtifactRefused(f"the config's paramSize {size!r} is not <count><K|M|B|T|Q>")
    expected = model_config(manifest=manifest, diff_ids=[layer.digest for layer in layers], measured=measured)
    for part in ("descriptor", "config"):
        for key in sorted(set(expected[part]) | set(config.get(part, {}))):
            if part == "config" and key in MEASURED and measured is None:
                continue
            if expected[part].get(key) != config.get(part, {}).get(key):
                source = "the model files" if part == "config" and key in MEASURED else "bundle.yaml"
                raise ArtifactRefused(f"the config's {part}.{key} ({config.get(part, {}).get(key)!r}) "
                                      f"disagrees with {source} ({expected[part].get(key)!r})",
                                      hint=f"The config is made from {source}; one of them was changed.")
