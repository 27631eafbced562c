"""Decision attestations of stored versions: recorded at each promotion, signed by a signer.

A promotion records, in its own transaction, the in-toto statements of its decision
(:mod:`modelgate.core.signing.attestations`): what was decided, under which policy, on
which validation and approvals. A signer then signs them (:func:`sign_attestations`) with a
key the registry trusts as theirs; the envelopes are what an exported bundle carries in
``signatures/`` and what ``modelgate verify --attestations`` checks without the registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from sqlalchemy import select

from modelgate.core.policy.document import Policy
from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.errors import WorkflowRefused
from modelgate.core.registry.gates import stored_run, tally_approvals, wanted_approvals
from modelgate.core.registry.models import Attestation, Review, Version, as_utc, utcnow
from modelgate.core.registry.queries import get_version
from modelgate.core.findings import Severity
from modelgate.core.signing.attestations import (PROMOTION, PROMOTION_PREDICATE, Approval, Decision,
                                                 canonical_json, promotion_statement, sha256_hex,
                                                 summary_statement)

#: Roles that may sign decision attestations (admin passes every role check).
SIGN_ROLES = ("signer",)


@dataclass(frozen=True)
class AttestationInfo:
    """One stored statement: its number, predicate type, digest and who signed it (None: unsigned)."""

    sequence: int
    predicate_type: str
    digest: str
    signed_by: str | None
    envelope: dict | None


def version_files(store, digest: str) -> dict[str, str]:
    """``{relative path: sha256}`` of the stored bundle ``digest``, from its kept file list or by hashing."""
    files = store.listing(digest)
    if files is not None:
        return dict(files)
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.payload import hash_while_importing

    with open_bundle(store.path_of(store.relative(digest))) as bundle:
        return hash_while_importing(bundle, progress=None)


def _approvals(session, row: Version, policy: Policy, to_stage: str) -> tuple[int, tuple[str, ...], tuple]:
    count, roles = wanted_approvals(policy, to_stage)
    reviews = session.scalars(select(Review).where(
        Review.version_id == row.id, Review.stage == row.stage).order_by(Review.id)).all()
    counted = set(tally_approvals(reviews, submitter=row.submitter, roles=roles).counted)
    latest = {}
    for item in reviews:
        if item.reviewer in counted and item.decision == "approve":
            latest[item.reviewer] = item
    given = tuple(Approval(r.reviewer, tuple(filter(None, r.roles.split(","))), as_utc(r.created_at), r.comment)
                  for r in sorted(latest.values(), key=lambda r: r.id))
    return count, roles, given


def _verdict(session, row: Version, policy: Policy, to_stage: str, champion: Version | None):
    run = stored_run(session, row.id, to_stage, policy.digest, champion.digest if champion else None)
    if run is None:  # retiring a version needs no validation
        return None, 0, 0, ()
    try:
        findings = json.loads(run.report).get("findings") or []
    except (ValueError, AttributeError):
        findings = []
    rules = tuple(str(f.get("rule")) for f in findings if isinstance(f, dict) and f.get("rule"))
    return run.passed, run.errors, run.warnings, rules


def _waivers_applied(session, row: Version, rules: tuple[str, ...], policy: Policy) -> tuple[dict, ...]:
    """The active waivers of rules the validation found that ``policy`` lets count, as the
    attestation lists them."""
    from modelgate.core.registry.waivers import ACTIVE, state_of, waivers_of

    return tuple({"id": w.id, "rule": w.rule, "reason": w.reason, "requestedBy": w.requested_by,
                  "confirmedBy": w.confirmed_by, "expires": as_utc(w.expires_at).isoformat().replace("+00:00", "Z")}
                 for w in waivers_of(session, row.id)
                 if w.rule in rules and state_of(w) == ACTIVE and not policy.waiver_forbidden(w.rule))


def record_decision(session, row: Version, *, label: str, to_stage: str, policy: Policy, actor: str, store,
                    reason: str | None, champion: Version | None, kind: str = PROMOTION,
                    report=None) -> list[Attestation]:
    """Record the statements of moving ``row`` (still at its old stage) to ``to_stage``.

    ``kind`` is what decided it: a promotion, or a rollback (restoring a former production
    version, or taking the current one out; break-glass when a gate did not hold). A rollback
    asks no approvals again (they were given when the version first climbed), and its
    validation is ``report``, the run its gate judged when none was stored."""
    from modelgate.core import __version__

    previous = session.scalars(select(Attestation).where(
        Attestation.version_id == row.id, Attestation.predicate_type == PROMOTION_PREDICATE)
        .order_by(Attestation.sequence.desc()).limit(1)).first()
    sequence = previous.sequence + 1 if previous else 1
    count, roles, given = _approvals(session, row, policy, to_stage) if kind == PROMOTION else (0, (), ())
    passed, errors, warnings, rules = _verdict(session, row, policy, to_stage, champion)
    if passed is None and report is not None:
        passed, errors, warnings = report.passed, report.count(Severity.ERROR), report.count(Severity.WARNING)
        rules = tuple(f.rule for f in report.findings)
    decision = Decision(
        name=label.rpartition("@")[0], version=row.version, bundle_digest=row.digest, submitter=row.submitter,
        from_stage=row.stage, to_stage=to_stage, decided_by=actor, decided_at=utcnow(),
        policy_name=policy.name, policy_digest=policy.digest, passed=passed, errors=errors,
        warnings=warnings, rules=rules, approvals_required=count, approval_roles=roles, approvals=given,
        tool_version=__version__, reason=reason, kind=kind,
        champion=f"{label.rpartition('@')[0]}@{champion.version}" if champion else None,
        champion_digest=champion.digest if champion else None)
    files = version_files(store, row.digest)
    decision = replace(decision, waivers=_waivers_applied(session, row, rules, policy))
    promotion = promotion_statement(decision=decision, files=files, sequence=sequence,
                                    previous=previous.digest if previous else None)
    promotion_digest = sha256_hex(canonical_json(promotion))
    summary = summary_statement(decision=decision, files=files, promotion_digest=promotion_digest)
    rows = []
    for statement in (promotion, summary):
        text = canonical_json(statement).decode("utf-8")
        values = dict(version_id=row.id, sequence=sequence, predicate_type=statement["predicateType"],
                      statement=text, digest=sha256_hex(text.encode("utf-8")))
        if pgwrites.guarded(session):
            rows.append(session.get(Attestation, pgwrites.call(session, "record_attestation", **values)))
        else:
            record = Attestation(**values, created_at=utcnow())
            session.add(record)
            session.flush()
            rows.append(record)
    return rows


def _info(row: Attestation) -> AttestationInfo:
    return AttestationInfo(row.sequence, row.predicate_type, row.digest, row.signed_by,
                           json.loads(row.envelope) if row.envelope else None)


def attestations(registry, *, name: str, version: str) -> list[AttestationInfo]:
    """The version's statements, oldest decision first."""
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        rows = session.scalars(select(Attestation).where(Attestation.version_id == row.id)
                               .order_by(Attestation.sequence, Attestation.id)).all()
        return [_info(r) for r in rows]


def sign_attestations(registry, *, name: str, version: str, signer) -> list[AttestationInfo]:
    """Sign every unsigned statement of ``name@version`` with ``signer`` (a :class:`.dsse.Signer`).

    Needs the signer role, and the key must be trusted in this registry as the acting user's
    own and not revoked: an attestation names a person who answers for it. Audited
    ("attestation.sign") with the digests signed. Returns the statements signed now.
    """
    from modelgate.core.registry.signatures import trust_store
    from modelgate.core.signing.dsse import sign_envelope
    from modelgate.core.signing.keys import fingerprint

    label, actor = f"{name}@{version}", registry.actor
    key_fingerprint = fingerprint(signer.public_key())
    trusted = trust_store(registry).find(key_fingerprint)
    if trusted is None or identity.person_key(trusted.name) != identity.person_key(actor):
        raise WorkflowRefused(f"this key is not trusted in the registry as {actor}'s signing key",
                              hint="An admin trusts it with `modelgate keys trust NAME NAME.pub`.")
    with registry.session() as session:
        identity.require(session, actor, *SIGN_ROLES, action="sign attestations", subject=label)
        row = get_version(session, name=name, version=version)
        pending = session.scalars(select(Attestation).where(
            Attestation.version_id == row.id, Attestation.envelope.is_(None))
            .order_by(Attestation.sequence, Attestation.id)).all()
        for item in pending:
            envelope = json.dumps(sign_envelope(payload=item.statement.encode("utf-8"), signer=signer),
                                  sort_keys=True)
            if pgwrites.guarded(session):
                pgwrites.call(session, "sign_attestation", attestation_id=item.id, envelope=envelope,
                              key_fingerprint=key_fingerprint)
                session.refresh(item)
            else:
                item.envelope, item.key_fingerprint, item.signed_by = envelope, key_fingerprint, actor
        if pending:
            audit.append(session, actor=actor, action="attestation.sign", subject=label,
                         payload={"fingerprint": key_fingerprint, "digests": [p.digest for p in pending]})
        return [_info(item) for item in pending]
