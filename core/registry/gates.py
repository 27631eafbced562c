"""The gates a version must pass to move to a stage, judged inside the caller's transaction.

:func:`evaluate` returns one :class:`GateResult` per gate, always in the order
stage order, validation, approvals, signature, whether met or not, so a refusal
can list everything that is missing at once (see :mod:`.workflow` for the rules).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from modelgate.core.checks.request import RecordedSignatures
from modelgate.core.findings import Severity
from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.models import Review, Signature, TrustedKey, ValidationRun, Version, as_utc, utcnow
from modelgate.core.policy.stages import PRODUCTION, RETIRED, STAGES
from modelgate.core.registry.queries import champion_of

MET, NOT_MET, NOT_AVAILABLE = "met", "not met", "not available"


@dataclass(frozen=True)
class GateResult:
    """One gate: ``state`` is 'met', 'not met' or 'not available'; ``required`` is False
    for a gate the policy does not ask for at this stage (it never blocks)."""

    name: str
    state: str
    reason: str
    required: bool = True

    @property
    def blocking(self) -> bool:
        """Whether this gate stops the promotion."""
        return self.required and self.state != MET

    def as_dict(self) -> dict:
        return {"name": self.name, "state": self.state, "reason": self.reason,
                "required": self.required, "blocking": self.blocking}


def stage_order(current: str, to_stage: str) -> GateResult:
    """Next gated stage only; retiring from any earlier stage; never backwards."""
    name, here, there = "stage order", STAGES.index(current), STAGES.index(to_stage)
    if there == here:
        return GateResult(name, NOT_MET, f"the version is already at {current}")
    if there < here:
        return GateResult(name, NOT_MET, f"{to_stage} comes before {current}; versions never move "
                          "back (a rollback restores the previous production version)")
    if to_stage in RETIRED:
        return GateResult(name, MET, f"{current} -> {to_stage}: a version can be retired at any time")
    if there > here + 1:
        skipped = ", ".join(STAGES[here + 1:there])
        return GateResult(name, NOT_MET, f"{current} -> {to_stage} skips {skipped}; "
                          f"promote to {STAGES[here + 1]} first")
    return GateResult(name, MET, f"{current} -> {to_stage} is the next stage")


def stored_run(session, version_id: int, stage: str, policy_digest: str,
               champion_digest: str | None = None) -> ValidationRun | None:
    """The latest run for this version, stage, policy and champion, if any.

    Stored bundles never change, so a run with the same inputs is never stale; a
    new production version (a new champion) calls for a new run.
    """
    champion = (ValidationRun.champion_digest.is_(None) if champion_digest is None
                else ValidationRun.champion_digest == champion_digest)
    query = select(ValidationRun).where(
        ValidationRun.version_id == version_id, ValidationRun.stage == stage,
        ValidationRun.policy_digest == policy_digest, champion).order_by(ValidationRun.id.desc()).limit(1)
    return session.scalars(query).first()


def recorded_signatures(session, row: Version, *, label: str) -> RecordedSignatures:
    """The registry's record of ``row``'s signatures, as a validation request states it."""
    fingerprints = session.scalars(select(Signature.key_fingerprint).where(
        Signature.version_id == row.id).order_by(Signature.id)).all()
    return RecordedSignatures(label, tuple(fingerprints))


def run_validation(path: Path, *, policy: Policy, stage: str, recorded: RecordedSignatures,
                   champion: Path | None = None, digests=None, progress: Progress | None = None):
    """Validate the stored bundle at ``path`` (against ``champion``'s metrics when given).

    ``recorded`` is the registry's record of the version's signatures, read by the caller:
    the signature gate judges those, so the MG8xx checks stand aside. ``digests`` are the
    stored copy's file digests when the caller hashed it in this run (see :mod:`.prepared`).
    """
    from modelgate.core.checks.engine import validate_folder

    return validate_folder(path=path, policy=policy, stage=stage, champion=champion, recorded=recorded,
                           digests=digests, progress=progress)


def _run_values(row: Version, *, report, champion: Version | None) -> dict:
    return dict(
        version_id=row.id, stage=report.stage, policy_digest=report.policy_digest,
        champion_digest=champion.digest if champion is not None else None,
        policy_name=report.policy_name, passed=report.passed, errors=report.count(Severity.ERROR),
        warnings=report.count(Severity.WARNING),
        report=json.dumps(report.as_dict(), sort_keys=True, ensure_ascii=False))


def _run_row(row: Version, *, report, actor: str, champion: Version | None) -> ValidationRun:
    return ValidationRun(**_run_values(row, report=report, champion=champion), actor=actor, created_at=utcnow())


def record_run(session, row: Version, *, label: str, report, actor: str,
               champion: Version | None = None) -> ValidationRun:
    """Store ``report`` as a validation run of ``row`` and audit it ("validation.run")."""
    if pgwrites.guarded(session):
        values = _run_values(row, report=report, champion=champion)
        run = session.get(ValidationRun, pgwrites.call(session, "record_validation_run", **values))
    else:
        run = _run_row(row, report=report, actor=actor, champion=champion)
        session.add(run)
        session.flush()
    audit.append(session, actor=actor, action="validation.run", subject=label, payload={
        "stage": run.stage, "policy": run.policy_name, "policy_digest": run.policy_digest,
        "champion_digest": run.champion_digest, "passed": run.passed, "errors": run.errors, "warnings": run.warnings})
    return run


STORED_COPY = "stored copy"


def stored_copy(session, row: Version, *, label: str, store, actor: str, verify_store: bool = True,
                champion: Version | None = None, mark: bool = True, hashed=None) -> GateResult:
    """Whether the stored copy of ``row`` (and of ``champion``, whose metrics it is judged
    against) is the bytes imported: no standing damage mark, and, with ``verify_store``, every
    file re-hashed. ``hashed`` maps bundle digests to the :class:`~.store.StoreCheck` made
    of them in this promotion's prepare step: those copies are not hashed again. Damage
    found here is marked and audited like ``registry fsck`` does."""
    from modelgate.core.registry.damage import damage_of, mark_damaged

    for checked in filter(None, (row, champion)):
        whose = "" if checked is row else f" (the production version {checked.version})"
        checked_label = label if checked is row else f"{label.rpartition('@')[0]}@{checked.version}"
        repair = f"repair it with `modelgate registry repair {checked_label} BUNDLE`"
        marked = damage_of(session, checked.id)
        if marked is not None:
            return GateResult(STORED_COPY, NOT_MET, f"the stored copy{whose} is marked damaged since "
                              f"{marked.found_at:%Y-%m-%d %H:%M} ({marked.describe()}); {repair}")
        if verify_store:
            check = (hashed or {}).get(checked.digest) or store.inspect(checked.digest)
            if not check.intact:
                if mark:  # a preview only looks; a promotion, rollback or fsck records it
                    mark_damaged(session, checked, check=check, actor=actor, label=checked_label)
                return GateResult(STORED_COPY, NOT_MET, f"the stored copy{whose} is damaged "
                                  f"({check.describe()}); {repair}")
    what = "re-hashed, every file as imported" if verify_store else "no damage on record"
    return GateResult(STORED_COPY, MET, what)


#: ``champion`` left out: judge against the model's production version, as a promotion does.
CURRENT_CHAMPION = object()


def _validation(session, row: Version, *, label, to_stage, policy, actor, fresh, store,
                verify_store: bool = True, champion=CURRENT_CHAMPION, record: bool = True,
                hashed=None, stored_only: bool = False) -> GateResult:
    """The validation gate. ``champion=None`` judges without a production version to compare
    with (a rollback restores the old production version itself); ``record=False`` judges
    with a run made here without storing it (a rollback changes nothing when refused);
    ``stored_only`` judges by a stored run alone and says 'not available' without one."""
    if to_stage in RETIRED:
        return GateResult("validation", MET, "retiring a version needs no validation", required=False)
    if champion is CURRENT_CHAMPION:
        champion = champion_of(session, model_id=row.model_id, besides=row.id)
    copy = stored_copy(session, row, label=label, store=store, actor=actor, verify_store=verify_store,
                       champion=champion, hashed=hashed)
    if copy.blocking:
        return GateResult("validation", NOT_MET, copy.reason)
    digest = champion.digest if champion is not None else None
    run = stored_run(session, row.id, to_stage, policy.digest, digest)
    if run is None and stored_only:
        against = f", against the production version {champion.version}" if champion is not None else ""
        return GateResult("validation", NOT_AVAILABLE, f"not validated yet for {to_stage} under policy "
                          f"{policy.name}{against} (promoting validates it)")
    if run is None:
        if fresh is None or fresh[1] != digest:  # none made beforehand, or the champion changed since
            fresh = (run_validation(store.path_of(store.relative(row.digest)), policy=policy, stage=to_stage,
                                    recorded=recorded_signatures(session, row, label=label),
                                    champion=store.path_of(store.relative(champion.digest)) if champion else None),
                     digest)
        if record:
            run = record_run(session, row, label=label, report=fresh[0], actor=actor, champion=champion)
        else:
            run = _run_row(row, report=fresh[0], actor=actor, champion=champion)
    where = f"for {to_stage} under policy {run.policy_name}"
    if champion is not None:
        where += f", against the production version {champion.version}"
    if run.passed:
        return GateResult("validation", MET, f"passed {where} ({run.warnings} warning(s))")
    try:
        findings = json.loads(run.report).get("findings") or []
    except (ValueError, AttributeError):
        findings = []
    errors = [f"{f.get('rule')} {f.get('message')}" for f in findings if f.get("severity") == "error"]
    failing = {str(f.get("rule")) for f in findings if f.get("severity") == "error"}
    waived, notes = waived_rules(session, row.id, failing, policy=policy)
    if waived is not None:
        return GateResult("validation", MET, f"passed {where} with waived rule(s): {waived}")
    shown = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
    return GateResult("validation", NOT_MET, f"{run.errors} error(s) {where}: {shown}{notes}")


def waived_rules(session, version_id: int, failing: set[str], *, policy: Policy) -> tuple[str | None, str]:
    """``(text naming the waivers, "")`` when active waivers cover every failing rule; else
    ``(None, note)`` where the note names the waivers of failing rules that expired. A waiver
    of a rule ``policy`` forbids waiving does not count, whenever it was granted."""
    from modelgate.core.registry.waivers import ACTIVE, EXPIRED, state_of, waivers_of

    rows = [w for w in waivers_of(session, version_id) if w.rule in failing]
    forbidden = [w for w in rows if policy.waiver_forbidden(w.rule)]
    rows = [w for w in rows if w not in forbidden]
    active = {w.rule: w for w in rows if state_of(w) == ACTIVE}
    if failing and set(active) == failing:
        return "; ".join(f"{w.rule} (waiver {w.id} by {w.requested_by} and {w.confirmed_by}, until "
                         f"{as_utc(w.expires_at):%Y-%m-%d}: {w.reason})" for w in active.values()), ""
    expired = [w for w in rows if state_of(w) == EXPIRED and w.rule not in active]
    note = "".join(f"; the waiver of {w.rule} expired on {as_utc(w.expires_at):%Y-%m-%d} and no longer counts"
                   for w in expired)
    note += "".join(f"; the waiver of {w.rule} does not count: policy {policy.name} forbids waiving it"
                    for w in forbidden)
    return None, note


@dataclass(frozen=True)
class ApprovalTally:
    """Each reviewer's latest word at a stage, sorted: ``counted`` approvals, ``ignored``
    approvals (reviewer -> why not), and ``blockers`` (rejects and requests for changes)."""

    counted: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...]
    blockers: tuple[Review, ...]

    def met(self, count: int) -> bool:
        return len(self.counted) >= count and not self.blockers


def tally_approvals(reviews, *, submitter: str, roles: tuple[str, ...]) -> ApprovalTally:
    """Tally ``reviews`` (oldest first) of one version at one stage against ``roles``.

    One person, one word: reviews are grouped by :func:`identity.person_key`, so a second
    approval by the same person, or by them under a differently written or confusable name,
    never counts twice; each person's latest decision is the one that stands.
    """
    latest = {}
    for item in reviews:  # each person's last word counts
        latest.pop(identity.person_key(item.reviewer), None)
        latest[identity.person_key(item.reviewer)] = item
    submitter_key = identity.person_key(submitter)
    counted, ignored = [], {}
    for key, item in latest.items():
        if item.decision != "approve":
            continue
        held = set(filter(None, item.roles.split(",")))
        if key == submitter_key:
            ignored[item.reviewer] = "submitted this version"
        elif roles and not (held & set(roles)) and "admin" not in held:
            ignored[item.reviewer] = f"did not hold the {' or '.join(roles)} role"
        else:
            counted.append(item.reviewer)
    # A reject or a request for changes stands until the same person approves again.
    blockers = sorted((r for r in latest.values() if r.decision != "approve"), key=lambda r: r.id)
    return ApprovalTally(tuple(sorted(counted)), tuple(sorted(ignored.items())), tuple(blockers))


def wanted_approvals(policy: Policy, to_stage: str) -> tuple[int, tuple[str, ...]]:
    """``(count, roles)`` of the approvals the policy asks for to reach ``to_stage``."""
    wanted = policy.gates(to_stage).approvals
    return wanted.count, wanted.roles


def wanted_signature(policy: Policy, to_stage: str) -> tuple[bool, tuple[str, ...]]:
    """``(required, roles)`` of the release signature the policy asks for at ``to_stage``."""
    wanted = policy.gates(to_stage).signature
    return wanted.required, wanted.roles


def _approvals(session, row: Version, *, to_stage: str, policy: Policy) -> GateResult:
    count, roles = wanted_approvals(policy, to_stage)
    if count <= 0:
        return GateResult("approvals", MET, f"not required for {to_stage}: the policy asks for no approvals",
                          required=False)
    reviews = session.scalars(select(Review).where(
        Review.version_id == row.id, Review.stage == row.stage).order_by(Review.id)).all()
    tally = tally_approvals(reviews, submitter=row.submitter, roles=roles)
    who = " or ".join(roles) if roles else "reviewers"
    reason = f"{len(tally.counted)} of {count} approval(s) from {who} at {row.stage}"
    if tally.counted:
        reason += f" ({', '.join(tally.counted)})"
    notes = [f"{name}'s approval does not count: {why}" for name, why in tally.ignored]
    notes += [f"{r.reviewer} chose {r.decision}: {r.comment}" for r in tally.blockers]
    return GateResult("approvals", MET if tally.met(count) else NOT_MET, "; ".join([reason, *notes]))


def signature_problem(signature: Signature, *, revoked: bool, held: set[str], digest: str,
                      submitter: str, roles: tuple[str, ...]) -> str | None:
    """Why a verified ``signature`` does not count for the version with ``digest``, or None."""
    if signature.bundle_digest != digest:
        return "signed other bytes"
    if revoked or signature.document is None:
        return "the key is no longer trusted"
    if identity.person_key(signature.signer) == identity.person_key(submitter):
        return "submitted this version, so their signature does not count"
    if roles and not (held & set(roles)) and "admin" not in held:
        return f"does not hold the {' or '.join(roles)} role"
    return None


def verified_signatures(session, version_ids):
    """``(Signature, revoked_at)`` of the verified signatures of ``version_ids``, oldest first.

    ``revoked_at`` is the key's revocation time; a key the registry does not (or no longer)
    trust at all reads as revoked at the signature's own time, so it never counts. A
    certificate signature names no key and stands while it is verified (see
    :data:`~modelgate.core.registry.queries.CERTIFICATE_MARK`).
    """
    from modelgate.core.registry.queries import certificate_signed

    rows = session.execute(
        select(Signature, TrustedKey.revoked_at, TrustedKey.id)
        .join(TrustedKey, TrustedKey.fingerprint == Signature.key_fingerprint, isouter=True)
        .where(Signature.version_id.in_(version_ids), Signature.verified.is_(True))
        .order_by(Signature.id)).all()
    from modelgate.core.registry.certificates import revoked_key_of

    def standing(signature, revoked_at, key_id):
        if key_id is not None:
            return revoked_at
        if not certificate_signed(signature.document):
            return signature.created_at
        revoked = revoked_key_of(session, signature.document)  # a revoked key under a certificate
        return revoked.revoked_at if revoked is not None else None

    return [(signature, standing(signature, revoked_at, key_id)) for signature, revoked_at, key_id in rows]


def counting_signatures(session, row: Version, rows, *, roles: tuple[str, ...],
                        reverified: set[int] | None = None):
    """Split the verified signatures ``rows`` of ``row`` into ``(counted, notes)``.

    One key, one signature: the same key under two signer names or in two signature files
    counts once. Each signer's roles and each key's standing are read once. With
    ``reverified`` only the signatures whose ids it holds count (they verified again just now).
    """
    from modelgate.core.registry.certificates import certificate_key_fingerprint
    from modelgate.core.signing.keys import short

    held_by: dict[str, set[str]] = {}
    counted, notes, keys = [], [], set()
    for signature, revoked_at in rows:
        who = f"{signature.signer} ({short(signature.key_fingerprint)})"
        person = identity.person_key(signature.signer)
        if person not in held_by:
            held_by[person] = set(identity.roles_of(session, signature.signer))
        problem = signature_problem(signature, revoked=revoked_at is not None, held=held_by[person],
                                    digest=row.digest, submitter=row.submitter, roles=roles)
        if problem is None and reverified is not None and signature.id not in reverified:
            problem = "does not verify against the stored bytes with the keys trusted now"
        # A certificate signature is made with the certificate's key: one key, one count.
        key = certificate_key_fingerprint(signature.document) or signature.key_fingerprint
        if problem is None and key in keys:
            problem = "the same key signed already; it counts once"
        if problem is None:
            keys.add(key)
            counted.append(who)
        elif problem.startswith("the key") and revoked_at is not None:
            notes.append(f"{who}: the key is no longer trusted (revoked on {as_utc(revoked_at):%Y-%m-%d %H:%M} UTC)")
        else:
            notes.append(f"{who} {problem}" if not problem.startswith("the ") else f"{who}: {problem}")
    return counted, notes


def _signature(session, row: Version, *, to_stage: str, policy: Policy,
               reverified: set[int] | None = None) -> GateResult:
    """The signature gate. With ``reverified`` (the ids of the signatures that verified again
    just now, see :func:`~modelgate.core.registry.signatures.reverified_signatures`) only those
    count: the record of an earlier verification is not taken on trust."""
    required, roles = wanted_signature(policy, to_stage)
    rows = verified_signatures(session, [row.id])
    counted, notes = counting_signatures(session, row, rows, roles=roles, reverified=reverified)
    if counted:
        reason = "signed by " + ", ".join(counted)
    elif rows:
        reason = "no signature counts"
    else:
        reason = "no release signature is recorded (`modelgate sign NAME@VERSION --key KEY`)"
    reason = "; ".join([reason, *notes])
    if not required:
        # Said as information, not as a failure: nothing here stops the move.
        return GateResult("signature", MET if counted else NOT_MET,
                          f"not required for {to_stage} by the policy ({reason})", required=False)
    return GateResult("signature", MET if counted else NOT_MET, reason)


def evaluate(session, row: Version, *, label: str, to_stage: str, policy: Policy, actor: str,
             store, prepared=None, verify_store: bool = True, stored_only: bool = False) -> list[GateResult]:
    """Every gate for moving ``row`` (in ``store``) to ``to_stage``: the commit step of a
    promotion. ``prepared`` is the :class:`~.prepared.PreparedPromotion` made beforehand
    (outside the transaction): its stored-copy checks stand for hashing the copies again,
    and its fresh validation is recorded when no stored run matches; without one, a
    missing run is made here. Without ``verify_store`` the stored bundles are not hashed
    again (a checklist refreshed every few seconds; a promotion always checks them). With
    ``stored_only`` no validation runs: a version never validated for ``to_stage`` under
    ``policy`` gets a validation gate that is 'not available' (a listing judges many at once)."""
    fresh = prepared.fresh if prepared is not None else None
    hashed = prepared.checks if prepared is not None else None
    order = stage_order(row.stage, to_stage)
    if order.state == MET:
        validation = _validation(session, row, label=label, to_stage=to_stage, policy=policy,
                                 actor=actor, fresh=fresh, store=store, verify_store=verify_store,
                                 hashed=hashed, stored_only=stored_only)
    else:  # the move is impossible anyway: spend no validation run on it
        validation = GateResult("validation", NOT_AVAILABLE, "not run: the stage order refuses this move")
    return [
        order,
        validation,
        _approvals(session, row, to_stage=to_stage, policy=policy),
        _signature(session, row, to_stage=to_stage, policy=policy),
    ]


def rollback_gates(session, row: Version, *, label: str, policy: Policy, actor: str, store,
                   fresh=None, mark: bool = True, reverified: set[int] | None = None,
                   hashed=None) -> list[GateResult]:
    """The production gates of today for restoring ``row`` by a rollback, each computed by the
    same function a promotion uses: the stored copy (re-hashed, no damage mark), validation
    under ``policy`` for production (on its own: it *was* the production version), and the
    signature (counting only keys trusted now, a revoked key for nothing; with ``reverified``
    only signatures that verified again just now; with ``hashed`` the stored copy hashed in
    the rollback's prepare step is not hashed again, see :func:`stored_copy`). Approvals
    are not asked again: they were given at staging, and the rollback itself is an approver's
    decision. Nothing is recorded here; the caller's rollback event carries these gates."""
    copy = stored_copy(session, row, label=label, store=store, actor=actor, mark=mark, hashed=hashed)
    if copy.blocking:
        validation = GateResult("validation", NOT_AVAILABLE, "not run: the stored copy is damaged")
    else:
        validation = _validation(session, row, label=label, to_stage=PRODUCTION, policy=policy, actor=actor,
                                 fresh=fresh, store=store, verify_store=False, champion=None, record=False)
    return [copy, validation, _signature(session, row, to_stage=PRODUCTION, policy=policy,
                                         reverified=reverified)]
