"""Browsing the audit log a page at a time: by actor, action, subject text and time, newest first.

This is the desktop app's audit view, built for a log of a million events. Every filter
has an index ending in ``seq`` (migration 0003), so a page reads only the rows it shows:

* **actor** and an exact **action** walk ``(actor, seq)`` or ``(action, seq)`` in order.
* An **action family** (``review.`` means ``review`` and every ``review.*`` action) is
  one such walk per action of the family, merged: a page costs a page per action, never
  a sort of every matching event.
* **Subject text** (a case-blind substring, e.g. a model name) is matched first among
  the distinct subjects, a few per version, held in :class:`AuditValues`; the events of
  the subjects that match come from ``(subject, seq)``. Without values, or when the
  text matches more than :data:`MOST_SUBJECTS` subjects (then matching events are
  everywhere and a walk finds a page at once), the subjects are matched in SQL.
* A **time range** narrow enough (fewer than :data:`WALK_ABOVE` events between its ends'
  sequence numbers) is turned into the exact range of sequence numbers its events
  carry, read from ``(created_at, seq)``, which every other index can then seek. A
  wide one is checked on the rows walked, which mostly match; the first page of a
  range that ends long ago walks once past the newer events (a third of a second on
  a million events), the pages after it start where it stopped. Event times follow
  the chain's order only as far as clocks do, so times are always compared exactly.

Combining filters costs a walk over the events of the narrowest one: "ben's review
actions about credit-risk" reads ben's events of each review action until a page
of them is about credit-risk.

Paging: ``after`` (the last event held) continues a listing and ``before`` (the first
held) fetches the events just above it, each at the cost of one page however deep;
``offset`` works too, but costs the rows it skips.

Counting: :func:`count` is exact up to ``cap`` (:data:`COUNT_CAP`, 10,000) and otherwise
says "more than 10,000"; the unfiltered total is always exact. A reviewer needs the
number when a filter narrows the log to something to read through, and only the
magnitude of a larger one, which would otherwise cost a pass over up to every
matching event on each keystroke.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import false, func, select, union_all

from modelgate.core.registry import audit
from modelgate.core.registry.errors import RegistryError
from modelgate.core.registry.models import AuditEventRow, as_utc

_EVENTS = AuditEventRow.__table__
#: An action ending in this is a family: ``review.`` is ``review`` and ``review.*``.
FAMILY = "."
#: Above this many events between a time range's ends, the range is checked on the rows walked.
WALK_ABOVE = 20_000
#: Above this many matching subjects, subject text is matched in SQL instead of by list.
MOST_SUBJECTS = 2_000
#: Filtered counts stop here.
COUNT_CAP = 10_000
#: Between subjects in the text searched for subject text: a character no typed text holds.
SEPARATOR = "\0"


def stamp(moment: datetime) -> str:
    """``moment`` as the text ``created_at`` holds (UTC, microseconds, ``Z``); naive means UTC."""
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditQuery:
    """Which events to list: every field set narrows the listing."""

    actor: str | None = None
    #: An exact action, or a family ending in ``.`` (``review.``).
    action: str | None = None
    #: Text the subject contains, case-blind (``credit-risk``, ``credit-risk@1.2.0``, ``eve``).
    text: str = ""
    #: Events at or after this moment, and before ``until`` (aware datetimes; naive ones are UTC).
    since: datetime | None = None
    until: datetime | None = None
    newest_first: bool = True

    def __post_init__(self) -> None:
        if self.action is not None and not self.action.strip(FAMILY):
            raise RegistryError(f"{self.action!r} is not an action",
                                hint="Give an action such as review.approve, or a family such as review.")

    @property
    def filtered(self) -> bool:
        """Whether any filter is set."""
        return bool(self.actor or self.action or self.text.strip() or self.since or self.until)

    @property
    def family(self) -> bool:
        """Whether ``action`` names a family of actions rather than one."""
        return bool(self.action) and self.action.endswith(FAMILY)


def in_family(action: str, family: str) -> bool:
    """Whether ``action`` belongs to ``family`` (``review.``: ``review`` or ``review.*``)."""
    return action == family[:-1] or action.startswith(family)


@dataclass(frozen=True)
class AuditValues:
    """The distinct actors, actions and subjects of the events up to sequence number ``upto``."""

    actors: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    subjects: frozenset[str] = field(default_factory=frozenset)
    upto: int = 0

    def families(self) -> tuple[str, ...]:
        """The families (``review.``) with more than one action, for a filter's choices."""
        heads = sorted({a.split(FAMILY, 1)[0] + FAMILY for a in self.actions})
        return tuple(f for f in heads if sum(in_family(a, f) for a in self.actions) > 1)

    def family(self, family: str) -> tuple[str, ...]:
        """The actions of ``family``."""
        return tuple(a for a in self.actions if in_family(a, family))

    def matching_subjects(self, text: str, *, most: int | None = None) -> frozenset[str]:
        """The subjects containing ``text``, case-blind; with ``most``, stop after ``most + 1``."""
        needle = text.strip().lower()
        if not needle:
            return frozenset()
        ordered, starts, haystack = self._haystack
        found = set()
        for match in re.finditer(re.escape(needle), haystack):
            found.add(ordered[bisect.bisect_right(starts, match.start()) - 1])
            if most is not None and len(found) > most:
                break
        return frozenset(found)

    @cached_property
    def _haystack(self) -> tuple[list[str], list[int], str]:
        # One lower-cased text of every subject, searched at C speed: a hundred thousand
        # subjects answer a keystroke in a millisecond or two.
        ordered = sorted(self.subjects)
        lowered = [subject.lower() for subject in ordered]
        starts = list(itertools.accumulate((len(s) + 1 for s in lowered[:-1]), initial=0))
        return ordered, starts, SEPARATOR.join(lowered)


def _distinct(session, column) -> list[str]:
    """The distinct values of an indexed column, one index seek each (a loose index scan)."""
    walk = select(func.min(column).label("value")).cte("walk", recursive=True)
    following = select(func.min(column)).where(column > walk.c.value).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.value.is_not(None)))
    return [value for value in session.execute(select(walk.c.value)).scalars() if value is not None]


def values_of(session, *, known: AuditValues | None = None) -> AuditValues:
    """The values of every event: ``known`` extended with events after ``known.upto``, or
    read afresh (actors and actions by index seeks, subjects from their index)."""
    top = session.execute(select(func.max(_EVENTS.c.seq))).scalar() or 0
    if known is not None and known.upto and known.upto <= top:
        if known.upto == top:
            return known
        rows = session.execute(select(_EVENTS.c.actor, _EVENTS.c.action, _EVENTS.c.subject)
                               .where(_EVENTS.c.seq > known.upto).distinct()).all()
        return AuditValues(tuple(sorted({*known.actors, *(r.actor for r in rows)})),
                           tuple(sorted({*known.actions, *(r.action for r in rows)})),
                           known.subjects | {r.subject for r in rows}, top)
    subjects = frozenset(session.execute(select(_EVENTS.c.subject).distinct()).scalars())
    return AuditValues(tuple(_distinct(session, _EVENTS.c.actor)), tuple(_distinct(session, _EVENTS.c.action)),
                       subjects, top)


def _seq_range(session, since: str | None, until: str | None) -> tuple[int, int] | None:
    """The least and greatest sequence numbers of the events in the time range, when it is
    narrow (see the module docstring); ``None`` for a wide range."""
    stamped = _EVENTS.c.created_at

    def end(condition, order) -> int | None:
        return session.execute(select(_EVENTS.c.seq).where(condition).order_by(order).limit(1)).scalar()

    first = end(stamped >= since, stamped.asc()) if since else 1
    last = end(stamped < until, stamped.desc()) if until else \
        session.execute(select(func.max(_EVENTS.c.seq))).scalar()
    if first is None or last is None:
        return 0, -1                  # nothing in the range
    if abs(last - first) > WALK_ABOVE:
        return None
    # The ends' numbers only estimate the size; the exact bounds come from the time index, since
    # clocks may step back and an event's time need not follow its number. "seq + 0" stops
    # PostgreSQL from seeking min and max along the sequence index and filtering by time.
    inside = [stamped >= since] if since else []
    inside += [stamped < until] if until else []
    number = _EVENTS.c.seq + 0
    low, high = session.execute(select(func.min(number), func.max(number)).where(*inside)).one()
    return (low, high) if low is not None else (0, -1)


def _conditions(session, query: AuditQuery, values: AuditValues | None, *,
                walk: bool) -> tuple[list, list[str] | None]:
    """The WHERE clauses of ``query`` but its action family, and the family's actions (or None).

    ``walk`` keeps the time index out of the plan (by comparing ``created_at || ''``): a page
    walks the sequence numbers instead of reading a whole time range and sorting it.
    """
    where = []
    text = query.text.strip().lower()
    known = values_of(session, known=values) if values is not None and (query.family or text) else None
    if query.actor:
        where.append(_EVENTS.c.actor == query.actor)
    actions = None
    if query.family:
        actions = list(known.family(query.action) if known is not None else
                       (a for a in _distinct(session, _EVENTS.c.action) if in_family(a, query.action)))
    elif query.action:
        where.append(_EVENTS.c.action == query.action)
    if text:
        subjects = known.matching_subjects(text, most=MOST_SUBJECTS) if known is not None else None
        if subjects is not None and len(subjects) <= MOST_SUBJECTS:
            where.append(_EVENTS.c.subject.in_(sorted(subjects)) if subjects else false())
        else:
            where.append(func.lower(_EVENTS.c.subject).contains(text, autoescape=True))
    since = stamp(query.since) if query.since else None
    until = stamp(query.until) if query.until else None
    if since or until:
        bounds = _seq_range(session, since, until)
        if bounds is not None:
            where.append(_EVENTS.c.seq.between(*bounds))
        stamped = _EVENTS.c.created_at.concat("") if walk else _EVENTS.c.created_at
        if since:
            where.append(stamped >= since)
        if until:
            where.append(stamped < until)
    return where, actions


def page_of(session, *, query: AuditQuery, limit: int = 200, offset: int = 0, after: int | None = None,
            before: int | None = None, values: AuditValues | None = None) -> list[audit.AuditEvent]:
    """One page of the events ``query`` selects, in its order (see the module docstring).

    ``after`` continues past the event with that number; ``before`` gives the ``limit``
    events just ahead of it (still in the query's order); ``values`` lets subject text
    and action families use the indexes.
    """
    if limit < 0 or offset < 0:
        raise RegistryError("limit and offset must not be negative")
    if after is not None and before is not None:
        raise RegistryError("a page is either after one event or before one, not both")
    where, actions = _conditions(session, query, values, walk=True)
    if actions == []:
        return []
    # Rows come in the listing's direction, or against it when reading back from ``before``.
    descending = query.newest_first != (before is not None)
    if after is not None:
        where.append(_EVENTS.c.seq < after if query.newest_first else _EVENTS.c.seq > after)
    if before is not None:
        where.append(_EVENTS.c.seq > before if query.newest_first else _EVENTS.c.seq < before)

    def ordered(column):
        return column.desc() if descending else column.asc()

    if actions is None:
        chosen = (select(_EVENTS.c.seq).where(*where).order_by(ordered(_EVENTS.c.seq))
                  .limit(limit).offset(offset).subquery("page"))
    else:
        walks = [select(_EVENTS.c.seq).where(_EVENTS.c.action == action, *where)
                 .order_by(ordered(_EVENTS.c.seq)).limit(offset + limit).subquery() for action in actions]
        merged = union_all(*(select(walk.c.seq) for walk in walks)).subquery("merged")
        chosen = (select(merged.c.seq).order_by(ordered(merged.c.seq)).limit(limit).offset(offset)
                  .subquery("page"))
    rows = session.execute(select(_EVENTS).join(chosen, chosen.c.seq == _EVENTS.c.seq)
                           .order_by(ordered(_EVENTS.c.seq))).all()
    events = [audit._to_event(row) for row in rows]
    return events[::-1] if before is not None else events


@dataclass(frozen=True)
class AuditCount:
    """How many events a query selects: ``total`` exactly, or at least ``total`` when not ``exact``."""

    total: int
    exact: bool = True


def count_of(session, *, query: AuditQuery, values: AuditValues | None = None,
             cap: int = COUNT_CAP) -> AuditCount:
    """How many events ``query`` selects, exact up to ``cap`` (the unfiltered total always)."""
    if not query.filtered:
        return AuditCount(session.execute(select(func.count()).select_from(_EVENTS)).scalar_one())
    where, actions = _conditions(session, query, values, walk=False)
    if actions == []:
        return AuditCount(0)
    if actions is not None:
        where.append(_EVENTS.c.action.in_(actions))
    capped = select(_EVENTS.c.seq).where(*where).limit(cap + 1).subquery()
    total = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return AuditCount(min(total, cap), total <= cap)


def page(registry, *, query: AuditQuery, limit: int = 200, offset: int = 0, after: int | None = None,
         before: int | None = None, values: AuditValues | None = None) -> list[audit.AuditEvent]:
    """One page of ``registry``'s audit events (a read transaction); see :func:`page_of`."""
    with registry.session(write=False) as session:
        return page_of(session, query=query, limit=limit, offset=offset, after=after, before=before,
                       values=values)


def count(registry, *, query: AuditQuery, values: AuditValues | None = None, cap: int = COUNT_CAP) -> AuditCount:
    """How many of ``registry``'s audit events ``query`` selects (a read transaction); see :func:`count_of`."""
    with registry.session(write=False) as session:
        return count_of(session, query=query, values=values, cap=cap)


def values(registry, *, known: AuditValues | None = None) -> AuditValues:
    """The distinct actors, actions and subjects of ``registry``'s events (a read transaction)."""
    with registry.session(write=False) as session:
        return values_of(session, known=known)


@dataclass(frozen=True)
class ChainCheck:
    """A verification of the whole chain and the events to show with it.

    ``head`` is the last event verified (``None`` for an empty log); ``shown`` is where the
    chain breaks: the first broken event, or, when that one is missing, the nearest event
    after the gap (else before it).
    """

    verdict: audit.AuditVerdict
    head: audit.AuditEvent | None = None
    shown: audit.AuditEvent | None = None


def check_chain(registry, *, progress=None) -> ChainCheck:
    """Verify ``registry``'s audit chain (see :func:`.audit.verify`) and find what to show."""
    if progress is not None:
        progress.check()        # cancelled while it waited its turn
    verdict = registry.verify_audit(progress=progress)
    with registry.session(write=False) as session:
        def one(condition, order):
            row = session.execute(select(_EVENTS).where(condition).order_by(order).limit(1)).one_or_none()
            return audit._to_event(row) if row is not None else None

        if verdict.ok:
            return ChainCheck(verdict, one(_EVENTS.c.seq == verdict.checked, _EVENTS.c.seq) if verdict.checked
                              else None)
        broken = verdict.first_broken or 0
        shown = (one(_EVENTS.c.seq >= broken, _EVENTS.c.seq.asc())
                 or one(_EVENTS.c.seq < broken, _EVENTS.c.seq.desc()))
        head = one(_EVENTS.c.seq == verdict.checked, _EVENTS.c.seq) if verdict.checked else None
        return ChainCheck(verdict, head, shown)
