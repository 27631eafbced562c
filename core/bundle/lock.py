"""``modelgate lock``: record artifact digests and sizes and the ``files`` map."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from modelgate.core.bundle.reader import MANIFEST, open_bundle
from modelgate.core.errors import BundleError, ManifestError
from modelgate.core.bundle.integrity import compute_digests
from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.outputs import write_atomically
from modelgate.core.progress import Progress

#: Key order of a written manifest (the spec's order); any other key follows these.
KEY_ORDER = (
    "bundle_format", "name", "version", "description", "owners", "tags", "license",
    "license_files", "artifacts", "interface", "samples", "targets", "dependencies", "provenance",
    "benchmarks", "observability", "lifecycle", "files",
)


@dataclass(frozen=True)
class LockResult:
    files: int
    bytes: int
    changed: tuple[str, ...]
    dropped_comments: bool
    remaining: tuple  # schema findings that locking does not fix


def dump_manifest(data: dict) -> str:
    """Render a manifest in canonical key order, block style."""
    ordered = {key: data[key] for key in KEY_ORDER if key in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)


def _refuse_signature_scope(bundle, data: dict) -> None:
    """A lock would leave anything under signatures/ uncovered: refuse rather than pretend."""
    from modelgate.core.bundle.manifest_types import typed_manifest
    from modelgate.core.bundle.scope import signature_scope_problems

    problems = signature_scope_problems(bundle, typed_manifest(data))
    if problems:
        shown = "; ".join(p.message for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise BundleError(f"cannot lock: {shown}{more}",
                          hint="Move such files out of signatures/, which keeps only "
                               "signatures/<signer>.sig, and point bundle.yaml at their new place.",
                          rule="MG130")


def lock_bundle(bundle_dir: str | os.PathLike, *, progress: Progress | None = None) -> LockResult:
    """Hash every content file of a bundle folder and write the digests into ``bundle.yaml``."""
    folder = Path(bundle_dir)
    if not folder.is_dir():
        raise BundleError(f"{folder} is not a folder",
                          hint="`modelgate lock` writes into bundle.yaml, so it needs the bundle folder, not an archive.")
    with open_bundle(folder) as bundle:
        result = load_manifest(bundle)
        data = result.require()
        artifacts = data.get("artifacts") or []
        if not isinstance(artifacts, list) or not all(isinstance(a, dict) for a in artifacts):
            raise ManifestError("`artifacts` in bundle.yaml must be a list of mappings",
                                hint="See `modelgate init` for the expected shape.", rule="MG103")
        _refuse_signature_scope(bundle, data)
        digests = compute_digests(bundle, progress=progress)
        changed = []
        for artifact in artifacts:
            path = artifact.get("path")
            if not isinstance(path, str) or path not in digests:
                raise BundleError(f"artifact {path!r} is listed in bundle.yaml but not in the bundle",
                                  hint="Copy the file in, or remove it from `artifacts`.", rule="MG105")
            size = bundle.size(path)
            if artifact.get("sha256") != digests[path] or artifact.get("size") != size:
                changed.append(path)
            artifact["sha256"], artifact["size"] = digests[path], size
        old_files = result.typed.files
        changed.extend(sorted(n for n in set(old_files) | set(digests) if old_files.get(n) != digests.get(n)))
        data["files"] = dict(sorted(digests.items()))
        original = (folder / MANIFEST).read_text(encoding="utf-8-sig")
        dropped = any(line.lstrip().startswith("#") for line in original.splitlines())
        try:
            write_atomically(folder / MANIFEST, dump_manifest(data))
        except OSError as exc:
            raise BundleError(f"cannot write {folder / MANIFEST}: {exc.strerror or exc}",
                              hint="`modelgate lock` needs write access to the bundle folder.") from None
        remaining = tuple(f for f in result.findings
                          if not str(f.location.path or "").startswith("files")
                          and not str(f.location.path or "").endswith((".sha256", ".size")))
        return LockResult(len(digests), sum(bundle.size(n) for n in digests),
                          tuple(dict.fromkeys(changed)), dropped, remaining)
