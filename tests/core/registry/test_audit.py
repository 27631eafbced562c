"""The hash-chained audit log: the hash formula, and every kind of tampering detected."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from sqlalchemy import insert

from modelgate.core.registry import audit
from modelgate.core.registry.database import session_scope


def _fill(registry, count: int) -> list[audit.AuditEvent]:
    with registry.session() as session:
        for n in range(count):
            audit.append(session, actor=registry.actor, action="note", subject=f"thing-{n}",
                         payload={"n": n, "text": "naïve ✓"})
    return registry.audit_log()


def _insert_forged(backend, *, seq: int, prev_hash: str, created_at: str = "2030-01-01T00:00:00.000000Z"):
    payload = {"n": "forged"}
    event = {"seq": seq, "created_at": created_at, "actor": "mallory", "action": "note",
             "subject": "forged", "payload": payload}
    digest = audit.event_hash(prev_hash, event)
    backend.sql("INSERT INTO audit_events (seq, created_at, actor, action, subject, payload, prev_hash, hash) "
                "VALUES (:seq, :created_at, 'mallory', 'note', 'forged', :payload, :prev, :hash)",
                seq=seq, created_at=created_at, payload=audit.canonical_json(payload), prev=prev_hash,
                hash=digest)
    return digest


def test_the_hash_follows_the_published_formula(admin_registry):
    events = _fill(admin_registry, 3)
    prev = audit.GENESIS
    for event in events:
        body = json.dumps({"seq": event.seq, "created_at": event.created_at, "actor": event.actor,
                           "action": event.action, "subject": event.subject, "payload": event.payload},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert event.prev_hash == prev
        assert event.hash == hashlib.sha256((prev + "\n" + body).encode("utf-8")).hexdigest()
        prev = event.hash
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].payload == {"n": 2, "text": "naïve ✓"}


def test_an_intact_chain_verifies(admin_registry):
    events = _fill(admin_registry, 5)
    assert admin_registry.verify_audit() == audit.AuditVerdict(True, len(events))


def test_an_empty_chain_verifies(backend):
    from sqlalchemy import create_engine

    engine = create_engine(backend.url)  # migrated, no event yet
    try:
        assert audit.verify(engine) == audit.AuditVerdict(True, 0)
    finally:
        engine.dispose()


def test_an_edited_event_is_named(admin_registry, backend):
    _fill(admin_registry, 5)
    backend.sql("UPDATE audit_events SET payload = :p WHERE seq = 4", p='{"n":99,"text":"naïve ✓"}')
    verdict = admin_registry.verify_audit()
    assert (verdict.ok, verdict.first_broken, verdict.checked) == (False, 4, 3)
    assert verdict.reason == "event 4 was edited (its hash does not match its content)"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(admin_registry, backend):
    events = _fill(admin_registry, 5)
    forged = dict(seq=3, created_at=events[2].created_at, actor="mallory", action=events[2].action,
                  subject=events[2].subject, payload=events[2].payload)
    digest = audit.event_hash(events[2].prev_hash, forged)
    backend.sql("UPDATE audit_events SET actor = 'mallory', hash = :h WHERE seq = 3", h=digest)
    verdict = admin_registry.verify_audit()
    assert (verdict.first_broken, verdict.reason.split(" (")[0]) == (4, "event 4 does not follow event 3")


def test_a_deleted_event_is_named(admin_registry, backend):
    _fill(admin_registry, 5)
    backend.sql("DELETE FROM audit_events WHERE seq = 3")
    verdict = admin_registry.verify_audit()
    assert (verdict.ok, verdict.first_broken) == (False, 3)
    assert verdict.reason == "event 3 is missing (sequence jumps from 2 to 4)"


def test_an_inserted_event_is_named(admin_registry, backend):
    events = _fill(admin_registry, 5)
    # Make room after event 3 and slip a well-formed event in: its own hash is right.
    backend.sql("UPDATE audit_events SET seq = seq + 1000 WHERE seq > 3")
    backend.sql("UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000")
    _insert_forged(backend, seq=4, prev_hash=events[2].hash)
    verdict = admin_registry.verify_audit()
    assert (verdict.ok, verdict.first_broken) == (False, 5)
    assert verdict.reason.startswith("event 5 does not follow event 4")


def test_an_event_appended_behind_the_heads_back_is_named(admin_registry, backend):
    events = _fill(admin_registry, 5)
    _insert_forged(backend, seq=7, prev_hash=events[-1].hash)  # a perfectly linked 7th event
    verdict = admin_registry.verify_audit()
    assert (verdict.ok, verdict.first_broken) == (False, 7)
    assert verdict.reason == "event 7 was added behind the chain head's back (the head ends at 6)"


def test_reordered_events_are_named(admin_registry, backend):
    _fill(admin_registry, 6)
    backend.sql("UPDATE audit_events SET seq = -1 WHERE seq = 2")
    backend.sql("UPDATE audit_events SET seq = 2 WHERE seq = 5")
    backend.sql("UPDATE audit_events SET seq = 5 WHERE seq = -1")
    verdict = admin_registry.verify_audit()
    assert (verdict.ok, verdict.first_broken) == (False, 2)
    assert "event 2 does not follow event 1" in verdict.reason


def test_a_truncated_tail_is_named(admin_registry, backend):
    _fill(admin_registry, 6)
    backend.sql("DELETE FROM audit_events WHERE seq > 4")
    verdict = admin_registry.verify_audit()
    assert (verdict.ok, verdict.first_broken, verdict.checked) == (False, 5, 4)
    assert verdict.reason == ("events 5 to 7 missing at the end (the chain head records 7 events, "
                              "the log holds 4)")


def test_append_writes_in_the_callers_transaction(admin_registry):
    before = admin_registry.audit_log()
    with pytest.raises(RuntimeError):
        with admin_registry.session() as session:
            audit.append(session, actor="ann", action="note", subject="x", payload={})
            raise RuntimeError("the change failed")
    assert admin_registry.audit_log() == before
    with admin_registry.session() as session:
        event = audit.append(session, actor="ann", action="note", subject="x", payload={"k": 1})
    assert event.seq == len(before) + 1 and admin_registry.verify_audit().ok


def test_the_log_filters_and_keeps_the_newest(admin_registry):
    _fill(admin_registry, 5)
    assert [e.subject for e in admin_registry.audit_log(limit=2)] == ["thing-3", "thing-4"]
    assert [e.seq for e in admin_registry.audit_log(subject="thing-1")] == [3]
    assert all(e.action == "note" for e in admin_registry.audit_log(action="note"))


@pytest.mark.slow
def test_verify_streams_quickly(tmp_path):
    """10,000 events in well under a second (a million must take less than ten)."""
    from modelgate.core.registry import open_registry

    registry = open_registry(url=f"sqlite:///{tmp_path}/r.db", user="ann", create=True)
    rows, prev = [], audit.GENESIS
    for seq in range(1, 10_001):
        payload = {"digest": "ab" * 32, "n": seq}
        event = {"seq": seq, "created_at": "2030-01-01T00:00:00.000000Z", "actor": "ann",
                 "action": "version.imported", "subject": f"m@1.{seq}", "payload": payload}
        digest = audit.event_hash(prev, event)
        rows.append({**event, "payload": audit.canonical_json(payload), "prev_hash": prev, "hash": digest})
        prev = digest
    with session_scope(registry.engine) as session:
        session.execute(insert(audit.AuditEventRow.__table__), rows)
        session.execute(audit.ChainHead.__table__.update().values(seq=10_000, hash=prev))
    started = time.process_time()  # processor time: a busy machine does not make it look slow
    verdict = registry.verify_audit()
    elapsed = time.process_time() - started
    registry.close()
    assert verdict == audit.AuditVerdict(True, 10_000)
    assert elapsed < 0.5, f"verify took {elapsed:.2f} s for 10,000 events"
