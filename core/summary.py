"""What a reviewer first wants to know about a bundle (``modelgate inspect``)."""

from __future__ import annotations

from modelgate.core.bundle import SIGNATURES, Bundle
from modelgate.core.integrity import check_integrity
from modelgate.core.manifest import entries, load_manifest, section
from modelgate.core.manifest_types import Manifest
from modelgate.core.progress import Progress

SUMMARY_FORMAT = "modelgate.inspect/v1"


def _interface(manifest: Manifest) -> dict:
    interface = manifest.interface
    return {"version": interface.version,
            "inputs": [tensor.as_dict() for tensor in interface.inputs],
            "outputs": [tensor.as_dict() for tensor in interface.outputs]}


def summarise(bundle: Bundle, *, progress: Progress | None = None, verify: bool = True) -> dict:
    """A JSON-ready description of ``bundle``; ``verify`` hashes files for the lock state."""
    result = load_manifest(bundle)
    data = result.require()
    typed = result.typed
    artifacts = []
    files = set(bundle.files())
    for artifact in typed.artifacts:
        path = artifact.path
        present = path is not None and path in files
        artifacts.append({
            "path": path, "format": artifact.format, "variant": artifact.variant,
            "size": bundle.size(path) if present else None,
            "declared_size": artifact.size, "sha256": artifact.sha256,
            "present": present,
        })
    lock = {"state": "unchecked"}
    if verify:
        integrity = check_integrity(bundle, data, progress=progress)
        lock = {
            "state": integrity.state.value,
            "mismatched": list(integrity.mismatched), "missing": list(integrity.missing),
            "unlisted": list(integrity.unlisted),
            "artifact_problems": [message for _, _, message in integrity.artifact_problems],
        }
        for entry in artifacts:
            if entry["present"]:
                entry["digest_ok"] = entry["sha256"] == integrity.digests.get(entry["path"])
    provenance = section(data, "provenance", dict)
    source = provenance.get("source") if isinstance(provenance.get("source"), dict) else {}
    return {
        "format": SUMMARY_FORMAT,
        "source": str(bundle.source),
        "name": data.get("name"), "version": data.get("version"),
        "description": data.get("description"),
        "license": data.get("license"), "license_files": section(data, "license_files", list),
        "owners": entries(data, "owners"),
        "tags": [t for t in section(data, "tags", list) if isinstance(t, str)],
        "artifacts": artifacts,
        "interface": _interface(typed),
        "targets": [target.as_dict() for target in typed.targets],
        "dependencies": entries(data, "dependencies"),
        "provenance": {
            "repository": source.get("repository"),
            "commit": source.get("commit"),
            "training_run": provenance.get("training_run"),
            "framework": provenance.get("framework") if isinstance(provenance.get("framework"), dict) else None,
            "seed": provenance.get("seed"),
            "datasets": [str(d.get("name")) for d in entries(provenance, "datasets")],
            "parent": provenance.get("parent"),
            "created_at": provenance.get("created_at"),
        },
        "benchmarks": [b for b in section(data, "benchmarks", list) if isinstance(b, str)],
        "lifecycle": section(data, "lifecycle", dict),
        "signatures": sorted(f for f in files if f.startswith(SIGNATURES + "/")),
        "lock": lock,
        "findings": [f.as_dict() for f in result.findings],
    }
