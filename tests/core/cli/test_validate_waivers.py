"""``validate`` shows a registered version's waivers; ``waive`` refuses rules the policy forbids."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, timedelta

import pytest

from modelgate.core.cli.main import main
from tests.factory import clean_manifest, make_bundle, policy_file
from tests.cli_support import run

LATER = (date.today() + timedelta(days=30)).isoformat()
REF = "tiny-classifier@1.0.0"


@pytest.fixture
def registered(tmp_path, monkeypatch, capsys):
    """A SQLite registry holding tiny-classifier@1.0.0 under a denied license, and its folder."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("MODELGATE_REGISTRY", url)
    monkeypatch.setenv("MODELGATE_USER", "root-admin")
    assert run(capsys, "registry", "init")[0] == 0
    for name, role in (("ana", "submitter"), ("chen", "approver"), ("dana", "approver")):
        assert run(capsys, "users", "add", name, "--role", role)[0] == 0
    manifest = clean_manifest()
    manifest["license"] = "CC-BY-NC-4.0"
    folder = make_bundle(tmp_path / "bundle", manifest=manifest)
    assert run(capsys, "--user", "ana", "registry", "import", str(folder))[0] == 0
    code, out, _ = run(capsys, "validate", str(folder), "--stage", "candidate", "--format", "json")
    errors = {f["rule"] for f in json.loads(out)["findings"] if f["severity"] == "error"}
    assert code == 1 and len(errors) == 1
    return tmp_path, folder, errors.pop()


def _waive(capsys, rule):
    code, out, err = run(capsys, "--user", "chen", "waive", REF, rule, "--reason", "pilot cleared by legal",
                         "--expires", LATER)
    assert code == 0, err
    waiver = out.split("--confirm ")[1].split()[0]
    assert run(capsys, "--user", "dana", "waive", "--confirm", waiver)[0] == 0
    return waiver


@pytest.mark.slow
def test_validate_name_at_version_shows_the_waiver_and_passes(registered, capsys):
    tmp_path, folder, rule = registered
    _waive(capsys, rule)
    code, out, _ = run(capsys, "validate", REF, "--stage", "candidate", "--format", "json")
    report = json.loads(out)
    waived = [f for f in report["findings"] if f["rule"] == rule]
    assert code == 0 and report["summary"]["waived"] == len(waived) >= 1
    assert all(f["waived"]["approvers"] == ["chen", "dana"] and f["waived"]["reason"] == "pilot cleared by legal"
               for f in waived)
    code, out, _ = run(capsys, "validate", REF, "--stage", "candidate")
    assert code == 0 and f"{rule} error [waived]" in out
    assert "by chen and dana: pilot cleared by legal" in " ".join(out.split())
    # a folder outside the registry has no waivers
    code, out, _ = run(capsys, "validate", str(folder), "--stage", "candidate")
    assert code == 1 and "[waived]" not in out
    # with --registry, the folder is the registered version when its bytes are
    code, out, _ = run(capsys, "validate", str(folder), "--stage", "candidate", "--registry",
                       f"sqlite:///{tmp_path / 'registry.db'}")
    assert code == 0 and "[waived]" in out
    other = shutil.copytree(folder, tmp_path / "edited")
    (other / "MODEL_CARD.md").write_text((other / "MODEL_CARD.md").read_text() + "\nEdited.\n")
    code, out, err = run(capsys, "validate", str(other), "--stage", "candidate", "--registry",
                         f"sqlite:///{tmp_path / 'registry.db'}")
    assert code == 1 and "[waived]" not in out and "its bytes differ" in err


@pytest.mark.slow
def test_an_expired_waiver_fails_validate_and_says_so(registered, capsys):
    tmp_path, _, rule = registered
    waiver = _waive(capsys, rule)
    with sqlite3.connect(tmp_path / "registry.db") as connection:  # the calendar moves on
        connection.execute("UPDATE waivers SET expires_at = '2020-01-01 00:00:00' WHERE id = ?", (int(waiver),))
    code, out, _ = run(capsys, "validate", REF, "--stage", "candidate")
    assert code == 1 and "[waived]" not in out
    assert f"the waiver for {rule} expired on 2020-01-01 and no longer counts" in " ".join(out.split())


@pytest.mark.slow
def test_waive_refuses_rules_the_policy_forbids(registered, capsys):
    tmp_path, _, rule = registered
    code, _, err = run(capsys, "--user", "chen", "waive", REF, "MG223", "--reason", "x", "--expires", LATER)
    assert code == 1 and "forbids waiving MG223" in err
    policy = policy_file(tmp_path, lambda d: d["waivers"].update(forbidden_rules=[rule[:3] + "*"]))
    assert run(capsys, "registry", "policy", "--set", str(policy))[0] == 0
    code, _, err = run(capsys, "--user", "chen", "waive", REF, rule, "--reason", "x", "--expires", LATER)
    assert code == 1 and f"forbids waiving {rule}" in err and f"{rule[:3]}*" in err
    code, out, _ = run(capsys, "--user", "chen", "waive", "--list", REF)
    assert code == 0 and "has no waivers" in out


def test_waive_without_a_version_is_a_usage_error_before_any_registry_is_looked_for(tmp_path, monkeypatch,
                                                                                      capsys):
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path}/none.db")
    assert main(["waive"]) == 2
    err = capsys.readouterr().err
    assert "name the version" in err and "no registry" not in err
