"""What ``validate`` takes from the registry: the stored copy of ``NAME@VERSION``, the version's
waivers and the policy in force.

A folder outside the registry has no waivers: a waiver excuses a rule for one registered
version, so a folder counts as that version only with ``--registry`` and only when its bytes
are the registered ones (same bundle digest). ``validate NAME@VERSION`` validates the stored
copy itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from modelgate.core.cli.registry_options import open_from_args, parse_ref
from modelgate.core.findings import Waived
from modelgate.core.policy.document import Policy


@dataclass(frozen=True)
class Registered:
    """The folder to validate, the waivers that apply to it and the registry's policy."""

    path: Path
    waivers: tuple[Waived, ...]
    policy: Policy | None


def names_a_version(bundle: Path) -> bool:
    """Whether ``bundle`` is ``NAME@VERSION`` rather than a path."""
    return not bundle.exists() and "@" in str(bundle)


def wants_registry(args, *, bundle: Path) -> bool:
    """Whether validating ``bundle`` reads the registry: ``NAME@VERSION`` or an explicit ``--registry``."""
    return names_a_version(bundle) or getattr(args, "registry", None) is not None


def _folder_digest(path: Path) -> tuple[str | None, str | None, str]:
    """``(name, version, bundle digest)`` of the bundle at ``path``, hashed as the store hashes it."""
    from modelgate.core.bundle.digests import bundle_digest, hash_files
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.manifest_types import typed_manifest
    from modelgate.core.bundle.reader import open_bundle

    with open_bundle(path) as bundle:
        manifest = typed_manifest(load_manifest(bundle).require())
        digests = hash_files((name, bundle.resolve(name)) for name in bundle.files())
    return manifest.name, manifest.version, bundle_digest(digests)


def registered(args, *, bundle: Path) -> Registered:
    """The stored copy (for ``NAME@VERSION``) or the folder itself, with the waivers of the
    registered version it is, and the registry's policy in force."""
    from modelgate.core.registry.errors import NotFound
    from modelgate.core.registry.policies import policy_in_force
    from modelgate.core.registry.queries import get_version
    from modelgate.core.registry.waivers import terms_of

    by_name = names_a_version(bundle)
    name, version, digest = parse_ref(str(bundle)) + (None,) if by_name else _folder_digest(bundle)
    with open_from_args(args) as registry:
        policy = policy_in_force(registry)
        with registry.session(write=False) as session:
            try:
                row = get_version(session, name=name or "", version=version or "")
            except NotFound:
                if by_name:
                    raise
                print(f"note: {name}@{version} is not in the registry; no waivers apply", file=sys.stderr)
                return Registered(bundle, (), policy)
            if not by_name and row.digest != digest:
                print(f"note: {bundle} is not the registered {name}@{version} (its bytes differ); "
                      "no waivers apply", file=sys.stderr)
                return Registered(bundle, (), policy)
            path = registry.store.path_of(registry.store.relative(row.digest)) if by_name else bundle
            return Registered(path, terms_of(session, row.id), policy)
