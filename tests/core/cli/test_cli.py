"""The command line, called in-process through main(argv)."""

from __future__ import annotations

import json
import tarfile

import pytest
import yaml

from tests.factory import make_bundle, tiny_model
from tests.cli_support import run


def test_version_and_help(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "modelgate.bundle/v1" in out
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "validate" in out and "exit codes" in out


def test_no_command_and_unknown_command_are_usage_errors(capsys):
    assert run(capsys)[0] == 2
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err and "--help" in err


def test_init_lock_inspect(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "x")
    assert code == 0 and "modelgate lock x" in out
    assert (tmp_path / "x" / "bundle.yaml").is_file() and (tmp_path / "x" / "MODEL_CARD.md").is_file()
    code, out, _ = run(capsys, "lock", "x")
    assert code == 0 and "Locked x" in out
    code, out, _ = run(capsys, "inspect", "x")
    assert code == 0
    assert "x 0.1.0" in out and "locked: every digest matches" in out


def test_init_with_a_model_fills_the_interface_from_its_graph(tmp_path, capsys):
    model = tmp_path / "clf.onnx"
    tiny_model(model, inputs=7, outputs=3)
    code, _, _ = run(capsys, "init", "clf", "--dir", str(tmp_path / "b"), "--model", str(model))
    assert code == 0
    data = yaml.safe_load((tmp_path / "b" / "bundle.yaml").read_text())
    assert data["artifacts"] == [{"path": "model/clf.onnx", "format": "onnx", "variant": "fp32"}]
    assert data["interface"]["inputs"] == [{"name": "features", "dtype": "float32", "shape": ["batch", 7]}]
    assert data["interface"]["outputs"][0]["shape"] == ["batch", 3]
    assert run(capsys, "lock", str(tmp_path / "b"))[0] == 0
    code, out, _ = run(capsys, "inspect", str(tmp_path / "b"), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["lock"]["state"] == "locked"
    assert summary["artifacts"][0]["digest_ok"] is True


def test_init_with_samples_copies_and_declares_them(tmp_path, capsys):
    import numpy as np
    from onnx import numpy_helper

    model = tmp_path / "clf.onnx"
    tiny_model(model, inputs=7, outputs=3)
    sets = tmp_path / "data"
    (sets / "first").mkdir(parents=True)
    array = np.zeros((1, 7), np.float32)
    (sets / "first" / "input_0.pb").write_bytes(numpy_helper.from_array(array).SerializeToString())
    code, _, _ = run(capsys, "init", "clf", "--dir", str(tmp_path / "b"), "--model", str(model),
                     "--samples", str(sets))
    assert code == 0
    data = yaml.safe_load((tmp_path / "b" / "bundle.yaml").read_text())
    assert data["samples"] == {"sets": ["samples/set_0"]}
    assert (tmp_path / "b" / "samples" / "set_0" / "input_0.pb").is_file()
    code, _, err = run(capsys, "init", "clf", "--dir", str(tmp_path / "c"), "--model", str(model),
                       "--samples", str(tmp_path / "b" / "model"))
    assert code == 2 and "holds no sample set" in err


def test_init_refuses_bad_names_and_non_empty_folders(tmp_path, capsys):
    code, _, err = run(capsys, "init", "Bad Name", "--dir", str(tmp_path / "b"))
    assert code == 2 and "not a valid bundle name" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "init", "ok", "--dir", str(tmp_path / "full"))
    assert code == 2 and "--force" in err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_init_refuses_a_file_that_is_not_onnx(tmp_path, capsys):
    junk = tmp_path / "m.onnx"
    junk.write_bytes(b"\x00not a model" * 10)
    code, _, err = run(capsys, "init", "m", "--dir", str(tmp_path / "b"), "--model", str(junk))
    assert code == 2 and "not a readable ONNX model" in err


def test_inspect_reports_a_stale_lock(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    (bundle / "LICENSE").write_text("changed")
    code, out, _ = run(capsys, "inspect", str(bundle))
    assert code == 0 and "STALE" in out and "mismatched: LICENSE" in out


def test_inspect_reads_archives(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    archive = tmp_path / "b.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="b")
    code, out, _ = run(capsys, "inspect", str(archive), "--json")
    assert code == 0 and json.loads(out)["name"] == "tiny-classifier"


@pytest.mark.parametrize("argv, message", [
    (["inspect", "/nonexistent/bundle"], "no such file or folder"),
    (["lock", "/nonexistent/bundle"], "not a folder"),
    (["validate", "/nonexistent/bundle"], "no such file or folder"),
    (["explain", "MG999"], "no rule"),
    (["validate", ".", "--stage", "heaven"], "invalid choice"),
    (["validate", ".", "--format", "pdf"], "invalid choice"),
])
def test_wrong_input_is_one_clear_message_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err
    assert err.startswith("modelgate: ")


def test_inspect_of_a_folder_without_manifest(tmp_path, capsys):
    code, _, err = run(capsys, "inspect", str(tmp_path))
    assert code == 2 and "MG101" in err


def test_lock_refuses_an_archive(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    archive = tmp_path / "b.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(bundle, arcname="b")
    code, _, err = run(capsys, "lock", str(archive))
    assert code == 2 and "needs the bundle folder" in err


def test_validate_exit_codes(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    code, out, _ = run(capsys, "validate", str(bundle), "--stage", "staging")
    assert code == 0 and out.strip().splitlines()[-1].startswith("PASSED")
    with open(bundle / "model" / "model.onnx", "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    code, out, _ = run(capsys, "validate", str(bundle), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["summary"]["passed"] is False
    assert {"MG104", "MG109"} <= {f["rule"] for f in report["findings"]}


def test_validate_output_file_and_verdict(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out, _ = run(capsys, "validate", str(bundle), "--format", "json", "--output", str(target))
    assert code == 0 and out.startswith("PASSED")
    assert json.loads(target.read_text())["format"] == "modelgate.report/v1"


def test_validate_with_a_broken_policy_is_exit_2(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    policy = tmp_path / "policy.yaml"
    policy.write_text("policy_format: modelgate.policy/v1\nname: x\nstagez: {}\n")
    code, _, err = run(capsys, "validate", str(bundle), "--policy", str(policy))
    assert code == 2 and "stagez" in err
    code, _, err = run(capsys, "validate", str(bundle), "--policy", str(tmp_path / "missing.yaml"))
    assert code == 2 and "does not exist" in err


def test_rules_and_explain(capsys):
    code, out, _ = run(capsys, "rules", "--json")
    rules = json.loads(out)["rules"]
    assert code == 0 and len({r["id"] for r in rules}) == len(rules) > 10
    assert all(r["rationale"] and r["fix"] and r["title"] for r in rules)
    code, out, _ = run(capsys, "explain", "mg104")
    assert code == 0 and "MG104" in out and "How to fix it" in out


def test_policy_show_is_the_default_policy_and_check_accepts_it(tmp_path, capsys):
    code, out, _ = run(capsys, "policy", "show")
    assert code == 0 and "modelgate.policy/v1" in out
    path = tmp_path / "p.yaml"
    path.write_text(out)
    code, out, _ = run(capsys, "policy", "check", str(path))
    assert code == 0 and "valid policy" in out
    path.write_text(out.replace("x", "x") + "")
    path.write_text("policy_format: modelgate.policy/v1\nname: p\nrules: {MG999: {severity: info}}\n")
    code, _, err = run(capsys, "policy", "check", str(path))
    assert code == 2 and "MG999" in err
    bundle = make_bundle(tmp_path / "b")
    code, _, err = run(capsys, "validate", str(bundle), "--policy", str(path))
    assert code == 2 and "MG999" in err


def test_one_run_writes_several_reports_into_new_folders(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    sarif, junit = tmp_path / "r" / "mg.sarif", tmp_path / "r" / "deep" / "mg.xml"
    code, out, _ = run(capsys, "validate", str(bundle), "--report", f"sarif:{sarif}",
                       "--report", f"junit:{junit}", "--format", "markdown")
    assert code == 0
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert junit.read_text().lstrip().startswith("<?xml") or "<testsuite" in junit.read_text()
    assert "PASSED" in out or "✅" in out
    code, _, err = run(capsys, "validate", str(bundle), "--report", "pdf:x.pdf")
    assert code == 2 and "FORMAT:FILE" in err


def test_settings_lists_every_limit_and_shows_overrides(capsys, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_ENTRIES", "42")
    code, out, _ = run(capsys, "settings")
    assert code == 0 and "MODELGATE_MAX_ARCHIVE_ENTRIES=42  (from the environment; default 10000)" in out
    code, out, _ = run(capsys, "settings", "--json")
    rows = {row["name"]: row for row in json.loads(out)["settings"]}
    assert {"max_archive_bytes", "max_session_bytes", "smoke_timeout_s"} <= set(rows)
    assert (rows["max_archive_entries"]["value"], rows["max_archive_entries"]["origin"]) == (42, "environment")
    assert (rows["max_yaml_nodes"]["value"], rows["max_yaml_nodes"]["origin"]) == (100_000, "default")
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_ENTRIES", "lots")
    code, _, err = run(capsys, "settings")
    assert code == 2 and "MODELGATE_MAX_ARCHIVE_ENTRIES='lots' is not a valid int" in err
