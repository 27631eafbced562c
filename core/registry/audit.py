"""The append-only, hash-chained audit log.

Every event carries ``hash = sha256(prev_hash + "\\n" + canonical_json(event))``
where the event is ``{seq, created_at, actor, action, subject, payload}`` and
``canonical_json`` sorts keys and uses no spaces. Sequence numbers run 1, 2, 3 …
without gaps, and the one ``chain_head`` row names the last event, so editing,
deleting, inserting or reordering events, or cutting off the tail, all break the
chain at a sequence number :func:`verify` reports.

:func:`append` writes in the caller's transaction (the change and its event
commit or vanish together). It locks ``chain_head`` first (``FOR UPDATE`` on
PostgreSQL; SQLite write transactions already hold the database lock), so
concurrent appends get consecutive numbers. On PostgreSQL the database itself
numbers, links, hashes and attributes each event (``append_event``, see
:mod:`.pgwrites`): no login can write the log or move its head directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from json.encoder import encode_basestring as _quote  # the C string encoder (ensure_ascii=False)
from typing import Any

from sqlalchemy import insert, select, update

from modelgate.core.registry import pgwrites
from modelgate.core.registry.models import AuditEventRow, ChainHead

GENESIS = "0" * 64
HEAD_ID = 1
_EVENTS = AuditEventRow.__table__
_HEAD = ChainHead.__table__


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and raw UTF-8: the one form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _event_hash(prev_hash: str, seq: int, created_at: str, actor: str, action: str,
                subject: str, payload_json: str) -> str:
    # canonical_json of the event dict, spelt out: keys in sorted order, and the
    # payload already canonical text. verify() runs this a million times.
    body = (f'{{"action":{_quote(action)},"actor":{_quote(actor)},"created_at":{_quote(created_at)},'
            f'"payload":{payload_json},"seq":{seq},"subject":{_quote(subject)}}}')
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def event_hash(prev_hash: str, event: dict) -> str:
    """The hash of ``event`` (keys seq, created_at, actor, action, subject, payload) after ``prev_hash``."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(event)}".encode()).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    """One event of the audit log."""

    seq: int
    created_at: str
    actor: str
    action: str
    subject: str
    payload: dict = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""


@dataclass(frozen=True)
class AuditVerdict:
    """The outcome of :func:`verify`: ``first_broken`` is the first bad sequence number."""

    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str | None = None


def now_text() -> str:
    """The current UTC time as the ISO text stored (and hashed) in ``created_at``."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def lock_head(session) -> tuple[int, str]:
    """Lock the chain head for this transaction and return ``(seq, hash)`` of the last event."""
    if pgwrites.guarded(session):  # FOR UPDATE needs a write right logins do not have
        row = pgwrites.call(session, "lock_audit_head")
        if row.head_seq is None:
            raise RuntimeError("the audit chain head row is missing; run `modelgate audit verify`")
        return row.head_seq, row.head_hash
    row = session.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if row is None:
        raise RuntimeError("the audit chain head row is missing; run `modelgate audit verify`")
    return row.seq, row.hash


SUBJECT_MAX = 300
#: Session flag: an append reached a multiple of ``audit_checkpoint_every``.
CHECKPOINT_DUE = "modelgate_audit_checkpoint_due"


def _checkpoint_every() -> int:
    from modelgate.core import settings
    return int(settings.get(settings.AUDIT_CHECKPOINT_EVERY))


def append(session, *, actor: str, action: str, subject: str, payload: dict | None = None) -> AuditEvent:
    """Append one event in the caller's transaction (never commits) and return it.

    On PostgreSQL the actor is the database login, whatever ``actor`` says (they agree:
    see :func:`.identity.acting_user`).
    """
    if len(subject) > SUBJECT_MAX:  # user input (a mistyped name) must not overflow the column
        subject = subject[:SUBJECT_MAX - 1] + "…"
    payload = dict(payload or {})
    payload_json = canonical_json(payload)
    if pgwrites.guarded(session):
        row = pgwrites.append_event(session, action=action, subject=subject, payload_json=payload_json)
        seq, created_at, head_hash, digest = row.event_seq, row.event_created_at, row.event_prev_hash, row.event_hash
    else:
        head_seq, head_hash = lock_head(session)
        seq = head_seq + 1
        created_at = now_text()
        digest = _event_hash(head_hash, seq, created_at, actor, action, subject, payload_json)
        session.execute(insert(_EVENTS).values(
            seq=seq, created_at=created_at, actor=actor, action=action, subject=subject,
            payload=payload_json, prev_hash=head_hash, hash=digest))
        session.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=seq, hash=digest))
    every = _checkpoint_every()
    if every and not seq % every:
        # Signed once the transaction has committed (Registry.session): a checkpoint of an
        # event that is then rolled back would make the intact log look cut short.
        session.info[CHECKPOINT_DUE] = True
    return AuditEvent(seq, created_at, actor, action, subject, payload, head_hash, digest)


def _to_event(row) -> AuditEvent:
    try:
        payload = json.loads(row.payload)
    except ValueError:  # a tampered row must still be shown; `audit verify` says what is wrong
        payload = {"unreadable payload": row.payload}
    return AuditEvent(row.seq, row.created_at, row.actor, row.action, row.subject,
                      payload if isinstance(payload, dict) else {"payload": payload},
                      row.prev_hash, row.hash)


def events(session, *, subject: str | None = None, action: str | None = None,
           actor: str | None = None, limit: int | None = None, seq: int | None = None) -> list[AuditEvent]:
    """Events oldest first, optionally filtered; ``limit`` keeps the newest ``limit`` of them."""
    query = select(_EVENTS)
    if seq is not None:
        query = query.where(_EVENTS.c.seq == seq)
    if subject is not None:
        query = query.where(_EVENTS.c.subject == subject)
    if action is not None:
        query = query.where(_EVENTS.c.action == action)
    if actor is not None:
        query = query.where(_EVENTS.c.actor == actor)
    if limit is not None:
        rows = session.execute(query.order_by(_EVENTS.c.seq.desc()).limit(max(0, limit))).all()
        rows.reverse()
    else:
        rows = session.execute(query.order_by(_EVENTS.c.seq)).all()
    return [_to_event(row) for row in rows]


def _scan(rows, progress, *, after: tuple[int, str] = (0, GENESIS)) -> tuple[int, str, AuditVerdict | None]:
    """Walk rows ordered by seq that follow event ``after`` = (seq, hash); return
    (last seq, last hash, verdict if broken)."""
    expected, prev = after[0] + 1, after[1]
    for seq, created_at, actor, action, subject, payload, prev_hash, digest in rows:
        if seq != expected:
            return expected - 1, prev, AuditVerdict(False, expected - 1, expected, (
                f"event {expected} is missing (sequence jumps from {expected - 1} to {seq})"))
        if prev_hash != prev:
            return seq - 1, prev, AuditVerdict(False, seq - 1, seq, (
                f"event {seq} does not follow event {seq - 1} (its previous hash does not match): "
                "events were inserted, removed or reordered"))
        if _event_hash(prev_hash, seq, created_at, actor, action, subject, payload) != digest:
            return seq - 1, prev, AuditVerdict(False, seq - 1, seq, (
                f"event {seq} was edited (its hash does not match its content)"))
        prev = digest
        expected += 1
        if progress is not None and not expected % 10_000:
            progress.advance(10_000)
    return expected - 1, prev, None


def verify_after(connection, *, seq: int, digest: str) -> tuple[int, str, AuditVerdict | None]:
    """Check the events after event ``seq`` (whose hash must be ``digest``) up to the last one.

    Returns ``(last seq, last hash, verdict if broken)``; reads only the events from ``seq`` on,
    so extending a checkpoint costs the events since the previous one, not the whole log.
    """
    columns = (_EVENTS.c.seq, _EVENTS.c.created_at, _EVENTS.c.actor, _EVENTS.c.action,
               _EVENTS.c.subject, _EVENTS.c.payload, _EVENTS.c.prev_hash, _EVENTS.c.hash)
    if seq:
        anchor = connection.execute(select(_EVENTS.c.hash).where(_EVENTS.c.seq == seq)).scalar()
        if anchor != digest:
            state = "is missing" if anchor is None else "differs"
            return seq - 1, "", AuditVerdict(False, seq - 1, seq, f"event {seq} {state}")
    rows = connection.execute(select(*columns).where(_EVENTS.c.seq > seq).order_by(_EVENTS.c.seq)).all()
    return _scan(rows, None, after=(seq, digest))


def verify(source, *, progress=None) -> AuditVerdict:
    """Check the whole chain; ``source`` is an Engine (preferred), Connection or Session.

    Streams events in sequence order (10,000 rows per fetch) and stops at the
    first break: a gap in the sequence (deleted event), a previous-hash that
    does not link (inserted or reordered events), a hash that does not match
    the content (edited event), or a chain head that disagrees with the last
    event (events cut off the end, or appended behind the head's back).
    """
    from sqlalchemy.engine import Engine

    if isinstance(source, Engine):
        # One snapshot for the head and every event, so concurrent appends cannot
        # look like tampering (SQLite read transactions are snapshots already).
        options = {"isolation_level": "REPEATABLE READ"} if source.dialect.name == "postgresql" else {}
        with source.connect().execution_options(**options) as connection:
            return verify(connection, progress=progress)
    if progress is not None:
        total = source.execute(select(_HEAD.c.seq).where(_HEAD.c.id == HEAD_ID)).scalar()
        progress.start(label="verifying the audit log", total=total or 0)
    head = source.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID)).one_or_none()
    columns = (_EVENTS.c.seq, _EVENTS.c.created_at, _EVENTS.c.actor, _EVENTS.c.action,
               _EVENTS.c.subject, _EVENTS.c.payload, _EVENTS.c.prev_hash, _EVENTS.c.hash)
    query = select(*columns).order_by(_EVENTS.c.seq).execution_options(yield_per=10_000)
    result = source.execute(query)
    try:
        last, last_hash, broken = _scan(result, progress)
    finally:
        result.close()
    if broken is not None:
        return broken
    if head is None:
        return AuditVerdict(False, last, last + 1, "the chain head row is missing, so the end of the "
                            "log cannot be confirmed")
    if head.seq > last:
        gone = f"event {last + 1}" if head.seq == last + 1 else f"events {last + 1} to {head.seq}"
        return AuditVerdict(False, last, last + 1, (
            f"{gone} missing at the end (the chain head records {head.seq} events, the log holds {last})"))
    if head.seq < last:
        return AuditVerdict(False, head.seq, head.seq + 1, (
            f"event {head.seq + 1} was added behind the chain head's back (the head ends at {head.seq})"))
    if head.hash != last_hash:
        return AuditVerdict(False, last - 1 if last else 0, max(last, 1), (
            f"the chain head does not match event {last} (its hash differs)"))
    return AuditVerdict(True, last)
