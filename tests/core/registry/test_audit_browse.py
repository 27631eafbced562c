"""Browsing the audit log: filters, paging both ways, capped counts, the chain check (both back ends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import inspect

from modelgate.core.progress import Progress
from modelgate.core.errors import OperationCancelled
from modelgate.core.registry import RegistryError, audit, audit_browse, database, open_registry, pgwrites
from modelgate.core.registry.audit_browse import AuditQuery

START = datetime(2026, 3, 1, tzinfo=timezone.utc)
#: (actor, action, subject) of the events written, one hour apart from START.
EVENTS = [
    ("ana", "version.imported", "credit-risk@1.0.0"),
    ("ben", "review.approve", "credit-risk@1.0.0"),
    ("chen", "promote", "credit-risk@1.0.0"),
    ("ana", "version.imported", "Credit-Risk@2.0.0"),
    ("ben", "review.reject", "Credit-Risk@2.0.0"),
    ("ben", "reviewer.note", "fraud_score@1.0.0"),
    ("dana", "promote.superseded", "credit-risk@1.0.0"),
    ("chen", "promoted.elsewhere", "fraud%score@0.1.0"),
    ("eve", "signature.add", "fraud_score@1.0.0"),
    ("ben", "review.request-changes", "fraud_score@1.0.0"),
    ("chen", "rollback", "credit-risk@2.0.0"),
    ("ana", "version.imported", "support-embedder@2.0.0"),
]


def _write(registry, events, monkeypatch, *, start=START, step=timedelta(hours=1)) -> list[audit.AuditEvent]:
    """Append ``events`` as ``audit.append`` does, stamped ``step`` apart from ``start``."""
    moments = iter(start + n * step for n in range(len(events)))
    with monkeypatch.context() as patch, registry.session() as session:
        patch.setattr(audit, "now_text", lambda: audit_browse.stamp(next(moments)))
        # On PostgreSQL the database stamps and attributes every event ModelGate appends; the
        # registry's owner (the admin here) writes these made-up ones past it, as only it can.
        patch.setattr(pgwrites, "guarded", lambda session: False)
        for actor, action, subject in events:
            audit.append(session, actor=actor, action=action, subject=subject, payload={"by": actor})
    return registry.audit_log()


@pytest.fixture
def logged(admin_registry, monkeypatch):
    """The registry with :data:`EVENTS` after whatever its creation logged."""
    _write(admin_registry, EVENTS, monkeypatch)
    return admin_registry


def seqs(events) -> list[int]:
    return [e.seq for e in events]


def expected(registry, keep) -> list[int]:
    """The numbers of the events ``keep`` accepts, newest first, from the plain log."""
    return [e.seq for e in reversed(registry.audit_log()) if keep(e)]


def listed(registry, query, *, values=None, limit=500) -> list[int]:
    return seqs(audit_browse.page(registry, query=query, limit=limit, values=values))


def test_the_whole_log_is_listed_newest_first_and_counted(logged):
    every = logged.audit_log()
    assert listed(logged, AuditQuery()) == seqs(reversed(every))
    assert listed(logged, AuditQuery(newest_first=False)) == seqs(every)
    assert audit_browse.count(logged, query=AuditQuery()) == audit_browse.AuditCount(len(every), True)
    assert audit_browse.page(logged, query=AuditQuery(), limit=1)[0] == every[-1]


def test_pages_follow_each_other_both_ways_without_gaps_or_overlaps(logged):
    every = seqs(reversed(logged.audit_log()))
    query = AuditQuery()
    forward, after = [], None
    while page := audit_browse.page(logged, query=query, limit=5, after=after):
        forward += seqs(page)
        after = page[-1].seq
    assert forward == every
    backward, before = [], every[-1]
    while page := audit_browse.page(logged, query=query, limit=5, before=before):
        assert seqs(page) == sorted(seqs(page), reverse=True)      # still the listing's order
        backward = seqs(page) + backward
        before = page[0].seq
    assert backward == every[:-1]
    by_offset = [seqs(audit_browse.page(logged, query=query, limit=5, offset=n)) for n in range(0, len(every), 5)]
    assert sum(by_offset, []) == every


@pytest.mark.parametrize("actor", ["ana", "ben", "nobody"])
def test_the_actor_filter_is_exact(logged, actor):
    query = AuditQuery(actor=actor)
    want = expected(logged, lambda e: e.actor == actor)
    assert listed(logged, query) == want
    assert audit_browse.count(logged, query=query) == audit_browse.AuditCount(len(want), True)


@pytest.mark.parametrize("action, members", [
    ("promote", {"promote"}),
    ("promote.", {"promote", "promote.superseded"}),
    ("review.", {"review.approve", "review.reject", "review.request-changes"}),
    ("version.", {"version.imported"}),
    ("nothing.", set()),
])
def test_an_action_or_a_family_of_actions(logged, action, members):
    query = AuditQuery(action=action)
    want = expected(logged, lambda e: e.action in members)
    values = audit_browse.values(logged)
    assert listed(logged, query) == listed(logged, query, values=values) == want
    assert audit_browse.count(logged, query=query).total == len(want)
    pages, after = [], None                 # the merged walks page like one listing
    while page := audit_browse.page(logged, query=query, limit=2, after=after):
        pages += seqs(page)
        after = page[-1].seq
    assert pages == want


@pytest.mark.parametrize("typed", ["credit-risk", "CREDIT-RISK@2", "fraud_score", "fraud%", "@1.0.0", "zzz"])
def test_subject_text_is_a_case_blind_literal_substring_with_or_without_values(logged, typed):
    query = AuditQuery(text=f"  {typed} ")
    want = expected(logged, lambda e: typed.lower() in e.subject.lower())
    assert listed(logged, query) == want
    assert listed(logged, query, values=audit_browse.values(logged)) == want
    assert audit_browse.count(logged, query=query, values=audit_browse.values(logged)).total == len(want)


def test_values_left_behind_by_new_events_still_find_them(logged, monkeypatch):
    values = audit_browse.values(logged)
    _write(logged, [("fay", "note", "brand-new-model@1.0.0")], monkeypatch)
    query = AuditQuery(text="brand-new")
    assert listed(logged, query, values=values) == expected(logged, lambda e: "brand-new" in e.subject)
    assert len(listed(logged, query, values=values)) == 1
    assert audit_browse.values(logged, known=values) == audit_browse.values(logged)


def test_values_hold_the_distinct_actors_actions_families_and_subjects(logged):
    values = audit_browse.values(logged)
    every = logged.audit_log()
    assert values.actors == tuple(sorted({e.actor for e in every}))
    assert values.actions == tuple(sorted({e.action for e in every}))
    assert values.subjects == {e.subject for e in every}
    assert values.upto == every[-1].seq
    assert "review." in values.families() and "promote." in values.families()
    assert "version." not in values.families()          # one action is not a family
    assert values.family("promote.") == ("promote", "promote.superseded")
    assert values.matching_subjects("CREDIT") == {"credit-risk@1.0.0", "Credit-Risk@2.0.0", "credit-risk@2.0.0"}
    assert len(values.matching_subjects("credit", most=1)) == 2      # stops once past ``most``


@pytest.mark.parametrize("walk_above", [audit_browse.WALK_ABOVE, 0])
def test_a_time_range_includes_its_start_and_excludes_its_end(logged, monkeypatch, walk_above):
    monkeypatch.setattr(audit_browse, "WALK_ABOVE", walk_above)       # 0: every range is "wide"
    since, until = START + timedelta(hours=2), START + timedelta(hours=5)
    query = AuditQuery(since=since, until=until)
    inside = expected(logged, lambda e: audit_browse.stamp(since) <= e.created_at < audit_browse.stamp(until))
    assert len(inside) == 3
    assert listed(logged, query) == inside
    assert audit_browse.count(logged, query=query).total == 3
    local = since.astimezone(timezone(timedelta(hours=-7)))              # any zone means the same moment
    assert listed(logged, AuditQuery(since=local, until=until)) == inside
    only_until = expected(logged, lambda e: e.created_at < audit_browse.stamp(until))
    assert listed(logged, AuditQuery(until=until)) == only_until
    assert listed(logged, AuditQuery(since=datetime(2100, 1, 1, tzinfo=timezone.utc))) == []
    combined = AuditQuery(actor="ben", since=START, until=START + timedelta(hours=6))
    assert listed(logged, combined) == expected(
        logged, lambda e: e.actor == "ben" and audit_browse.stamp(START) <= e.created_at
        < audit_browse.stamp(START + timedelta(hours=6)))


def test_a_clock_that_stepped_back_does_not_hide_events_from_a_time_range(admin_registry, monkeypatch):
    # Event numbers follow the chain, not the clock: the third event is stamped before the first.
    stamps = iter([START + timedelta(hours=2), START + timedelta(hours=3), START])
    monkeypatch.setattr(audit, "now_text", lambda: audit_browse.stamp(next(stamps)))
    monkeypatch.setattr(pgwrites, "guarded", lambda session: False)  # the owner writes past the stamping
    with admin_registry.session() as session:
        for subject in ("a", "b", "c"):
            audit.append(session, actor="x", action="note", subject=subject)
    monkeypatch.undo()
    query = AuditQuery(until=START + timedelta(hours=1))
    assert [e.subject for e in audit_browse.page(admin_registry, query=query)] == ["c"]
    early = AuditQuery(since=START, until=START + timedelta(hours=2, minutes=30))
    assert [e.subject for e in audit_browse.page(admin_registry, query=early)] == ["c", "a"]


def test_filters_combine(logged):
    values = audit_browse.values(logged)
    query = AuditQuery(actor="ben", action="review.", text="fraud")
    want = expected(logged, lambda e: e.actor == "ben" and e.action.startswith("review.") and "fraud" in e.subject)
    assert want and listed(logged, query) == listed(logged, query, values=values) == want


def test_counts_stop_at_the_cap_and_say_so(logged):
    ben = len(expected(logged, lambda e: e.actor == "ben"))
    query = AuditQuery(actor="ben")
    assert audit_browse.count(logged, query=query, cap=ben) == audit_browse.AuditCount(ben, True)
    assert audit_browse.count(logged, query=query, cap=ben - 1) == audit_browse.AuditCount(ben - 1, False)
    everything = len(logged.audit_log())
    assert audit_browse.count(logged, query=AuditQuery(), cap=1) == audit_browse.AuditCount(everything, True)


def test_wrong_calls_are_refused(logged):
    with pytest.raises(RegistryError, match="not an action"):
        AuditQuery(action=".")
    with pytest.raises(RegistryError, match="must not be negative"):
        audit_browse.page(logged, query=AuditQuery(), limit=-1)
    with pytest.raises(RegistryError, match="either after one event or before one"):
        audit_browse.page(logged, query=AuditQuery(), after=3, before=1)


def test_the_chain_check_names_the_head_or_the_event_to_show(logged, backend):
    every = logged.audit_log()
    check = audit_browse.check_chain(logged)
    assert check.verdict == audit.AuditVerdict(True, len(every)) and check.head == every[-1]
    assert check.shown is None
    backend.sql("UPDATE audit_events SET payload = :p WHERE seq = 5", p='{"by":"mallory"}')
    check = audit_browse.check_chain(logged)
    assert (check.verdict.first_broken, check.shown.seq, check.head.seq) == (5, 5, 4)
    backend.sql("DELETE FROM audit_events WHERE seq = 5")
    check = audit_browse.check_chain(logged)
    assert (check.verdict.first_broken, check.shown.seq) == (5, 6)     # the event after the gap
    backend.sql("DELETE FROM audit_events WHERE seq >= 5")
    check = audit_browse.check_chain(logged)
    assert (check.verdict.first_broken, check.shown.seq) == (5, 4)     # the tail is gone: the last one left


def test_a_chain_check_cancelled_before_its_turn_does_not_start(logged):
    progress = Progress()
    progress.cancel()
    with pytest.raises(OperationCancelled):
        audit_browse.check_chain(logged, progress=progress)


def test_each_filtered_page_seeks_an_index_instead_of_scanning_the_log(tmp_path, monkeypatch):
    """On SQLite, whose plans do not depend on table statistics (PostgreSQL's do, and scan a table
    of a dozen rows whatever its indexes): no filtered page reads the whole log."""
    logged = open_registry(url=f"sqlite:///{tmp_path}/r.db", user="admin", create=True)
    _write(logged, EVENTS, monkeypatch)
    monkeypatch.setattr(audit_browse, "WALK_ABOVE", 100)
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if "audit_events" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    values = audit_browse.values(logged)
    sa_event.listen(logged.engine, "before_cursor_execute", record)
    try:
        for query in (AuditQuery(actor="ben"), AuditQuery(action="promote"), AuditQuery(action="review."),
                      AuditQuery(text="fraud"), AuditQuery(since=START, until=START + timedelta(hours=3))):
            audit_browse.page(logged, query=query, values=values)
    finally:
        sa_event.remove(logged.engine, "before_cursor_execute", record)
    with logged.engine.connect() as connection:
        for statement, parameters in statements:
            plan = " | ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                            parameters))
            scans = [step for step in plan.split(" | ") if step.startswith("SCAN audit_events")
                     and "COVERING INDEX ix_audit_events_subject_seq" not in step]
            assert not scans, f"{statement}\n  plan: {plan}"
    logged.close()


@pytest.mark.slow
def test_a_registry_from_before_the_audit_indexes_keeps_its_events_and_gains_them(fresh_backend, monkeypatch):
    """A 0002 registry with events is upgraded to the browsing indexes on opening (both back ends)."""
    from alembic import command

    from modelgate.core.registry.database import session_scope

    engine = database.create_registry_engine(fresh_backend.url)
    try:
        with database.writer(engine).begin() as connection:
            command.upgrade(database.alembic_config(connection), "0002")
        names = {ix["name"] for ix in inspect(engine).get_indexes("audit_events")}
        assert names == {"ix_audit_events_action", "ix_audit_events_subject"}
        monkeypatch.setattr(pgwrites, "guarded", lambda session: False)  # 0002 has no guarded functions
        with session_scope(engine) as session:
            for actor, action, subject in EVENTS:
                audit.append(session, actor=actor, action=action, subject=subject, payload={"by": actor})
    finally:
        engine.dispose()
    old = fresh_backend.open()          # opening runs 0003
    try:
        assert database.current_revision(old.engine) == database.head_revision()
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(old.engine).get_indexes("audit_events")}
        assert indexes == {"ix_audit_events_actor_seq": ["actor", "seq"],
                           "ix_audit_events_action_seq": ["action", "seq"],
                           "ix_audit_events_subject_seq": ["subject", "seq"],
                           "ix_audit_events_created_at_seq": ["created_at", "seq"]}
        events = old.audit_log()
        assert [(e.actor, e.action, e.subject) for e in events] == EVENTS
        assert old.verify_audit().ok
        assert listed(old, AuditQuery(action="review.")) == expected(old, lambda e: e.action.startswith("review."))
    finally:
        old.close()
