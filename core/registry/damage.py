"""Store integrity as a registry feature: ``fsck``, damage marks and ``repair``.

A stored bundle never changes after import, so any difference between its bytes and
its file list is damage: a disk fault, a restore from the wrong backup, or an edit.
``fsck`` re-hashes every stored version, and marks each damaged one with a
``store_damage`` row (and an audit event); promotion, rollback, signing and reports
refuse a marked version. The mark stays until ``repair`` puts the imported bytes back
from a bundle with the very same digests; a bundle with other bytes is refused. A
re-import of the same bytes no longer repairs quietly: it records the damage and
points at ``repair``.

Each write is one small function (:func:`mark_damaged`, :func:`clear_damage`), so a
back end that routes writes through database functions can take them over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select

from modelgate.core.progress import Progress
from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.errors import StoreDamaged, WorkflowRefused
from modelgate.core.registry.models import Model, StoreDamage, Version, as_utc, utcnow
from modelgate.core.registry.queries import get_version
from modelgate.core.store.folder import StoreCheck

#: Anyone holding a role may check the store; marking what it finds is part of the check.
FSCK_ROLES = ("submitter", "reviewer", "approver", "signer")
#: Only an admin puts bytes back into the store.
REPAIR_ROLES = ("admin",)
REPAIR_HINT = "Repair it from the original bundle: modelgate registry repair {label} BUNDLE"


@dataclass(frozen=True)
class DamageInfo:
    """A standing damage mark: what was found, by whom and when."""

    digest: str
    missing: tuple[str, ...]
    changed: tuple[str, ...]
    extra: tuple[str, ...]
    problem: str | None
    found_by: str
    found_at: datetime

    def describe(self) -> str:
        return StoreCheck(self.digest, self.missing, self.changed, self.extra, self.problem).describe()

    @classmethod
    def of(cls, row: StoreDamage) -> DamageInfo:
        try:
            details = json.loads(row.details)
        except ValueError:
            details = {}
        return cls(row.digest, tuple(details.get("missing") or ()), tuple(details.get("changed") or ()),
                   tuple(details.get("extra") or ()), details.get("problem"), row.found_by,
                   as_utc(row.found_at))


@dataclass(frozen=True)
class DamagedVersion:
    """One damaged version as ``fsck`` found it; ``newly`` is False when it was marked before."""

    name: str
    version: str
    check: StoreCheck
    newly: bool

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def as_dict(self) -> dict:
        return {"version": self.ref, **self.check.as_dict(), "newly_marked": self.newly}


@dataclass(frozen=True)
class FsckReport:
    """What ``fsck`` checked and the damaged versions, by name."""

    checked: int
    damaged: tuple[DamagedVersion, ...]

    @property
    def ok(self) -> bool:
        return not self.damaged


@dataclass(frozen=True)
class RepairResult:
    """What ``repair`` did: ``repaired`` is False when the stored copy was intact and unmarked."""

    name: str
    version: str
    digest: str
    repaired: bool
    was: str


def damage_of(session, version_id: int) -> DamageInfo | None:
    """The standing damage mark of a version, if any."""
    row = session.scalars(select(StoreDamage).where(StoreDamage.version_id == version_id)).first()
    return DamageInfo.of(row) if row is not None else None


def mark_damaged(session, row: Version, *, check: StoreCheck, actor: str, label: str) -> bool:
    """Mark ``row`` damaged with what ``check`` found; audit a new mark ("store.damaged").
    Returns whether the mark is new (an existing one gets the latest findings)."""
    details = json.dumps(check.as_dict(), sort_keys=True, ensure_ascii=False)
    if pgwrites.guarded(session):
        if not pgwrites.call(session, "mark_damaged", version_id=row.id, details=details):
            return False
    else:
        existing = session.scalars(select(StoreDamage).where(StoreDamage.version_id == row.id)).first()
        if existing is not None:
            existing.details = details
            return False
        session.add(StoreDamage(version_id=row.id, digest=row.digest, details=details, found_by=actor,
                                found_at=utcnow()))
        session.flush()
    audit.append(session, actor=actor, action="store.damaged", subject=label, payload=check.as_dict())
    return True


def clear_damage(session, row: Version) -> bool:
    """Remove the damage mark of ``row``; returns whether there was one."""
    if pgwrites.guarded(session):
        return bool(pgwrites.call(session, "clear_damage", version_id=row.id))
    result = session.execute(delete(StoreDamage).where(StoreDamage.version_id == row.id))
    return bool(result.rowcount)


def refusal(label: str, damage: DamageInfo | StoreCheck, *, action: str) -> StoreDamaged:
    """The error that refuses ``action`` on a damaged version, naming every damaged file."""
    return StoreDamaged(f"cannot {action} {label}: its stored copy is damaged ({damage.describe()})",
                        hint=REPAIR_HINT.format(label=label))


def require_intact(registry, *, name: str, version: str, action: str, progress: Progress | None = None) -> None:
    """Refuse ``action`` on ``name@version`` when it is marked damaged or its stored bytes
    no longer match (found damage is marked, audited and committed before the refusal)."""
    label = f"{name}@{version}"
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        marked, digest = damage_of(session, row.id), row.digest
    if marked is not None:
        raise refusal(label, marked, action=action)
    check = registry.store.inspect(digest, progress=progress)
    if not check.intact:
        with registry.session() as session:
            row = get_version(session, name=name, version=version)
            mark_damaged(session, row, check=check, actor=registry.actor, label=label)
        raise refusal(label, check, action=action)


def fsck(registry, *, progress: Progress | None = None) -> FsckReport:
    """Re-hash the stored copy of every version; mark and audit what is damaged.

    One "store.fsck" event records the outcome (each damaged version and file), and each
    newly damaged version gets its "store.damaged" event. Marks are never lifted here:
    only :func:`repair` does that, so a marked version whose files match again is still
    reported (and still refused elsewhere) until it is repaired.
    """
    progress = progress or Progress()
    with registry.session(write=False) as session:
        identity.require(session, registry.actor, *FSCK_ROLES, action="check", subject="the store")
        versions = session.execute(select(Version.id, Model.name, Version.version, Version.digest)
                                   .join(Model, Model.id == Version.model_id)
                                   .order_by(Model.name, Version.id)).all()
        marked = set(session.scalars(select(StoreDamage.version_id)))
    found: list[tuple[int, str, str, StoreCheck]] = []
    matching_again: set[int] = set()
    for version_id, name, version, digest in versions:
        progress.check()
        progress.start(label=f"checking {name}@{version}", total=0)
        check = registry.store.inspect(digest, progress=progress)
        if not check.intact:
            found.append((version_id, name, version, check))
        elif version_id in marked:
            # Put right by hand meanwhile, but still refused everywhere: say so, and how to end it.
            matching_again.add(version_id)
            found.append((version_id, name, version, StoreCheck(
                digest, problem="marked damaged earlier; its files match again, and "
                                "`modelgate registry repair` from its bundle lifts the mark")))
    damaged = []
    with registry.session() as session:
        identity.require(session, registry.actor, *FSCK_ROLES, action="check", subject="the store")
        for version_id, name, version, check in found:
            row = session.get(Version, version_id)
            if row is None:  # removed meanwhile: nothing left to mark
                continue
            newly = False
            if version_id not in matching_again:  # what was found earlier stays on record
                newly = mark_damaged(session, row, check=check, actor=registry.actor, label=f"{name}@{version}")
            damaged.append(DamagedVersion(name, version, check, newly))
        audit.append(session, actor=registry.actor, action="store.fsck", subject="store",
                     payload={"checked": len(versions), "damaged": [d.as_dict() for d in damaged]})
    return FsckReport(len(versions), tuple(damaged))


def repair(registry, *, name: str, version: str, bundle: Path, progress: Progress | None = None) -> RepairResult:
    """Put the bytes of ``bundle`` back as the stored copy of ``name@version`` and lift its mark.

    Admins only. ``bundle`` must hold exactly the imported bytes (the same digest); any
    other bundle is refused (:class:`WorkflowRefused`, audited "store.repair.refused") and
    the store is left as it was. A repair is audited ("store.repaired").
    """
    label = f"{name}@{version}"
    with registry.session() as session:
        identity.require(session, registry.actor, *REPAIR_ROLES, action="repair the store", subject=label)
        row = get_version(session, name=name, version=version)
        digest, marked = row.digest, damage_of(session, row.id)
    staged = registry.store.stage(Path(bundle), progress=progress)
    try:
        if staged.digest != digest:
            with registry.session() as session:
                audit.append(session, actor=registry.actor, action="store.repair.refused", subject=label,
                             payload={"expected": digest, "offered": staged.digest, "bundle": str(bundle)})
            raise WorkflowRefused(
                f"{bundle} does not hold the bytes of {label}: its digest is {staged.digest[:16]}…, "
                f"the registry recorded {digest[:16]}…; nothing was changed",
                hint="Repair from the very bundle that was imported (the same files, byte for byte).")
        before = registry.store.inspect(digest)
        if before.intact and marked is None:
            return RepairResult(name, version, digest, False, "intact")
        was = marked.describe() if marked is not None else before.describe()
        with registry.session() as session:
            identity.require(session, registry.actor, *REPAIR_ROLES, action="repair the store", subject=label)
            row = get_version(session, name=name, version=version, for_update=True)
            if not before.intact:
                registry.store.replace(staged)
            clear_damage(session, row)
            audit.append(session, actor=registry.actor, action="store.repaired", subject=label,
                         payload={"digest": digest, "was": was, "bundle": str(bundle),
                                  "files_restored": not before.intact})
        return RepairResult(name, version, digest, True, was)
    finally:
        if staged.folder.exists():
            registry.store.discard(staged)
