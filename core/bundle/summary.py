"""What a reviewer first wants to know about a bundle (``modelgate inspect``)."""

from __future__ import annotations

from modelgate.core.bundle.reader import SIGNATURES, Bundle
from modelgate.core.bundle.integrity import check_integrity
from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.bundle.manifest_types import Manifest
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
    result.require()
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
        integrity = check_integrity(bundle, typed, progress=progress)
        lock = {
            "state": integrity.state.value,
            "mismatched": list(integrity.mismatched), "missing": list(integrity.missing),
            "unlisted": list(integrity.unlisted),
            "artifact_problems": [message for _, _, message in integrity.artifact_problems],
        }
        for entry in artifacts:
            if entry["present"]:
                entry["digest_ok"] = entry["sha256"] == integrity.digests.get(entry["path"])
    provenance = typed.provenance
    return {
        "format": SUMMARY_FORMAT,
        "source": str(bundle.source),
        "name": typed.name, "version": typed.version,
        "description": typed.description,
        "license": typed.license, "license_files": list(typed.license_files),
        "owners": [owner.as_dict() for owner in typed.owners],
        "tags": list(typed.tags),
        "artifacts": artifacts,
        "interface": _interface(typed),
        "targets": [target.as_dict() for target in typed.targets],
        "dependencies": [dependency.as_dict() for dependency in typed.dependencies],
        "provenance": {
            "repository": provenance.repository,
            "commit": provenance.commit,
            "training_run": provenance.training_run,
            "framework": provenance.framework(),
            "seed": provenance.seed,
            "datasets": list(provenance.datasets),
            "parent": provenance.parent,
            "created_at": provenance.created_at,
        },
        "benchmarks": list(typed.benchmarks),
        "lifecycle": typed.lifecycle.as_dict(),
        "signatures": sorted(f for f in files if f.startswith(SIGNATURES + "/")),
        "lock": lock,
        "findings": [f.as_dict() for f in result.findings],
    }
