"""Many writers at once: nothing lost from the audit log, one chain, one production version.

Several threads, each with its own :class:`Registry` (its own engine and, on
PostgreSQL, its own database login), review versions, race each other to
promote versions of one model to production, roll back, import and read. Each
writer counts the audit events its actions must have written (refusals
included; reads none), and afterwards the log must hold exactly the setup's
events plus those plus one per validation run the promotions recorded (a new
production version means re-validating against it), verify as one unbroken
chain ``1..N``, record no validation twice, and no model may have two
production versions. The SQLite variant runs fewer actions: SQLite takes
one writer at a time, and its busy timeout must make writers wait, not fail.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from tests.factory import clean_manifest, make_bundle, policy_file

pytestmark = pytest.mark.slow

RACE, POOL, SHARED = "race-model", "pool-model", "shared-model"
RACE_VERSIONS = [f"1.0.{i}" for i in range(6)]
POOL_VERSIONS = [f"2.0.{i}" for i in range(4)]
SETUP_REVIEWER = "rev"

#: Writers and their roles: some may do everything, some only part, w8 nothing that writes.
WRITERS = {
    "w1": ["reviewer", "approver"],
    "w2": ["approver"],
    "w3": ["reviewer"],
    "w4": ["submitter", "reviewer"],
    "w5": ["submitter"],
    "w6": ["submitter", "approver"],
    "w7": ["reviewer", "approver"],
    "w8": ["signer"],
}


def _policy(folder):
    """The default policy, one approval per stage and no signature (not recorded yet)."""
    from modelgate.core.policy.document import load_policy

    def change(data):
        for stage in ("candidate", "staging", "production"):
            data["stages"][stage]["approvals"] = {"count": 1, "roles": ["reviewer", "approver"]}
        data["stages"]["production"].pop("signature", None)

    return load_policy(policy_file(folder, change))


@dataclass
class Tally:
    """What one writer did and the audit events that must follow from it."""

    expected_events: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def record(self, what: str, events: int) -> None:
        self.outcomes[what] += 1
        self.expected_events += events


def _bundles(folder, name, versions):
    return {v: make_bundle(folder / f"{name}-{v}", manifest=clean_manifest(name, v)) for v in versions}


def _setup(*, url_of, tmp_path, store, admin_user):
    """Create the registry, its users and versions; race versions wait at staging."""
    from modelgate.core.registry import init_registry, open_registry
    from modelgate.core.registry.workflow import gates, promote, review

    policy = _policy(tmp_path)
    admin = init_registry(url=url_of(admin_user), user=admin_user, store=store)
    for name, roles in {SETUP_REVIEWER: ["reviewer", "approver"], **WRITERS}.items():
        admin.add_user(name=name, roles=roles)
    sources = tmp_path / "sources"
    for path in [*_bundles(sources, RACE, RACE_VERSIONS).values(), *_bundles(sources, POOL, POOL_VERSIONS).values()]:
        admin.import_bundle(path=path)
    shared = _bundles(sources, SHARED, [f"{i}.0.0" for i in range(1, len(WRITERS) + 1)])

    with open_registry(url=url_of(SETUP_REVIEWER), user=SETUP_REVIEWER, store=store) as reviewer:
        for version in RACE_VERSIONS:
            for stage in ("candidate", "staging"):
                review(reviewer, name=RACE, version=version, decision="approve", comment=f"ready for {stage}")
                promote(admin, name=RACE, version=version, to_stage=stage, reason="setup", policy=policy)
            review(reviewer, name=RACE, version=version, decision="approve", comment="ready for production")
    # Record the validations the first promotions need (later ones meet a new champion).
    for name, versions, stage in ((RACE, RACE_VERSIONS, "production"), (POOL, POOL_VERSIONS, "candidate")):
        for version in versions:
            results = gates(admin, name=name, version=version, to_stage=stage, policy=policy)
            assert [g for g in results if g.name == "validation"][0].state == "met", results
    return admin, policy, shared


def _writer(*, name, url, store, policy, actions, seed, shared_bundle, barrier, tally):
    from modelgate.core.registry import PermissionDenied, WorkflowRefused, open_registry
    from modelgate.core.registry.workflow import promote, review, rollback

    rng = random.Random(seed)
    versions = [(RACE, v) for v in RACE_VERSIONS] + [(POOL, v) for v in POOL_VERSIONS]
    # Two imports of the same bytes at random moments: the first adds a version, the second nothing.
    import_at = set(rng.sample(range(actions), 2))
    try:
        registry = open_registry(url=url, user=name if url.startswith("sqlite") else None, store=store)
    except Exception:
        tally.errors.append(f"{name} could not open the registry:\n{traceback.format_exc()}")
        barrier.abort()
        return
    step = -1
    try:
        barrier.wait()
        for step in range(actions):
            roll = rng.random()
            try:
                if step in import_at:
                    result = registry.import_bundle(path=shared_bundle)
                    tally.record("import.created" if result.created else "import.same", int(result.created))
                elif roll < 0.35:
                    model, version = rng.choice(versions)
                    decision = rng.choices(["approve", "request-changes", "reject"], [6, 2, 2])[0]
                    review(registry, name=model, version=version, decision=decision,
                           comment=f"{name} step {step}: {decision}")
                    tally.record("review", 1)
                elif roll < 0.57 or step == 0:
                    # Every writer's first action is a promotion to production: all at once.
                    version = RACE_VERSIONS[seed % len(RACE_VERSIONS)] if step == 0 else rng.choice(RACE_VERSIONS)
                    result = promote(registry, name=RACE, version=version,
                                     to_stage="production", reason=f"{name} step {step}", policy=policy)
                    if result.moved:
                        tally.record("promote.production", 1 + (result.superseded is not None))
                        tally.outcomes["superseded"] += result.superseded is not None
                    else:
                        tally.record("promote.unchanged", 0)
                elif roll < 0.67:
                    result = promote(registry, name=POOL, version=rng.choice(POOL_VERSIONS),
                                     to_stage="candidate", reason=f"{name} step {step}", policy=policy)
                    tally.record("promote.candidate" if result.moved else "promote.unchanged", int(result.moved))
                elif roll < 0.72:
                    rollback(registry, name=RACE, reason=f"{name} step {step}: roll back")
                    tally.record("rollback", 2)
                else:
                    _read(registry, rng, versions)
                    tally.record("read", 0)
            except PermissionDenied:
                tally.record("denied", 1)
            except WorkflowRefused:
                tally.record("refused", 1)
    except Exception:
        tally.errors.append(f"{name} failed at step {step}:\n{traceback.format_exc()}")
    finally:
        registry.close()


def _read(registry, rng, versions):
    kind = rng.randrange(4)
    if kind == 0:
        assert registry.list_versions(limit=20)
    elif kind == 1:
        model, version = rng.choice(versions)
        assert registry.show(name=model, version=version).info.version == version
    elif kind == 2:
        assert registry.count_versions(name=RACE) == len(RACE_VERSIONS)
    else:
        registry.audit_log(limit=5)


def _run(*, url_of, tmp_path, store, admin_user, actions, writers):
    admin, policy, shared = _setup(url_of=url_of, tmp_path=tmp_path, store=store, admin_user=admin_user)
    try:
        setup_events = admin.verify_audit().checked
        runs_before = _count(admin, "validation_runs")
        names = list(WRITERS)[:writers]
        tallies = {name: Tally() for name in names}
        barrier = threading.Barrier(len(names))
        threads = [threading.Thread(target=_writer, name=name, kwargs=dict(
            name=name, url=url_of(name), store=store, policy=policy, actions=actions, seed=1000 + n,
            shared_bundle=shared[f"{n + 1}.0.0"], barrier=barrier, tally=tallies[name]))
            for n, name in enumerate(names)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        elapsed = time.perf_counter() - started
        assert not any(t.is_alive() for t in threads), "a writer hung"
        errors = [e for t in tallies.values() for e in t.errors]
        assert not errors, "\n\n".join(errors)

        outcomes = sum((t.outcomes for t in tallies.values()), Counter())
        performed = sum(outcomes[k] for k in outcomes if k != "superseded")
        assert performed == actions * len(names)
        # A promotion validates afresh (one "validation.run" event) when the production
        # version it is measured against changed since the last run: count those rows.
        new_runs = _count(admin, "validation_runs") - runs_before
        expected = setup_events + sum(t.expected_events for t in tallies.values()) + new_runs
        print(f"\n{admin.dialect}: {performed} actions by {len(names)} writers in {elapsed:.1f} s; "
              f"{dict(sorted(outcomes.items()))}; {new_runs} new validation runs; "
              f"{setup_events} setup events, {expected} in all")

        _check_log(admin, expected=expected, outcomes=outcomes, setup_events=setup_events, new_runs=new_runs)
        _check_stages(admin, outcomes=outcomes)
    finally:
        admin.close()


def _count(registry, table, where=""):
    with registry.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one()


def _check_log(admin, *, expected, outcomes, setup_events, new_runs):
    verdict = admin.verify_audit()
    assert verdict.ok, verdict.reason
    assert verdict.checked == expected
    with admin.engine.connect() as connection:
        seqs = connection.execute(sa.text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
        head = connection.execute(sa.text("SELECT seq FROM chain_head")).scalars().all()
        phase = Counter(connection.execute(sa.text(
            "SELECT action FROM audit_events WHERE seq > :n"), {"n": setup_events}).scalars())
    assert seqs == list(range(1, expected + 1))
    assert head == [expected]
    reviews = sum(n for action, n in phase.items() if action.startswith("review."))
    assert reviews == outcomes["review"]
    assert phase["denied"] == outcomes["denied"]
    assert phase["promote.refused"] + phase["rollback.refused"] == outcomes["refused"]
    assert phase["promote"] == outcomes["promote.production"] + outcomes["promote.candidate"]
    assert phase["promote.superseded"] == outcomes["superseded"]
    assert phase["rollback"] == phase["rollback.restored"] == outcomes["rollback"]
    assert phase["version.imported"] == outcomes["import.created"]
    assert phase["validation.run"] == new_runs
    with admin.engine.connect() as connection:
        repeated = connection.execute(sa.text(
            "SELECT version_id, stage, champion_digest, count(*) FROM validation_runs "
            "GROUP BY version_id, stage, policy_digest, champion_digest HAVING count(*) > 1")).all()
    assert not repeated, f"the same validation was recorded twice: {repeated}"


def _check_stages(admin, *, outcomes):
    with admin.engine.connect() as connection:
        production = connection.execute(sa.text(
            "SELECT m.name, count(*) FROM versions v JOIN models m ON m.id = v.model_id "
            "WHERE v.stage = 'production' GROUP BY m.name")).all()
        moves = Counter(connection.execute(sa.text(
            "SELECT p.kind FROM promotions p JOIN versions v ON v.id = p.version_id "
            "JOIN models m ON m.id = v.model_id WHERE m.name = :name AND p.to_stage IN "
            "('production', 'deprecated')"), {"name": RACE}).scalars())
        shared = connection.execute(sa.text(
            "SELECT count(*) FROM versions v JOIN models m ON m.id = v.model_id WHERE m.name = :name"),
            {"name": SHARED}).scalar_one()
    assert all(count == 1 for _, count in production), production
    if outcomes["promote.production"]:
        assert dict(production).get(RACE) == 1
    # Every promotion to production but the first superseded the one before; each version once.
    assert moves["promote"] == outcomes["promote.production"] <= len(RACE_VERSIONS)
    assert moves["superseded"] == outcomes["superseded"] == max(0, moves["promote"] - 1)
    assert moves["rollback"] == moves["restored"] == outcomes["rollback"]
    assert shared == outcomes["import.created"]


@pytest.fixture(autouse=True)
def _no_automatic_checkpoints(monkeypatch):
    # The log's length is counted event by event below; an automatic checkpoint adds a key
    # event on its first run. Checkpoints under concurrent writers: test_registry_checkpoints.
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "0")


def test_concurrent_writers_on_postgresql(pg_server, pg_url, tmp_path):
    database = sa.make_url(pg_url).database
    for name in [SETUP_REVIEWER, *WRITERS]:
        pg_server.create_role(name, database=database)

    def url_of(login):
        return pg_url if login is None else pg_server.url_for(database, login)

    _run(url_of=url_of, tmp_path=tmp_path, store=tmp_path / "store", admin_user=None,
         actions=200, writers=len(WRITERS))


def test_concurrent_writers_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/registry.db"
    _run(url_of=lambda _login: url, tmp_path=tmp_path, store=None, admin_user="admin",
         actions=40, writers=4)
