"""The acting user's work queue: versions waiting for them to review, approve, sign or promote.

A version waits at its stage for what the policy asks to reach the next one. It is in
a user's queue when that user can supply it:

- **review** / **approve**: the next stage needs approvals from a role the user holds
  (``approve`` when that role is ``approver``), the user did not submit the version and
  has not yet given a decision at this stage, and the approvals are still short.
- **sign**: the next stage needs a release signature from a role the user holds, the
  approvals are complete, no recorded signature counts yet, and the user did not submit it.
- **promote**: the user may promote (approver or admin) and the approvals and signature
  the next stage needs are all there; validation is checked when promoting.

The oldest waiting comes first. The same gate rules as :mod:`.gates` decide, so the queue
never offers work a gate would not count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select

from modelgate.core.policy.document import Policy
from modelgate.core.policy.stages import ON_THE_WAY, next_stage
from modelgate.core.registry import identity
from modelgate.core.registry.gates import (signature_problem, tally_approvals, verified_signatures,
                                          wanted_approvals, wanted_signature)
from modelgate.core.registry.models import Model, Review, Version, as_utc
from modelgate.core.registry.policies import policy_in_force

#: Tasks in the order a queue groups them.
TASKS = ("review", "approve", "sign", "promote")
PROMOTE_ROLES = ("approver",)
#: Items of each task a queue holds at most (the oldest); nobody works through more in a sitting.
LIMIT = 500
#: Versions read and judged at a time.
CHUNK = 500


@dataclass(frozen=True)
class QueueItem:
    """One version waiting for the user: what to do (``task``), and since when."""

    task: str
    name: str
    version: str
    stage: str
    to_stage: str
    submitter: str
    waiting_since: datetime
    reason: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class WorkQueue:
    """The user's queue, oldest first, and how many items each task has."""

    user: str
    roles: tuple[str, ...]
    items: tuple[QueueItem, ...]
    counts: dict[str, int] = field(default_factory=dict)
    truncated: frozenset[str] = frozenset()   # tasks with more items waiting than the limit kept

    @property
    def complete(self) -> bool:
        """Whether every item waiting is here."""
        return not self.truncated

    def of(self, task: str) -> tuple[QueueItem, ...]:
        """The items of one task."""
        return tuple(item for item in self.items if item.task == task)


def _holds(held: set[str], roles: tuple[str, ...]) -> str | None:
    """The role of ``roles`` the user acts in (admin holds each), or None."""
    for role in roles:
        if role in held or "admin" in held:
            return role
    return None


def _reviews(session, ids: list[int]) -> dict[int, list[Review]]:
    """Reviews given at each version's current stage, oldest first."""
    found: dict[int, list[Review]] = defaultdict(list)
    query = (select(Review).join(Version, Version.id == Review.version_id)
             .where(Review.version_id.in_(ids), Review.stage == Version.stage).order_by(Review.id))
    for review in session.scalars(query):
        found[review.version_id].append(review)
    return found


def _signed(session, rows, *, roles: tuple[str, ...]) -> set[int]:
    """Ids of the versions among ``rows`` that hold a counting release signature."""
    by_id = {row.id: row for row in rows}
    held: dict[str, set[str]] = {}
    signed = set()
    for signature, revoked_at in verified_signatures(session, list(by_id)):
        row = by_id[signature.version_id]
        if signature.signer not in held:
            held[signature.signer] = set(identity.roles_of(session, signature.signer))
        if signature_problem(signature, revoked=revoked_at is not None, held=held[signature.signer],
                             digest=row.digest, submitter=row.submitter, roles=roles) is None:
            signed.add(row.id)
    return signed


def _candidates(session, *, stage: str, approved_only: bool):
    """Versions at ``stage``, longest waiting first (``updated_at`` is set by every move between
    stages, so it is when the version reached this one); with ``approved_only``, only those with
    an approval at this stage, the only ones that can be waiting to be signed or promoted."""
    query = (select(Version.id, Version.version, Version.digest, Version.submitter, Version.updated_at,
                    Model.name).join(Model, Model.id == Version.model_id).where(Version.stage == stage))
    if approved_only:
        query = query.where(exists().where(Review.version_id == Version.id, Review.stage == stage,
                                           Review.decision == "approve"))
    return session.execute(query.order_by(Version.updated_at, Version.id).execution_options(yield_per=CHUNK))


def _items_for_stage(session, *, stage: str, policy: Policy, user: str, held: set[str],
                     limit: int) -> tuple[list[QueueItem], set[str]]:
    """The items waiting at ``stage``, oldest first, at most ``limit`` of each task; and the
    tasks that had more."""
    to_stage = next_stage(stage)
    count, review_roles = wanted_approvals(policy, to_stage)
    required, sign_roles = wanted_signature(policy, to_stage)
    review_role = _holds(held, review_roles) if review_roles else _holds(held, ("reviewer", "approver"))
    sign_role = _holds(held, sign_roles) if required and sign_roles else (
        _holds(held, ("signer",)) if required else None)
    may_promote = _holds(held, PROMOTE_ROLES) is not None
    if not (review_role or sign_role or may_promote):
        return [], set()
    items: list[QueueItem] = []
    held_back: Counter = Counter()         # items of a task past ``limit``, not kept
    possible = {t for t, can in (("review", review_role and review_role != "approver"),
                                 ("approve", review_role == "approver"), ("sign", sign_role),
                                 ("promote", may_promote)) if can}
    kept: Counter = Counter()
    rows = _candidates(session, stage=stage, approved_only=count > 0 and review_role is None)
    for chunk in rows.partitions(CHUNK):
        ids = [row.id for row in chunk]
        reviews = _reviews(session, ids)
        signed = _signed(session, chunk, roles=sign_roles) if required else set()
        for row in chunk:
            given = reviews.get(row.id, ())
            tally = tally_approvals(given, submitter=row.submitter, roles=review_roles)
            approved = count <= 0 or tally.met(count)
            item = _task_of(row, tally=tally, approved=approved, required=required,
                            signed=row.id in signed, count=count, user=user, review_role=review_role,
                            sign_role=sign_role, may_promote=may_promote, to_stage=to_stage,
                            spoken=any(r.reviewer == user for r in given))
            if item is None:
                continue
            task, reason = item
            if kept[task] >= limit:
                held_back[task] += 1
                if all(held_back[t] for t in possible):   # every list is full: the rest is older news
                    rows.close()
                    return items, set(held_back)
                continue
            kept[task] += 1
            items.append(QueueItem(task, row.name, row.version, stage, to_stage, row.submitter,
                                   as_utc(row.updated_at), reason))
    return items, set(held_back)


def _task_of(row, *, tally, approved: bool, required: bool, signed: bool, count: int, user: str, review_role,
             sign_role, may_promote: bool, to_stage: str, spoken: bool) -> tuple[str, str] | None:
    own = row.submitter == user
    if not approved:
        if own or spoken or review_role is None or count <= 0 or tally.blockers:
            return None
        task = "approve" if review_role == "approver" else "review"
        return task, f"{len(tally.counted)} of {count} approval(s) for {to_stage}"
    if required and not signed:
        if own or sign_role is None:
            return None
        return "sign", f"approved for {to_stage}; the release signature is missing"
    if may_promote:
        what = "the approvals and the signature" if required else "the approvals"
        return "promote", f"{what} for {to_stage} are in place; promoting checks validation"
    return None


def work_queue(registry, *, policy: Policy | None = None, limit: int = LIMIT) -> WorkQueue:
    """What waits for the registry's acting user, oldest first (see the module's rules): at most
    ``limit`` items of each task; ``truncated`` names the tasks that had more."""
    policy = policy or policy_in_force(registry)
    user = registry.actor
    items, truncated = [], set()
    with registry.session(write=False) as session:
        held = set(identity.roles_of(session, user))
        for stage in ON_THE_WAY:
            found, more = _items_for_stage(session, stage=stage, policy=policy, user=user, held=held, limit=limit)
            items += found
            truncated |= more
    items.sort(key=lambda item: (item.waiting_since, item.name, item.version))
    kept: list[QueueItem] = []
    per_task: Counter = Counter()
    for item in items:                      # at most ``limit`` of each task over all stages
        per_task[item.task] += 1
        if per_task[item.task] <= limit:
            kept.append(item)
        else:
            truncated.add(item.task)
    counts = Counter(item.task for item in kept)
    return WorkQueue(user, tuple(sorted(held)), tuple(kept), {task: counts.get(task, 0) for task in TASKS},
                     frozenset(truncated))
