"""Reviews, promotion gates, promotions and rollbacks of stored versions.

Semantics (the desktop checklist and the command line show the same gates):

- **stage order**: a version moves to the next stage only, ``draft -> candidate ->
  staging -> production``; ``deprecated`` and ``archived`` can be reached from any
  earlier stage; nothing moves backwards except through :func:`rollback`.
- **validation**: the stored bundle is clean (no error finding) under the policy for
  the target stage. Stored bundles never change, so a run recorded for the same
  stage and policy digest is reused; otherwise a fresh run is made and recorded.
  Retiring a version (deprecated, archived) needs no validation.
- **approvals**: ``policy.gates(to).approvals`` (count, roles) distinct
  reviewers approved while the version was at its current stage, each holding one
  of the roles at review time (admin holds every role); the submitter's approval
  never counts; only each reviewer's latest decision counts, and a reject or
  request-changes (by anyone, the submitter included) blocks until that person
  approves again.
- **signature**: a recorded signature of the same bytes, by a trusted (unrevoked) key,
  of a signer holding one of the policy's roles who did not submit the version.

Every change writes its audit event in the same transaction; a refused promotion
or rollback writes its event, commits it, then raises :class:`WorkflowRefused`.
Results name what changed so a caller can refresh just that.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from modelgate.core.errors import UsageError
from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.attestations import record_decision
from modelgate.core.signing.attestations import BREAK_GLASS, ROLLBACK
from modelgate.core.registry.errors import WorkflowRefused
from modelgate.core.registry.policies import policy_in_force
from modelgate.core.registry.gates import (MET, NOT_MET, GateResult, evaluate, recorded_signatures,
                                          run_validation, stored_run)
from modelgate.core.registry.gates import rollback_gates as evaluate_rollback
from modelgate.core.registry.prepared import prepare
from modelgate.core.registry.queries import champion_of, get_model, get_version, production_versions
from modelgate.core.registry.models import DECISIONS, Promotion, Review, Version, as_utc, utcnow
from modelgate.core.registry.records import ReviewInfo
from modelgate.core.policy.stages import DEPRECATED, PRODUCTION, check_stage

__all__ = ["GateResult", "PromotionResult", "ReviewRecorded", "RollbackResult",
           "RollbackChoices", "gates", "promote", "review", "rollback", "rollback_choices", "rollback_gates"]

#: Roles that may review; admin passes every role check.
REVIEW_ROLES = ("reviewer", "approver")
#: Roles that may promote and roll back.
PROMOTE_ROLES = ("approver",)
#: Only an admin restores a version whose gates do not hold (admin passes every role check,
#: so naming a role no one else holds leaves it to admins).
BREAK_GLASS_ROLES = ("admin",)
#: The gates break-glass may override; a damaged stored copy (other bytes) is never restored.
BREAKABLE = ("validation", "signature")


@dataclass(frozen=True)
class ReviewRecorded(ReviewInfo):
    """The review just recorded (a :class:`ReviewInfo`, as ``show`` lists them) and of what.
    ``by_submitter``: the reviewer submitted the version, so an approval is on record but
    never counts toward a gate."""

    name: str = ""
    version: str = ""
    by_submitter: bool = False


@dataclass(frozen=True)
class PromotionResult:
    """What a promotion did. ``moved`` is False only when the version already was at
    ``to_stage`` (nothing changed); ``superseded`` is ``name@version`` of the production
    version moved to deprecated, if any."""

    name: str
    version: str
    moved: bool
    from_stage: str
    to_stage: str
    gates: tuple[GateResult, ...]
    superseded: str | None = None


@dataclass(frozen=True)
class RollbackResult:
    """``restored`` (now production) and ``demoted`` (now deprecated), as ``name@version``."""

    name: str
    restored: str
    demoted: str
    reason: str
    gates: tuple[GateResult, ...] = ()
    #: The gates that did not hold and were overridden by break-glass (empty for a normal rollback).
    broken: tuple[str, ...] = ()

    @property
    def break_glass(self) -> bool:
        return bool(self.broken)


def _required_text(value: str | None, *, what: str, option: str) -> str:
    text = (value or "").strip()
    if not text:
        raise UsageError(f"a {what} needs a non-empty {option.lstrip('-')}",
                         hint=f"Say why with {option} TEXT; it is kept in the audit log.")
    return text


def review(registry, *, name: str, version: str, decision: str, comment: str,
           expected_stage: str | None = None) -> ReviewRecorded:
    """Record ``decision`` (approve, reject, request-changes) on ``name@version`` at its stage.

    Needs the reviewer, approver or admin role; ``comment`` is required. The submitter
    may review their own version, but their approval never counts. With
    ``expected_stage`` (the stage the reviewer saw), a version that moved on meanwhile
    is refused (:class:`WorkflowRefused`) instead of reviewed at a stage nobody looked at.
    """
    if decision not in DECISIONS:
        raise UsageError(f"unknown review decision {decision!r}", hint=f"Use one of: {', '.join(DECISIONS)}.")
    text = _required_text(comment, what="review", option="--comment")
    label = f"{name}@{version}"
    actor = registry.actor
    with registry.session() as session:
        roles = tuple(identity.require(session, actor, *REVIEW_ROLES, action="review", subject=label))
        # Take the model's row lock, as a promotion does: a reject recorded while a
        # promotion of this model is deciding waits for it, and is never missed.
        get_model(session, name=name, for_update=True)
        row = get_version(session, name=name, version=version)
        if expected_stage is not None and row.stage != expected_stage:
            raise WorkflowRefused(f"{label} moved from {expected_stage} to {row.stage} meanwhile; "
                                  "nothing was recorded", hint="Look at it again at its new stage, then decide.")
        if pgwrites.guarded(session):
            record = session.get(Review, pgwrites.call(session, "record_review", version_id=row.id,
                                                       decision=decision, comment=text))
        else:
            record = Review(version_id=row.id, stage=row.stage, reviewer=actor, roles=",".join(roles),
                            decision=decision, comment=text, created_at=utcnow())
            session.add(record)
            session.flush()
        by_submitter = actor == row.submitter
        audit.append(session, actor=actor, action=f"review.{decision}", subject=label,
                     payload={"stage": row.stage, "roles": list(roles), "comment": text,
                              "by_submitter": by_submitter})
        return ReviewRecorded(actor, ",".join(roles), decision, text, row.stage,
                              as_utc(record.created_at), name, version, by_submitter)


def gates(registry, *, name: str, version: str, to_stage: str, policy: Policy | None = None,
          progress: Progress | None = None, verify_store: bool = True) -> list[GateResult]:
    """Every gate for moving ``name@version`` to ``to_stage``, met or not.

    ``policy`` defaults to the registry's policy in force. Changes no stage; a
    validation run made to answer is recorded (with its event). ``verify_store=False``
    skips hashing the stored bundles again (see :func:`.gates.evaluate`).
    """
    check_stage(to_stage)
    policy = policy or policy_in_force(registry)
    prepared = prepare(registry, name=name, version=version, to_stage=to_stage, policy=policy,
                       progress=progress, verify_store=verify_store)
    with registry.session() as session:
        row = get_version(session, name=name, version=version)
        return evaluate(session, row, label=f"{name}@{version}", to_stage=to_stage, policy=policy,
                        actor=registry.actor, store=registry.store,
                        prepared=prepared, verify_store=verify_store)


def _move(session, row: Version, *, to_stage: str, kind: str, actor: str, reason: str | None,
          policy_digest: str | None = None) -> str:
    from_stage = row.stage
    if pgwrites.guarded(session):
        pgwrites.call(session, "move_version", version_id=row.id, to_stage=to_stage, kind=kind,
                      reason=reason, policy_digest=policy_digest)
        session.refresh(row)
        return from_stage
    row.stage = to_stage
    row.updated_at = utcnow()
    session.add(Promotion(version_id=row.id, from_stage=from_stage, to_stage=to_stage, kind=kind,
                          actor=actor, reason=reason, policy_digest=policy_digest, created_at=utcnow()))
    return from_stage


def promote(registry, *, name: str, version: str, to_stage: str, reason: str | None = None,
            policy: Policy | None = None, progress: Progress | None = None) -> PromotionResult:
    """Move ``name@version`` to ``to_stage`` when every gate holds; otherwise refuse.

    Needs the approver or admin role. Runs in one transaction that locks the model's
    row, so concurrent promoters of one model take turns. A refusal is audited
    ("promote.refused", listing the unmet gates) and raises :class:`WorkflowRefused`
    with every gate. Reaching production moves the current production version to
    deprecated. Promoting to the stage the version already has changes nothing.
    ``policy`` defaults to the registry's policy in force; the command line never
    lets a promoter choose another.
    """
    check_stage(to_stage)
    policy = policy or policy_in_force(registry)
    label, actor = f"{name}@{version}", registry.actor
    reason = (reason or "").strip() or None
    with registry.session() as session:
        identity.require(session, actor, *PROMOTE_ROLES, action="promote", subject=label)
    # Prepare: each stored copy hashed once and the bundle validated once, outside the
    # transaction. Commit: gates on what was prepared, the move and its audit events, in one.
    prepared = prepare(registry, name=name, version=version, to_stage=to_stage, policy=policy,
                       progress=progress)
    refused: tuple[GateResult, ...] | None = None
    with registry.session() as session:
        identity.require(session, actor, *PROMOTE_ROLES, action="promote", subject=label)
        model = get_model(session, name=name, for_update=True)
        row = get_version(session, name=name, version=version)
        from_stage = row.stage
        if from_stage == to_stage:
            return PromotionResult(name, version, False, from_stage, to_stage, ())
        results = tuple(evaluate(session, row, label=label, to_stage=to_stage, policy=policy, actor=actor,
                                 store=registry.store, prepared=prepared))
        unmet = [gate for gate in results if gate.blocking]
        base = {"from": from_stage, "to": to_stage, "reason": reason, "policy": policy.name,
                "policy_digest": policy.digest}
        if unmet:
            audit.append(session, actor=actor, action="promote.refused", subject=label,
                         payload={**base, "unmet": [gate.as_dict() for gate in unmet]})
            refused = results
        else:
            record_decision(session, row, label=label, to_stage=to_stage, policy=policy, actor=actor,
                            store=registry.store, reason=reason, champion=champion_of(session, model_id=row.model_id, besides=row.id))
            _move(session, row, to_stage=to_stage, kind="promote", actor=actor, reason=reason,
                  policy_digest=policy.digest)
            superseded, others = None, []
            if to_stage == PRODUCTION:
                others = production_versions(session, model_id=model.id, besides=row.id)
                for other in others:
                    superseded = f"{name}@{other.version}"
                    _move(session, other, to_stage=DEPRECATED, kind="superseded", actor=actor,
                          reason=f"superseded by {label}")
            audit.append(session, actor=actor, action="promote", subject=label,
                         payload={**base, "superseded": superseded})
            for other in others:
                audit.append(session, actor=actor, action="promote.superseded",
                             subject=f"{name}@{other.version}",
                             payload={"from": PRODUCTION, "to": DEPRECATED, "by": label})
    if refused is not None:
        lines = "; ".join(f"{gate.name}: {gate.reason}" for gate in refused if gate.blocking)
        raise WorkflowRefused(f"{label} cannot move from {from_stage} to {to_stage}: {lines}",
                              hint="Every unmet gate is listed; `modelgate registry show` has the history.",
                              gates=list(refused))
    return PromotionResult(name, version, True, from_stage, to_stage, results, superseded)


def _restorable(session, model_id: int, current_id: int | None, *, kinds=("superseded", "rollback")):
    """Deprecated versions of the model that left production by one of ``kinds`` of move,
    most recently left first. Replaced ones ("superseded") are the usual targets; one taken
    out by an earlier rollback comes back only when named."""
    left = (select(Promotion.version_id, func.max(Promotion.id).label("last"))
            .where(Promotion.from_stage == PRODUCTION, Promotion.kind.in_(kinds))
            .group_by(Promotion.version_id).subquery())
    query = (select(Version).join(left, left.c.version_id == Version.id)
             .where(Version.model_id == model_id, Version.stage == DEPRECATED)
             .order_by(left.c.last.desc()))
    if current_id is not None:
        query = query.where(Version.id != current_id)
    return session.scalars(query).all()


@dataclass(frozen=True)
class RollbackChoices:
    """The versions a rollback of a model may restore; ``default`` is the one production last
    replaced (None when none is left), restored when no version is named."""

    default: str | None
    versions: tuple[str, ...]


def rollback_choices(registry, *, name: str) -> RollbackChoices:
    """What a rollback of model ``name`` may restore, the default first."""
    with registry.session(write=False) as session:
        model = get_model(session, name=name)
        usual = [row.version for row in _restorable(session, model.id, None, kinds=("superseded",))]
        others = [row.version for row in _restorable(session, model.id, None) if row.version not in usual]
        return RollbackChoices(usual[0] if usual else None, tuple(usual + others))


def _rollback_target(session, model, *, name: str, to_version: str | None,
                     expected_current: str | None) -> tuple[Version | None, Version | None, str | None]:
    """``(current production version, version to restore, problem)`` of a rollback of ``model``."""
    current = champion_of(session, model_id=model.id)
    usual = _restorable(session, model.id, current.id, kinds=("superseded",)) if current else []
    choices = _restorable(session, model.id, current.id) if current else []
    previous = usual[0] if usual else None
    if to_version is not None:
        previous = next((row for row in choices if row.version == to_version), None)
    problem = None
    if current is None:
        problem = f"{name} has no production version to roll back"
    elif expected_current is not None and current.version != expected_current:
        problem = (f"{name}@{current.version} is in production now, not {expected_current}; "
                   "nothing was rolled back")
    elif previous is None and to_version is not None:
        problem = (f"{name}@{to_version} cannot be restored: only a deprecated version that was in "
                   f"production can ({', '.join(r.version for r in choices) or 'none is left'})")
    elif previous is None:
        problem = f"no earlier production version of {name} is left to restore"
        if choices:  # only versions an earlier rollback took out: they come back when named
            listed = ", ".join(row.version for row in choices)
            problem += f" by default; name one with --to VERSION ({listed})"
    return current, previous, problem


def _prepare_rollback(registry, *, name: str, to_version: str | None, policy: Policy,
                      progress: Progress | None) -> tuple[tuple | None, set[int] | None, dict]:
    """``(fresh validation, re-verified signature ids, stored-copy checks)`` of the version a
    rollback would restore, made outside any transaction: its recorded signatures checked again
    against its stored bytes with the keys trusted now, its stored copy hashed once (by digest,
    for the gates), and a production validation from those digests when no stored run (this
    policy, no champion) matches. ``(None, None, {})`` when nothing can be restored."""
    from modelgate.core.registry.signatures import reverified_signatures

    with registry.session(write=False) as session:
        model = get_model(session, name=name)
        _, previous, problem = _rollback_target(session, model, name=name, to_version=to_version,
                                                expected_current=None)
        if problem or previous is None:
            return None, None, {}
        run_needed = stored_run(session, previous.id, PRODUCTION, policy.digest, None) is None
        digest, version = previous.digest, previous.version
        recorded = recorded_signatures(session, previous, label=f"{name}@{version}")
    reverified = reverified_signatures(registry, name=name, version=version, progress=progress)
    store = registry.store
    check = store.inspect(digest, progress=progress)
    if not run_needed or not check.intact:
        return None, reverified, {digest: check}  # a stored run answers, or the gate says what is wrong
    report = run_validation(store.path_of(store.relative(digest)), policy=policy, stage=PRODUCTION,
                            recorded=recorded, digests=check.hashed, progress=progress)
    return (report, None), reverified, {digest: check}


def rollback_gates(registry, *, name: str, to_version: str | None = None, policy: Policy | None = None,
                   progress: Progress | None = None) -> tuple[str | None, list[GateResult]]:
    """``(version a rollback would restore, its gates)`` without changing anything: the same
    gates :func:`rollback` judges (a rollback gate when nothing can be restored)."""
    policy = policy or policy_in_force(registry)
    fresh, reverified, hashed = _prepare_rollback(registry, name=name, to_version=to_version, policy=policy,
                                                  progress=progress)
    with registry.session(write=False) as session:
        model = get_model(session, name=name)
        _, previous, problem = _rollback_target(session, model, name=name, to_version=to_version,
                                                expected_current=None)
        if problem:
            return None, [GateResult("rollback", NOT_MET, problem)]
        label = f"{name}@{previous.version}"
        results = evaluate_rollback(session, previous, label=label, policy=policy, actor=registry.actor,
                                    store=registry.store, fresh=fresh, mark=False, hashed=hashed,
                                    reverified=reverified if reverified is not None else set())
        return previous.version, results


def rollback(registry, *, name: str, reason: str, to_version: str | None = None,
             expected_current: str | None = None, break_glass: bool = False,
             policy: Policy | None = None, progress: Progress | None = None) -> RollbackResult:
    """Restore an earlier production version of model ``name``, recording ``reason``.

    ``to_version`` is a version that was in production and is deprecated now; by
    default the one most recently replaced by a newer production version. Needs
    the approver or admin role. The restored version must pass today's production
    gates (:func:`.gates.rollback_gates`: stored copy re-hashed, validation under the
    policy in force, a signature by a key trusted now that verifies again against the
    stored bytes). In one transaction the current
    production version goes to deprecated (kind 'rollback') and the restored one comes
    back to production (kind 'restored'). Any refusal (no production version, nothing to
    restore, the production version is not ``expected_current`` (the one the user saw),
    or a gate not met) is audited ("rollback.refused") and raises :class:`WorkflowRefused`
    with every gate; nothing else changes.

    ``break_glass`` (admins only) restores even though validation or signature gates fail:
    the restore is kind 'break-glass', audited as "rollback.break-glass" with the failed
    gates, and shown on every screen until a normal promotion replaces it. A damaged stored
    copy is never restored, break-glass or not: it would put other bytes in production.
    """
    text = _required_text(reason, what="rollback", option="--reason")
    actor = registry.actor
    policy = policy or policy_in_force(registry)
    wanted_roles = BREAK_GLASS_ROLES if break_glass else PROMOTE_ROLES
    action = "roll back by break-glass" if break_glass else "rollback"
    with registry.session() as session:
        identity.require(session, actor, *wanted_roles, action=action, subject=name)
    fresh, reverified, hashed = _prepare_rollback(registry, name=name, to_version=to_version, policy=policy,
                                                  progress=progress)
    problem, results, forced = None, [], []
    with registry.session() as session:
        identity.require(session, actor, *wanted_roles, action=action, subject=name)
        model = get_model(session, name=name, for_update=True)
        current, previous, problem = _rollback_target(session, model, name=name, to_version=to_version,
                                                      expected_current=expected_current)
        if problem:
            results = [GateResult("rollback", NOT_MET, problem)]
        else:
            restored = f"{name}@{previous.version}"
            results = [GateResult("rollback", MET, f"{restored} left production by a "
                                  f"{'supersession' if to_version is None else 'move'} and may come back"),
                       *evaluate_rollback(session, previous, label=restored, policy=policy, actor=actor,
                                          store=registry.store, fresh=fresh, hashed=hashed,
                                          reverified=reverified if reverified is not None else set())]
            unmet = [gate for gate in results if gate.blocking]
            if unmet and not (break_glass and all(g.name in BREAKABLE for g in unmet)):
                problem = f"{restored} cannot be restored: " + "; ".join(
                    f"{gate.name}: {gate.reason}" for gate in unmet)
            else:
                forced = unmet
        base = {"reason": text, "policy": policy.name, "policy_digest": policy.digest,
                "break_glass": break_glass}
        if problem:
            audit.append(session, actor=actor, action="rollback.refused", subject=name,
                         payload={**base, "problem": problem,
                                  "unmet": [gate.as_dict() for gate in results if gate.blocking]})
        else:
            demoted = f"{name}@{current.version}"
            kind = "break-glass" if forced else "restored"
            # a rollback is a decision on both versions: attested like a promotion, in the same step
            attested = BREAK_GLASS if forced else ROLLBACK
            for moved, stage in ((current, DEPRECATED), (previous, PRODUCTION)):
                record_decision(session, moved, label=f"{name}@{moved.version}", to_stage=stage, policy=policy,
                                actor=actor, store=registry.store, reason=text, champion=None, kind=attested,
                                report=fresh[0] if fresh and moved is previous else None)
            _move(session, current, to_stage=DEPRECATED, kind="rollback", actor=actor, reason=text)
            _move(session, previous, to_stage=PRODUCTION, kind=kind, actor=actor, reason=text,
                  policy_digest=policy.digest)
            audit.append(session, actor=actor, action="rollback", subject=demoted,
                         payload={"from": PRODUCTION, "to": DEPRECATED, "restored": restored,
                                  "reason": text})
            audit.append(session, actor=actor, action="rollback.break-glass" if forced else "rollback.restored",
                         subject=restored,
                         payload={"from": DEPRECATED, "to": PRODUCTION, "replaces": demoted,
                                  "reason": text, "policy": policy.name, "policy_digest": policy.digest,
                                  "gates": [gate.as_dict() for gate in results],
                                  **({"failed_gates": [gate.as_dict() for gate in forced]} if forced else {})})
    if problem:
        hint = ("A rollback restores a version that a newer production version superseded, and only when "
                "it passes today's production gates.")
        if results and any(g.blocking for g in results) and not break_glass and all(
                g.name in BREAKABLE or not g.blocking for g in results):
            hint += " In a true emergency an admin may restore it anyway: --break-glass --reason TEXT."
        raise WorkflowRefused(problem, hint=hint, gates=results)
    return RollbackResult(name, restored, demoted, text, tuple(results), tuple(g.name for g in forced))
