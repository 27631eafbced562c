"""The registry at scale: listing 100,000 versions and verifying 1,000,000 audit events (SQLite).

A registry is created with ``init_registry`` (so the schema is the one the
migrations make) and one real bundle is imported. Then rows are bulk-inserted
through the same tables: 1,000 models of 100 versions each (one of them the
imported one), with reviews, validation runs and promotions on a share of
them, and an audit log extended to 1,000,000 events whose chain is computed
with :func:`modelgate.core.registry.audit.event_hash`, so it verifies.

Measured, best of N:

* ``modelgate registry list`` (first page, whole process) and, in-process,
  what it does: open the registry, one page, the total count;
* ``modelgate registry show NAME@VERSION`` (whole process) and ``show()``;
* ``verify_audit()`` in-process and ``modelgate audit verify`` (whole process).

Goals: the first page in under 0.3 s in-process, and within 0.3 s of the
start-up floor (``python -c "import modelgate.core.registry"``, the reference
of the whole-process cases) from the command line; verifying the million
events in under 10 s both ways. No reference tool exists for these, so the
goals are absolute times (:class:`~tests.bench.common.Seconds`).
"""

from __future__ import annotations

import compileall
import hashlib
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.bench.common import Result, Seconds, busy_warning, cpu_count, interleaved, scratch_folder

NAME = "registry"
DESCRIPTION = "`registry list`/`show` over 100,000 versions; `audit verify` over 1,000,000 events (SQLite)"
ROOT = Path(__file__).resolve().parents[2]
MODELS, PER_MODEL, EVENTS = 1_000, 100, 1_000_000
CHUNK = 20_000
USER = "bench"
FLOOR = "python -c 'import modelgate.core.registry' (start-up floor)"
SUBMITTERS = ("ada", "grace", "linus", "margaret", "ken")
REVIEWERS = ("barbara", "edsger", "donald", "frances")


def _chunks(rows, size=CHUNK):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _stage(i: int, j: int) -> str:
    if j == PER_MODEL - 1:
        return "production"
    return ("draft", "draft", "candidate", "staging", "deprecated")[(i + j) % 5]


def _fill_versions(registry, real) -> str:
    """Bulk-insert the models and versions around the imported one; return a ``show`` target."""
    from sqlalchemy import insert, select

    from modelgate.core.registry.models import Model, Promotion, Review, ValidationRun, Version

    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    report = '{"findings": [], "format": "modelgate.report/v1", "passed": true}'
    with registry.engine.begin() as connection:
        existing = connection.execute(select(Model.id, Model.name)).all()
        taken = {name for _, name in existing}
        names = [f"model-{i:04d}" for i in range(MODELS)]
        connection.execute(insert(Model.__table__), [{"name": n, "created_at": start} for n in names if n not in taken])
        ids = dict(connection.execute(select(Model.name, Model.id)).tuples().all())
        target = (names[MODELS // 2], f"1.{PER_MODEL // 2}.0")

        def versions():
            for i, name in enumerate(names):
                for j in range(PER_MODEL):
                    if (name, f"1.{j}.0") == (real.name, real.version):
                        continue
                    digest = hashlib.sha256(f"{name}@{j}".encode()).hexdigest()
                    moment = start + timedelta(minutes=i * PER_MODEL + j)
                    yield {"model_id": ids[name], "version": f"1.{j}.0", "digest": digest,
                           "stage": _stage(i, j), "submitter": SUBMITTERS[(i + j) % len(SUBMITTERS)],
                           "store_path": f"{digest[:2]}/{digest}", "license": "Apache-2.0",
                           "created_at": moment, "updated_at": moment + timedelta(days=j % 7)}

        for batch in _chunks(versions()):
            connection.execute(insert(Version.__table__), batch)
        rows = connection.execute(select(Version.id, Version.stage, Version.created_at)).all()

        def reviews():
            for vid, stage, created in rows:
                if vid % 2 == 0:
                    yield {"version_id": vid, "stage": stage, "reviewer": REVIEWERS[vid % len(REVIEWERS)],
                           "roles": "reviewer,approver", "decision": "approve",
                           "comment": "Looks good; metrics within bounds.", "created_at": created}

        def runs():
            for vid, stage, created in rows:
                if vid % 3 == 0:
                    yield {"version_id": vid, "stage": stage, "policy_digest": "c" * 64, "policy_name": "default",
                           "passed": vid % 9 != 0, "errors": int(vid % 9 == 0), "warnings": 1,
                           "report": report, "actor": USER, "created_at": created}

        def promotions():
            for vid, stage, created in rows:
                if stage != "draft":
                    yield {"version_id": vid, "from_stage": "draft", "to_stage": stage, "kind": "promote",
                           "actor": USER, "reason": "bulk", "policy_digest": "c" * 64, "created_at": created}

        for table, source in ((Review, reviews()), (ValidationRun, runs()), (Promotion, promotions())):
            for batch in _chunks(source):
                connection.execute(insert(table.__table__), batch)
    return f"{target[0]}@{target[1]}"


def _fill_events(registry, total: int) -> None:
    """Extend the audit chain to ``total`` events, each hashed as :func:`audit.append` would."""
    from sqlalchemy import insert, select, update

    from modelgate.core.registry import audit
    from modelgate.core.registry.models import AuditEventRow, ChainHead

    with registry.engine.begin() as connection:
        seq, prev = connection.execute(select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == 1)).one()
        base = datetime(2025, 1, 1, tzinfo=timezone.utc)

        def events():
            nonlocal seq, prev
            actions = ("version.imported", "review.approve", "validation.run", "promote")
            while seq < total:
                seq += 1
                i = seq % (MODELS * PER_MODEL)
                event = {"seq": seq, "actor": SUBMITTERS[seq % len(SUBMITTERS)], "action": actions[seq % 4],
                         "subject": f"model-{i // PER_MODEL:04d}@1.{i % PER_MODEL}.0",
                         "created_at": (base + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z"),
                         "payload": {"stage": "draft", "comment": f"bulk event {seq}"}}
                digest = audit.event_hash(prev, event)
                yield {**event, "payload": audit.canonical_json(event["payload"]), "prev_hash": prev,
                       "hash": digest}
                prev = digest

        for batch in _chunks(events(), 50_000):
            connection.execute(insert(AuditEventRow.__table__), batch)
        connection.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=seq, hash=prev))


def _command() -> list[str]:
    script = Path(sys.executable).parent / "modelgate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "modelgate.core.cli.main"]


def _cli(env, *args) -> str:
    done = subprocess.run([*_command(), *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"`modelgate {' '.join(args)}` failed (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-600:]}")
    return done.stdout


def _build(folder: Path):
    from modelgate.core.registry import init_registry
    from tests.factory import clean_manifest, make_bundle

    url = f"sqlite:///{folder / 'registry.db'}"
    started = time.perf_counter()
    registry = init_registry(url=url, user=USER)  # the first user: an admin, who may do anything
    real = registry.import_bundle(path=make_bundle(folder / "bundle", manifest=clean_manifest("model-0000", "1.0.0")))
    print(f"   filling {MODELS * PER_MODEL:,} versions ...", flush=True)
    target = _fill_versions(registry, real)
    print(f"   filling {EVENTS:,} audit events ...", flush=True)
    _fill_events(registry, EVENTS)
    with registry.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    registry.close()
    print(f"   built in {time.perf_counter() - started:.1f} s", flush=True)
    return url, target


def run(args) -> list[Result]:
    compileall.compile_dir(str(ROOT / "core"), quiet=1)
    from modelgate.core.registry import open_registry

    repeat = getattr(args, "repeat", 3)
    if warning := busy_warning(cpu_count()):
        print(f"   {warning}", flush=True)
    with scratch_folder(NAME) as folder:
        url, target = _build(folder)
        name, version = target.split("@")
        env = dict(os.environ, MODELGATE_REGISTRY=url, MODELGATE_USER=USER, NO_COLOR="1")

        def list_in_process():
            with open_registry(url=url, user=USER) as registry:
                rows = registry.list_versions(limit=50)
                total = registry.count_versions()
            assert len(rows) == 50 and total == MODELS * PER_MODEL, (len(rows), total)

        def show_in_process():
            with open_registry(url=url, user=USER) as registry:
                assert registry.show(name=name, version=version).info.version == version

        def verify_in_process():
            with open_registry(url=url, user=USER) as registry:
                verdict = registry.verify_audit()
            assert verdict.ok and verdict.checked == EVENTS, verdict

        def list_cli():
            assert f"of {MODELS * PER_MODEL}" in _cli(env, "registry", "list")

        def verify_cli():
            _cli(env, "audit", "verify")

        floor = [sys.executable, "-c", "import modelgate.core.registry"]
        quick = interleaved({
            "floor": lambda: subprocess.run(floor, check=True, env=env),
            "list": list_in_process, "show": show_in_process,
            "list_cli": list_cli, "show_cli": lambda: _cli(env, "registry", "show", target),
        }, repeat=max(repeat, 5))
        slow = interleaved({"verify": verify_in_process, "verify_cli": verify_cli}, repeat=repeat)

    start_up = min(quick["floor"][0])
    return [
        Result(NAME, FLOOR, quick["floor"][0], note="interpreter plus SQLAlchemy: no command can start faster"),
        Result(NAME, "list_versions + count (first page, in-process)", quick["list"][0],
               goals=(Seconds(0.3, "first page"),),
               note=f"open, 50 of {MODELS * PER_MODEL:,} versions, total count"),
        Result(NAME, "modelgate registry list (whole process)", quick["list_cli"][0], reference=FLOOR,
               goals=(Seconds(round(start_up + 0.3, 3), "start-up + 0.3 s"),)),
        Result(NAME, "show NAME@VERSION (in-process)", quick["show"][0], goals=(Seconds(0.3, "one version"),)),
        Result(NAME, "modelgate registry show (whole process)", quick["show_cli"][0], reference=FLOOR,
               goals=(Seconds(round(start_up + 0.3, 3), "start-up + 0.3 s"),)),
        Result(NAME, f"verify_audit ({EVENTS:,} events, in-process)", slow["verify"][0],
               goals=(Seconds(10.0, "a million events"),)),
        Result(NAME, "modelgate audit verify (whole process)", slow["verify_cli"][0],
               goals=(Seconds(10.0, "a million events"),)),
    ]
