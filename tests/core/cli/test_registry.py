"""The registry and workflow commands, called in-process through main(argv)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.factory import clean_manifest, make_bundle, policy_file
from tests.cli_support import run


@pytest.fixture
def workspace(tmp_path, monkeypatch, capsys):
    """A SQLite registry with an admin, a submitter, a reviewer and two approvers."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("MODELGATE_REGISTRY", url)
    monkeypatch.setenv("MODELGATE_USER", "root-admin")
    assert run(capsys, "registry", "init")[0] == 0
    for name, role in (("ana", "submitter"), ("ben", "reviewer"), ("chen", "approver"), ("dana", "approver")):
        assert run(capsys, "users", "add", name, "--role", role)[0] == 0
    # Production without a signature requirement, so the whole path can be walked here.
    policy = policy_file(tmp_path, lambda d: d["stages"]["production"].pop("signature", None))
    assert run(capsys, "registry", "policy", "--set", str(policy))[0] == 0
    return tmp_path, url, policy


@pytest.mark.slow
def test_the_whole_path_from_import_to_rollback(workspace, capsys):
    tmp_path, url, policy = workspace
    first = make_bundle(tmp_path / "v1")
    second = make_bundle(tmp_path / "v2", manifest=clean_manifest(version="1.1.0"))
    for bundle in (first, second):
        code, out, _ = run(capsys, "--user", "ana", "registry", "import", str(bundle))
        assert code == 0 and "imported as a draft" in out
    code, out, _ = run(capsys, "--user", "ana", "registry", "import", str(first))
    assert code == 0 and "already in the registry" in out

    def climb(version, stage, approvers):
        for who in approvers:
            assert run(capsys, "--user", who, "review", f"tiny-classifier@{version}", "approve",
                       "--comment", "looks right")[0] == 0
        code, out, err = run(capsys, "--user", "chen", "promote", f"tiny-classifier@{version}",
                             "--to", stage)
        assert code == 0, out + err

    for version in ("1.0.0", "1.1.0"):
        climb(version, "candidate", ["ben"])
        climb(version, "staging", ["chen"])
        climb(version, "production", ["chen", "dana"])
    code, out, _ = run(capsys, "registry", "list", "--json")
    stages = {v["version"]: v["stage"] for v in json.loads(out)["versions"]}
    assert stages == {"1.0.0": "deprecated", "1.1.0": "production"}
    code, out, _ = run(capsys, "--user", "dana", "rollback", "tiny-classifier", "--reason", "latency spike")
    assert code == 0 and "tiny-classifier@1.0.0 restored" in out
    code, out, _ = run(capsys, "registry", "show", "tiny-classifier@1.0.0")
    assert "latency spike" in out and "restored" in out
    # 1.1.0 left production by that rollback: it comes back only when named.
    code, _, err = run(capsys, "--user", "dana", "rollback", "tiny-classifier", "--reason", "again")
    assert code == 1 and "no earlier production version" in err
    code, _, err = run(capsys, "--user", "dana", "rollback", "tiny-classifier@1.1.0", "--reason", "x")
    assert code == 2 and "modelgate rollback tiny-classifier --to 1.1.0" in err
    code, _, err = run(capsys, "--user", "dana", "rollback", "tiny-classifier", "--to", "0.1.0", "--reason", "x")
    assert code == 1 and "tiny-classifier@0.1.0 cannot be restored" in err and "1.1.0" in err
    code, out, _ = run(capsys, "--user", "dana", "rollback", "tiny-classifier", "--to", "1.1.0",
                       "--reason", "the spike was the load balancer")
    assert code == 0 and "tiny-classifier@1.1.0 restored" in out and "1.0.0 moved to deprecated" in out
    code, out, _ = run(capsys, "compare", "tiny-classifier@1.0.0", "tiny-classifier@1.1.0", "--json")
    assert code == 0 and json.loads(out)["format"] == "modelgate.compare/v1"
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0 and "intact" in out


def test_a_refused_promotion_lists_every_gate_and_exits_1(workspace, capsys):
    tmp_path, url, policy = workspace
    bundle = make_bundle(tmp_path / "v1")
    run(capsys, "--user", "ana", "registry", "import", str(bundle))
    run(capsys, "--user", "ana", "review", "tiny-classifier@1.0.0", "approve", "--comment", "mine")
    code, out, _ = run(capsys, "--user", "chen", "promote", "tiny-classifier@1.0.0", "--to", "staging")
    assert code == 1 and "stays where it is" in out
    assert "stage order" in out.lower() and "approvals" in out.lower()
    code, out, _ = run(capsys, "audit", "log", "--json")
    assert "promote.refused" in {e["action"] for e in json.loads(out)["events"]}


def test_a_missing_role_is_refused_with_exit_1(workspace, capsys):
    tmp_path, url, policy = workspace
    bundle = make_bundle(tmp_path / "v1")
    code, _, err = run(capsys, "--user", "ben", "registry", "import", str(bundle))
    assert code == 1 and "submitter" in err
    code, _, err = run(capsys, "--user", "ben", "users", "add", "mallory", "--role", "admin")
    assert code == 1 and "admin" in err


def test_a_tampered_audit_log_fails_verification(workspace, capsys):
    tmp_path, url, policy = workspace
    with sqlite3.connect(tmp_path / "registry.db") as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    code, _, err = run(capsys, "audit", "verify")
    assert code == 1 and "event 2" in err


def test_wrong_input_is_exit_2(workspace, capsys, tmp_path):
    assert run(capsys, "registry", "show", "no-at-sign")[0] == 2
    code, _, err = run(capsys, "registry", "show", "ghost@1.0.0")
    assert code == 2 and "ghost@1.0.0" in err
    code, _, err = run(capsys, "--registry", f"sqlite:///{tmp_path / 'none' / 'r.db'}", "registry", "list")
    assert code == 2 and "registry init" in err
    code, _, err = run(capsys, "review", "tiny-classifier@1.0.0", "approve", "--comment", "")
    assert code == 2


def test_postgresql_refuses_a_user_other_than_the_login(pg_url, capsys):
    assert run(capsys, "--registry", pg_url, "registry", "init")[0] == 0
    code, out, _ = run(capsys, "--registry", pg_url, "users", "list")
    assert code == 0 and "modelgate" in out and "admin" in out
    code, _, err = run(capsys, "--registry", pg_url, "--user", "someone-else", "users", "list")
    assert code == 2 and "modelgate" in err


def test_a_damaged_database_is_one_clear_message(workspace, capsys):
    tmp_path, url, policy = workspace
    run(capsys, "--user", "ana", "registry", "import", str(make_bundle(tmp_path / "v1")))
    with sqlite3.connect(tmp_path / "registry.db") as db:
        db.execute("DROP TABLE reviews")
    code, _, err = run(capsys, "--user", "ben", "review", "tiny-classifier@1.0.0", "approve", "--comment", "x")
    assert code == 2 and "the registry database failed" in err and "no such table" in err


def test_only_an_admin_sets_the_policy_and_promoters_cannot_bring_their_own(workspace, capsys):
    tmp_path, url, policy = workspace
    (tmp_path / "lax").mkdir()
    lax = policy_file(tmp_path / "lax", lambda d: d.update(stages={}))
    code, _, err = run(capsys, "--user", "chen", "registry", "policy", "--set", str(lax))
    assert code == 1 and "admin" in err
    code, _, err = run(capsys, "--user", "chen", "promote", "tiny-classifier@1.0.0", "--to", "candidate",
                       "--policy", str(lax))
    assert code == 2 and "--policy" in err
    code, out, _ = run(capsys, "registry", "policy")
    assert code == 0 and "set by root-admin" in out
    code, out, _ = run(capsys, "audit", "log", "--json")
    assert "policy.set" in {e["action"] for e in json.loads(out)["events"]}


def test_a_recorded_head_catches_events_cut_off_the_end(workspace, capsys):
    tmp_path, url, policy = workspace
    code, out, _ = run(capsys, "audit", "verify")
    head = out.strip().splitlines()[-1].split("head: ")[1]
    run(capsys, "--user", "ana", "registry", "import", str(make_bundle(tmp_path / "v1")))
    assert run(capsys, "audit", "verify", "--expect-head", head)[0] == 0
    seq = int(head.split(":")[0])
    with sqlite3.connect(tmp_path / "registry.db") as db:  # cut the tail and repair the head row
        db.execute("DELETE FROM audit_events WHERE seq >= ?", (seq,))
        db.execute("UPDATE chain_head SET seq = ?, hash = (SELECT hash FROM audit_events WHERE seq = ?)",
                   (seq - 1, seq - 1))
    assert run(capsys, "audit", "verify")[0] == 0                  # consistent on its own...
    code, _, err = run(capsys, "audit", "verify", "--expect-head", head)
    assert code == 1 and "no longer in the log" in err              # ...but not with the anchor
    assert run(capsys, "audit", "verify", "--expect-head", "12:abc")[0] == 2
    assert run(capsys, "audit", "log", "--limit", "0")[0] == 2
    assert run(capsys, "registry", "list", "--limit", "100000000000000000000")[0] == 2


def test_postgresql_identity_is_the_login_even_under_set_role(pg_url, pg_server, capsys):
    """`options=-c role=...` changes current_user, not the login: acting as that role is refused."""
    from sqlalchemy import make_url

    database = make_url(pg_url).database
    assert run(capsys, "--registry", pg_url, "registry", "init")[0] == 0
    farid = pg_server.create_role("farid", database=database)
    pg_server.create_role("mg_team", database=database)
    with pg_server.connect(database) as conn:
        conn.execute("GRANT mg_team TO farid")
    disguised = farid + ("&" if "?" in farid else "?") + "options=-c%20role%3Dmg_team"
    code, _, err = run(capsys, "--registry", disguised, "--user", "mg_team", "registry", "list")
    assert code == 2 and "farid" in err


def test_queue_lists_what_waits_for_the_acting_user(workspace, capsys):
    tmp_path, url, policy = workspace
    run(capsys, "--user", "ana", "registry", "import", str(make_bundle(tmp_path / "v1")))
    code, out, _ = run(capsys, "--user", "ben", "queue")
    assert code == 0 and "ben (reviewer): 1 to review" in out
    assert "tiny-classifier@1.0.0" in out and "draft" in out and "candidate" in out and "ana" in out
    code, out, _ = run(capsys, "--user", "ben", "queue", "--json")
    data = json.loads(out)
    assert data["format"] == "modelgate.queue/v1" and data["counts"]["review"] == 1 and data["complete"]
    assert [(i["task"], i["version"], i["submitter"]) for i in data["items"]] == [("review", "1.0.0", "ana")]
    code, out, _ = run(capsys, "--user", "ana", "queue")
    assert code == 0 and "Nothing waits for ana (submitter)" in out
    code, out, _ = run(capsys, "--user", "bne", "queue")
    assert code == 0 and "Nothing waits for bne (no role)" in out and "is the name right?" in out
    code, out, _ = run(capsys, "--user", "ben", "queue", "--task", "sign")
    assert code == 0 and "Nothing waits for ben (reviewer) to sign." in out
    run(capsys, "--user", "ben", "review", "tiny-classifier@1.0.0", "approve", "--comment", "fine")
    code, out, _ = run(capsys, "--user", "chen", "queue")
    assert "1 to promote" in out and "promote" in out
