"""Lock state: do the digests recorded in the manifest match the bundle's bytes?"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from modelgate.core.bundle.reader import Bundle
from modelgate.core.bundle.digests import hash_files
from modelgate.core.bundle.manifest_types import Manifest
from modelgate.core.progress import Progress


class LockState(enum.Enum):
    UNLOCKED = "unlocked"      # no `files` map at all
    LOCKED = "locked"          # every digest matches, no file missing or unlisted
    STALE = "stale"            # a `files` map exists but the bytes no longer match it


@dataclass(frozen=True)
class IntegrityReport:
    """Digests of the bundle's content files compared with the manifest."""

    state: LockState
    digests: dict[str, str]
    mismatched: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unlisted: tuple[str, ...] = ()
    artifact_problems: tuple[tuple[int, str, str], ...] = field(default=())  # (index, key, message)


def compute_digests(bundle: Bundle, *, progress: Progress | None = None) -> dict[str, str]:
    """SHA-256 of every content file (all but bundle.yaml and signatures/)."""
    return hash_files(((name, bundle.resolve(name)) for name in bundle.content_files()),
                      progress=progress)


def check_integrity(bundle: Bundle, manifest: Manifest, *, progress: Progress | None = None,
                    digests: dict[str, str] | None = None) -> IntegrityReport:
    """Compare the typed manifest's ``files`` and ``artifacts`` digests with the bytes on disk.

    A value of the wrong type (a number for a digest, a non-text key in ``files``) is MG103's
    finding; the typed manifest leaves it out, so it names no file here.
    """
    if digests is None:
        digests = compute_digests(bundle, progress=progress)
    problems = []
    for artifact in manifest.artifacts:
        path = artifact.path
        if path is None or path not in digests:
            continue
        if artifact.sha256 and artifact.sha256 != digests[path]:
            problems.append((artifact.index, "sha256",
                             f"{path}: sha256 is {digests[path]}, manifest says {artifact.sha256}"))
        if artifact.size is not None and artifact.size != bundle.size(path):
            problems.append((artifact.index, "size",
                             f"{path}: size is {bundle.size(path)} bytes, manifest says {artifact.size}"))
    if not manifest.files_given:
        return IntegrityReport(LockState.UNLOCKED, digests, artifact_problems=tuple(problems))
    listed = manifest.files
    mismatched = tuple(sorted(n for n, d in listed.items() if n in digests and digests[n] != d))
    missing = tuple(sorted(n for n in listed if n not in digests))
    unlisted = tuple(sorted(n for n in digests if n not in listed))
    clean = not (mismatched or missing or unlisted or problems)
    return IntegrityReport(LockState.LOCKED if clean else LockState.STALE, digests,
                           mismatched, missing, unlisted, tuple(problems))
