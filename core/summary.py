"""What a reviewer first wants to know about a bundle (``modelgate inspect``)."""

from __future__ import annotations

from modelgate.core.bundle import SIGNATURES, Bundle
from modelgate.core.integrity import check_integrity
from modelgate.core.manifest import load_manifest
from modelgate.core.progress import Progress

SUMMARY_FORMAT = "modelgate.inspect/v1"


def summarise(bundle: Bundle, *, progress: Progress | None = None, verify: bool = True) -> dict:
    """A JSON-ready description of ``bundle``; ``verify`` hashes files for the lock state."""
    result = load_manifest(bundle)
    data = result.require()
    artifacts = []
    files = set(bundle.files())
    for artifact in data.get("artifacts") or []:
        if not isinstance(artifact, dict):
            continue
        path = artifact.get("path")
        present = isinstance(path, str) and path in files
        artifacts.append({
            "path": path, "format": artifact.get("format"), "variant": artifact.get("variant"),
            "size": bundle.size(path) if present else None,
            "declared_size": artifact.get("size"), "sha256": artifact.get("sha256"),
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
    provenance = data.get("provenance") or {}
    return {
        "format": SUMMARY_FORMAT,
        "source": str(bundle.source),
        "name": data.get("name"), "version": data.get("version"),
        "description": data.get("description"),
        "license": data.get("license"), "license_files": data.get("license_files") or [],
        "owners": data.get("owners") or [], "tags": data.get("tags") or [],
        "artifacts": artifacts,
        "interface": data.get("interface") or {},
        "targets": data.get("targets") or [],
        "dependencies": data.get("dependencies") or [],
        "provenance": {
            "repository": (provenance.get("source") or {}).get("repository"),
            "commit": (provenance.get("source") or {}).get("commit"),
            "training_run": provenance.get("training_run"),
            "framework": provenance.get("framework"),
            "seed": provenance.get("seed"),
            "datasets": [d.get("name") for d in provenance.get("datasets") or [] if isinstance(d, dict)],
            "parent": provenance.get("parent"),
            "created_at": provenance.get("created_at"),
        },
        "benchmarks": data.get("benchmarks") or [],
        "lifecycle": data.get("lifecycle") or {},
        "signatures": sorted(f for f in files if f.startswith(SIGNATURES + "/")),
        "lock": lock,
        "findings": [f.as_dict() for f in result.findings],
    }
