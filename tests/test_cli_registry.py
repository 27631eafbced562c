"""The registry and workflow commands, called in-process through main(argv)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from modelgate.core.cli.main import main
from tests.factory import clean_manifest, make_bundle, policy_file


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, out, err


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
    return tmp_path, url, policy


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
                             "--to", stage, "--policy", str(policy))
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
