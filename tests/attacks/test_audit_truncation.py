"""Cutting or rewriting the audit log with plain SQL, as whoever can write the database could.

The chain alone cannot see a tail cut off with ``chain_head`` moved back to match; the signed
checkpoint beside the registry can. Every attack runs through ``modelgate audit verify``.
"""

from __future__ import annotations

import sqlite3
import stat

import pytest

from modelgate.core.registry import audit, checkpoints, open_registry
from modelgate.core.registry.errors import WorkflowRefused
from tests.cli_support import run

#: Slow: every case signs audit checkpoints with a fresh key.
pytestmark = pytest.mark.slow

EVERY = 5


@pytest.fixture
def log(tmp_path, monkeypatch, capsys):
    """A SQLite registry with 12 events and a checkpoint every 5: the last one at event 10."""
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MODELGATE_USER", "root-admin")
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", str(EVERY))
    assert run(capsys, "registry", "init")[0] == 0
    for number in range(11):  # the key's own event is one of them
        if len(events(tmp_path)) >= 12:
            break
        assert run(capsys, "users", "add", f"user{number}", "--role", "reviewer")[0] == 0
    assert len(events(tmp_path)) == 12
    return tmp_path


def events(folder):
    with sqlite3.connect(folder / "registry.db") as db:
        return db.execute("SELECT seq, hash FROM audit_events ORDER BY seq").fetchall()


def cut_to(folder, seq: int) -> None:
    """Delete every event after ``seq`` and move the chain head back to it: a consistent chain."""
    with sqlite3.connect(folder / "registry.db") as db:
        digest = db.execute("SELECT hash FROM audit_events WHERE seq = ?", (seq,)).fetchone()[0]
        db.execute("DELETE FROM audit_events WHERE seq > ?", (seq,))
        db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, digest))


def rewrite_from(folder, seq: int, subject: str) -> None:
    """Change event ``seq``'s subject and recompute every hash after it, as a forger would."""
    with sqlite3.connect(folder / "registry.db") as db:
        rows = db.execute("SELECT seq, created_at, actor, action, subject, payload, prev_hash "
                          "FROM audit_events ORDER BY seq").fetchall()
        prev = audit.GENESIS
        for number, created, actor, action, old_subject, payload, _ in rows:
            text = subject if number == seq else old_subject
            digest = audit._event_hash(prev, number, created, actor, action, text, payload)
            db.execute("UPDATE audit_events SET subject = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                       (text, prev, digest, number))
            prev = digest
        db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (rows[-1][0], prev))


def test_checkpoints_are_signed_every_n_events_beside_the_database(log, capsys):
    folder = log / "registry.checkpoints"
    note = (folder / "checkpoint").read_text()
    origin = checkpoints.origin_of(events(log)[0][1])
    assert note.startswith(f"{origin}\n10\n") and f"\n\n\u2014 {origin} " in note
    assert stat.S_IMODE((folder / checkpoints.KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "signed checkpoint: event 10" in out


def test_a_tail_cut_off_with_the_head_moved_back_is_caught(log, capsys):
    cut_to(log, 8)
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "events 9 to 10 cut off" in err


def test_a_log_rewritten_back_past_the_checkpoint_is_caught(log, capsys):
    rewrite_from(log, 4, "someone-else")
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "event 10 differs from the signed checkpoint" in err


def test_an_altered_checkpoint_is_reported(log, capsys):
    path = log / "registry.checkpoints" / "checkpoint"
    path.write_text(path.read_text().replace("\n10\n", "\n11\n", 1))
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "does not verify" in err


def test_a_deleted_checkpoint_is_reported(log, capsys):
    (log / "registry.checkpoints" / "checkpoint").unlink()
    cut_to(log, 8)
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "missing" in err


def test_a_replaced_checkpoint_key_is_reported(log, capsys, tmp_path_factory):
    """A forger who swaps in a key pair of their own and signs the cut log is still caught."""
    folder = log / "registry.checkpoints"
    cut_to(log, 8)
    for name in (checkpoints.KEY_FILE, checkpoints.PUBLIC_FILE, checkpoints.CHECKPOINT_FILE):
        (folder / name).unlink()
    spare = tmp_path_factory.mktemp("forger")
    with open_registry(user="root-admin") as registry:
        with registry.session(checkpoint=False) as session:
            public = checkpoints.create_key(session, folder=spare, actor="x")
            session.rollback()  # the forger keeps the log as it is
    for name in (checkpoints.KEY_FILE, checkpoints.PUBLIC_FILE):
        (folder / name).write_bytes((spare / name).read_bytes())
    assert checkpoints.public_key(folder) == public
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "not the one the log recorded" in err


def test_a_cut_log_is_never_signed_over(log, capsys):
    cut_to(log, 8)
    with open_registry(user="root-admin") as registry:
        with pytest.raises(WorkflowRefused, match="cut off"):
            checkpoints.write_checkpoint(registry.engine, folder=registry.checkpoint_folder)
    code, _, err = run(capsys, "audit", "checkpoint")
    assert code == 1 and "cut off" in err


def test_audit_checkpoint_signs_the_head_on_request_for_admins_only(log, capsys):
    code, out, _ = run(capsys, "audit", "checkpoint")
    assert code == 0 and "event 13" not in out  # nothing appended since: the head is event 12
    assert "\n12\n" in (log / "registry.checkpoints" / "checkpoint").read_text()
    code, _, err = run(capsys, "audit", "checkpoint", "--user", "user0")
    assert code == 1 and "admin" in err
    cut_to(log, 11)
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "event 12 cut off" in err


def test_without_checkpoints_the_same_cut_goes_unseen(tmp_path, monkeypatch, capsys):
    """The control: with checkpoints switched off, only the chain is checked and it looks intact."""
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MODELGATE_USER", "root-admin")
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", "0")
    assert run(capsys, "registry", "init")[0] == 0
    for number in range(4):
        assert run(capsys, "users", "add", f"user{number}", "--role", "reviewer")[0] == 0
    cut_to(tmp_path, 3)
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "signed checkpoint: none" in out


def test_the_desktop_apps_chain_check_and_the_report_see_the_cut_too(log):
    from modelgate.core.registry.audit_browse import check_chain

    cut_to(log, 8)
    with open_registry(user="root-admin") as registry:
        checked = check_chain(registry)
        assert not checked.verdict.ok and "cut off" in checked.verdict.reason
        assert checked.verdict.first_broken == 9 and checked.shown.seq == 8


@pytest.mark.parametrize("spoil", ["delete", "garble", "wipe the folder"])
def test_later_appends_never_sign_over_a_cut_log_whose_checkpoint_was_spoilt(log, capsys, spoil):
    import shutil

    path = log / "registry.checkpoints" / "checkpoint"
    if spoil == "delete":
        path.unlink()
    elif spoil == "wipe the folder":  # a new key would otherwise sign the cut log afresh
        shutil.rmtree(path.parent)
    else:
        path.write_text(path.read_text().replace("\u2014", "-"))
    cut_to(log, 8)
    for number in range(4):  # crosses event 10, where a checkpoint falls due again
        assert run(capsys, "users", "add", f"late{number}", "--role", "reviewer")[0] == 0
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and ("missing" in err or "invalid" in err or "gone" in err)
    code, _, err = run(capsys, "audit", "checkpoint")
    assert code == 1 and ("not signing" in err or "gone" in err)


def test_a_cut_is_caught_on_both_back_ends(backend, monkeypatch):
    """SQLite keeps its checkpoints beside registry.db, PostgreSQL beside the station's store."""
    monkeypatch.setenv("MODELGATE_AUDIT_CHECKPOINT_EVERY", str(EVERY))
    with backend.init() as registry:
        for number in range(12):
            with registry.session() as session:
                audit.append(session, actor=registry.actor, action="note", subject=f"n{number}")
        assert (registry.checkpoint_folder / "checkpoint").is_file()
        assert registry.verify_audit().ok
        kept = backend.sql("SELECT seq, hash FROM audit_events WHERE seq = 8")[0]
        backend.sql("DELETE FROM audit_events WHERE seq > 8")
        backend.sql("UPDATE chain_head SET seq = :seq, hash = :hash WHERE id = 1", seq=kept[0], hash=kept[1])
        assert audit.verify(registry.engine).ok  # the chain alone sees nothing
        verdict = registry.verify_audit()
        assert not verdict.ok and "cut off" in verdict.reason
