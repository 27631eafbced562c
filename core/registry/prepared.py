"""A promotion in two steps: prepare (hash and validate once), then commit.

:func:`prepare` runs outside any transaction. It reads the version, the production
version it would replace (the champion) and whether a stored validation run already
answers; it hashes each stored copy once (the version's and the champion's, compared
with their file lists) and, when no stored run matches, validates the stored bundle
with those very digests, so the engine reads no file a second time. What it found is
an immutable :class:`PreparedPromotion`.

The commit is :func:`~modelgate.core.registry.gates.evaluate` inside the promotion's
transaction: it judges the stored-copy gate on the prepared checks instead of hashing
again, records the prepared run, then the caller moves the version and writes the
audit events in that same transaction. A champion that changed between the two steps
is hashed and judged afresh there, so nothing prepared is trusted beyond what it saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.policy.stages import RETIRED
from modelgate.core.registry.gates import recorded_signatures, run_validation, stage_order, stored_run
from modelgate.core.registry.queries import champion_of
from modelgate.core.registry.queries import get_version
from modelgate.core.store.folder import StoreCheck


@dataclass(frozen=True)
class PreparedPromotion:
    """What :func:`prepare` found for moving ``label`` to ``to_stage`` under the policy with
    ``policy_digest``: ``checks`` holds each stored copy hashed once, by bundle digest (with
    its file digests); ``fresh`` is ``(report, champion digest)`` of a validation made from
    those digests when no stored run matched, else ``None``."""

    label: str
    to_stage: str
    policy_digest: str
    checks: Mapping[str, StoreCheck] = field(default_factory=lambda: MappingProxyType({}))
    fresh: tuple | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", MappingProxyType(dict(self.checks)))


def prepare(registry, *, name: str, version: str, to_stage: str, policy: Policy,
            progress: Progress | None = None, verify_store: bool = True) -> PreparedPromotion:
    """Hash each stored copy once and validate once, outside any transaction (see the module doc).

    Nothing is hashed for a move the stage order refuses or that retires the version. Without
    ``verify_store`` the stored copies are hashed only when a validation run must be made.
    """
    label = f"{name}@{version}"
    nothing = PreparedPromotion(label, to_stage, policy.digest)
    if to_stage in RETIRED:
        return nothing
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        if stage_order(row.stage, to_stage).blocking:
            return nothing
        champion = champion_of(session, model_id=row.model_id, besides=row.id)
        champion_digest = champion.digest if champion is not None else None
        run_needed = stored_run(session, row.id, to_stage, policy.digest, champion_digest) is None
        recorded = recorded_signatures(session, row, label=label)
        digests = [row.digest] + ([champion_digest] if champion_digest else [])
    if not (run_needed or verify_store):
        return nothing
    store = registry.store
    checks = {digest: store.inspect(digest, progress=progress) for digest in digests}
    fresh = None
    if run_needed and all(check.intact for check in checks.values()):
        paths = [store.path_of(store.relative(digest)) for digest in digests]
        report = run_validation(paths[0], policy=policy, stage=to_stage, recorded=recorded,
                                champion=paths[1] if champion_digest else None,
                                digests=checks[row.digest].hashed, progress=progress)
        fresh = (report, champion_digest)
    if not verify_store:  # the checklist's refresh judges the store by its damage marks only
        checks = {}
    return PreparedPromotion(label, to_stage, policy.digest, checks, fresh)
