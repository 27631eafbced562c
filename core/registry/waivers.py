"""Waivers: documented exceptions to one rule for one version, that expire.

An approver requests a waiver (rule, reason, expiry date); it counts only once a *second*
approver confirms it (four eyes: the requester's own confirmation is refused, people compared
as the approval gate compares them). From then until it expires or is revoked, error findings
of that rule no longer block the validation gate: the gate says which rules were waived, by
whom and until when, and the promotion's attestation lists the waivers applied. An expired
waiver stops counting and the gate says so. Rules the policy forbids waiving
(``waivers.forbidden_rules``: signatures and code-running pickles by default) are refused when
requested, and a waiver granted before the policy forbade its rule no longer counts; signature
rules are never waived whatever the policy says. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy import select

from modelgate.core.errors import UsageError
from modelgate.core.findings import Waived
from modelgate.core.policy.document import Policy
from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.errors import NotFound, WorkflowRefused
from modelgate.core.registry.models import Waiver, as_utc, utcnow
from modelgate.core.registry.queries import get_version

#: Roles that request, confirm and revoke waivers (admin passes every role check).
WAIVE_ROLES = ("approver",)
#: Rule families no waiver may ever cover: a signature vouches for bytes, and excusing a
#: broken one would make every signature gate meaningless.
NEVER_WAIVED = ("MG8",)

PENDING, ACTIVE, EXPIRED, REVOKED = "pending", "active", "expired", "revoked"


@dataclass(frozen=True)
class WaiverInfo:
    """One waiver and its state now: pending (awaiting a second approver), active, expired or revoked."""

    id: int
    ref: str
    rule: str
    reason: str
    expires_at: datetime
    requested_by: str
    confirmed_by: str | None
    revoked_by: str | None
    state: str

    def as_dict(self) -> dict:
        return {"id": self.id, "rule": self.rule, "reason": self.reason, "expires": self.expires_at.isoformat(),
                "requestedBy": self.requested_by, "confirmedBy": self.confirmed_by, "state": self.state}


def state_of(row: Waiver, *, now: datetime | None = None) -> str:
    """The state of ``row`` at ``now`` (default: this moment)."""
    now = now or utcnow()
    if row.revoked_at is not None:
        return REVOKED
    if as_utc(row.expires_at) <= now:
        return EXPIRED
    return ACTIVE if row.confirmed_by else PENDING


def _info(row: Waiver, ref: str) -> WaiverInfo:
    return WaiverInfo(row.id, ref, row.rule, row.reason, as_utc(row.expires_at), row.requested_by,
                      row.confirmed_by, row.revoked_by, state_of(row))


def check_waivable(rule_id: str, *, policy: Policy) -> str:
    """The canonical id of ``rule_id`` if a waiver may cover it under ``policy``;
    :class:`WorkflowRefused` if signatures are concerned or the policy forbids it."""
    from modelgate.core.checks.catalog import get_rule

    rule = get_rule(rule_id).id
    if rule.startswith(NEVER_WAIVED):
        raise WorkflowRefused(f"{rule} may never be waived: signature rules vouch for the bytes themselves",
                              hint="Fix the cause: sign the bundle again with a trusted key.")
    entry = policy.waiver_forbidden(rule)
    if entry is not None:
        raise WorkflowRefused(f"policy {policy.name} forbids waiving {rule} (waivers.forbidden_rules: {entry})",
                              hint="Fix the cause; only an admin changing the policy could allow this waiver.")
    return rule


def _expiry(expires: date) -> datetime:
    moment = datetime.combine(expires, time(23, 59, 59), tzinfo=timezone.utc)
    if moment <= utcnow():
        raise UsageError(f"the expiry date {expires.isoformat()} has passed", hint="A waiver needs a future date.")
    return moment


def request_waiver(registry, *, name: str, version: str, rule: str, reason: str, expires: date) -> WaiverInfo:
    """Request a waiver of ``rule`` for ``name@version`` until the end of ``expires`` (UTC)."""
    from modelgate.core.registry.policies import policy_in_force

    rule = check_waivable(rule, policy=policy_in_force(registry))
    text, label = (reason or "").strip(), f"{name}@{version}"
    if not text:
        raise UsageError("a waiver needs a reason", hint="Say why the finding is acceptable with --reason TEXT.")
    until = _expiry(expires)
    with registry.session() as session:
        identity.require(session, registry.actor, *WAIVE_ROLES, action="waive rules", subject=label)
        row = get_version(session, name=name, version=version)
        if pgwrites.guarded(session):
            waiver = session.get(Waiver, pgwrites.call(session, "request_waiver", version_id=row.id, rule=rule,
                                                       reason=text, expires_at=until))
        else:
            waiver = Waiver(version_id=row.id, rule=rule, reason=text, expires_at=until,
                            requested_by=registry.actor, created_at=utcnow())
            session.add(waiver)
            session.flush()
        audit.append(session, actor=registry.actor, action="waiver.request", subject=label,
                     payload={"waiver": waiver.id, "rule": rule, "reason": text, "expires": until.isoformat()})
        return _info(waiver, label)


def _find(session, waiver_id: int) -> tuple[Waiver, str]:
    waiver = session.get(Waiver, waiver_id)
    if waiver is None:
        raise NotFound(f"no waiver {waiver_id}", hint="`modelgate waive --list NAME@VERSION` lists them.")
    from modelgate.core.registry.models import Version

    version = session.get(Version, waiver.version_id)
    return waiver, f"{version.model.name}@{version.version}"


def confirm_waiver(registry, *, waiver_id: int) -> WaiverInfo:
    """Confirm a pending waiver as the second approver; the requester may not confirm their own."""
    actor = registry.actor
    with registry.session() as session:
        waiver, label = _find(session, waiver_id)
        identity.require(session, actor, *WAIVE_ROLES, action="confirm waivers", subject=label)
        state = state_of(waiver)
        if state != PENDING:
            raise WorkflowRefused(f"waiver {waiver_id} is {state}; only a pending waiver is confirmed")
        if identity.person_key(actor) == identity.person_key(waiver.requested_by):
            raise WorkflowRefused(f"{actor} requested waiver {waiver_id}; a second approver must confirm it",
                                  hint="Four eyes: another approver confirms with `modelgate waive --confirm ID`.")
        if pgwrites.guarded(session):
            pgwrites.call(session, "confirm_waiver", waiver_id=waiver.id)
            session.refresh(waiver)
        else:
            waiver.confirmed_by, waiver.confirmed_at = actor, utcnow()
        audit.append(session, actor=actor, action="waiver.confirm", subject=label,
                     payload={"waiver": waiver.id, "rule": waiver.rule})
        return _info(waiver, label)


def revoke_waiver(registry, *, waiver_id: int, reason: str) -> WaiverInfo:
    """Revoke a waiver (pending or active); it stays on record as revoked."""
    text = (reason or "").strip()
    if not text:
        raise UsageError("revoking a waiver needs a reason", hint="Say why with --reason TEXT.")
    with registry.session() as session:
        waiver, label = _find(session, waiver_id)
        identity.require(session, registry.actor, *WAIVE_ROLES, action="revoke waivers", subject=label)
        if waiver.revoked_at is not None:
            raise WorkflowRefused(f"waiver {waiver_id} is already revoked")
        if pgwrites.guarded(session):
            pgwrites.call(session, "revoke_waiver", waiver_id=waiver.id, reason=text)
            session.refresh(waiver)
        else:
            waiver.revoked_by, waiver.revoked_at, waiver.revoke_reason = registry.actor, utcnow(), text
        audit.append(session, actor=registry.actor, action="waiver.revoke", subject=label,
                     payload={"waiver": waiver.id, "rule": waiver.rule, "reason": text})
        return _info(waiver, label)


def list_waivers(registry, *, name: str, version: str) -> list[WaiverInfo]:
    """Every waiver of ``name@version``, oldest first, with its state now."""
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        rows = session.scalars(select(Waiver).where(Waiver.version_id == row.id).order_by(Waiver.id)).all()
        return [_info(w, f"{name}@{version}") for w in rows]


def waivers_of(session, version_id: int) -> list[Waiver]:
    """The version's waiver rows that were confirmed and not revoked (active or expired)."""
    return session.scalars(select(Waiver).where(
        Waiver.version_id == version_id, Waiver.confirmed_by.is_not(None), Waiver.revoked_at.is_(None))
        .order_by(Waiver.id)).all()


def terms_of(session, version_id: int) -> tuple[Waived, ...]:
    """The version's confirmed, unrevoked waivers (active or expired) as findings carry them."""
    return tuple(Waived(w.rule, w.reason, (w.requested_by, w.confirmed_by), as_utc(w.expires_at), w.id)
                 for w in waivers_of(session, version_id))

