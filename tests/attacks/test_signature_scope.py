"""signatures/ holds signature files only: nothing a check reads may hide from the digests there."""

from __future__ import annotations

import json
import shutil

import pytest

from modelgate.core.errors import BundleError
from modelgate.core.bundle.lock import lock_bundle
from tests.factory import clean_results, edit_manifest, make_bundle, rules_of, validate
from tests.cli_support import run

PASSPHRASE = "correct horse battery staple"


def benchmarks_under_signatures(root):
    """Move the benchmark results into signatures/ and point bundle.yaml at them."""
    (root / "signatures").mkdir(exist_ok=True)
    shutil.move(root / "benchmarks" / "results.json", root / "signatures" / "results.json")
    edit_manifest(root, lambda m: m.update(benchmarks=["signatures/results.json"]))


def test_lock_refuses_a_declaration_pointing_into_signatures(tmp_path, capsys):
    root = make_bundle(tmp_path / "b", lock=False)
    benchmarks_under_signatures(root)
    before = (root / "bundle.yaml").read_bytes()
    with pytest.raises(BundleError) as refused:
        lock_bundle(root)
    assert refused.value.rule == "MG130" and "signatures/results.json" in refused.value.message
    assert (root / "bundle.yaml").read_bytes() == before  # nothing written
    code, _, err = run(capsys, "lock", str(root))
    assert code == 2 and "MG130" in err and (root / "bundle.yaml").read_bytes() == before


def test_lock_refuses_any_other_file_under_signatures(tmp_path):
    root = make_bundle(tmp_path / "b", lock=False)
    (root / "signatures").mkdir()
    (root / "signatures" / "notes.txt").write_text("unsigned")
    (root / "signatures" / "nested").mkdir()
    (root / "signatures" / "nested" / "x.sig").write_text("{}")  # .sig, but not where signatures live
    with pytest.raises(BundleError, match="signatures/notes.txt") as refused:
        lock_bundle(root)
    assert refused.value.rule == "MG130" and "signatures/nested/x.sig" in refused.value.message


@pytest.mark.slow
def test_validate_reports_files_and_declarations_in_signatures(tmp_path):
    root = make_bundle(tmp_path / "b")
    assert "MG130" not in rules_of(validate(root, stage="draft"))
    benchmarks_under_signatures(root)
    report = validate(root, stage="draft")
    found = [f for f in report.findings if f.rule == "MG130"]
    assert {f.location.path for f in found} == {None, "benchmarks[0]"}
    assert report.verdict.startswith("FAILED")


def test_editing_a_benchmark_kept_in_signatures_after_signing_cannot_pass(tmp_path, capsys, monkeypatch):
    """The reproduced attack: benchmarks declared under signatures/, signed, then edited so the
    floor is met. verify still says OK (signatures/ is outside every signature by design), so
    validate must fail on the scope itself, before and after the edit."""
    monkeypatch.setenv("MODELGATE_KEY_PASSPHRASE", PASSPHRASE)
    failing = clean_results()
    failing["results"][0]["value"] = 0.10  # below the production floor
    root = make_bundle(tmp_path / "b", results=failing)
    benchmarks_under_signatures(root)
    # Written by hand past `lock`, which refuses it: the digests the attacker controls.
    edit_manifest(root, lambda m: m["files"].pop("benchmarks/results.json", None))
    assert run(capsys, "keys", "generate", "--name", "eve", "--out", str(tmp_path / "k"))[0] == 0
    assert run(capsys, "sign", str(root), "--key", str(tmp_path / "k" / "eve.key"), "--signer", "eve")[0] == 0
    results = root / "signatures" / "results.json"
    data = json.loads(results.read_text())
    data["results"][0]["value"] = 0.99
    results.write_text(json.dumps(data))
    code, _, _ = run(capsys, "verify", str(root), "--trust", str(tmp_path / "k" / "eve.pub"))
    assert code == 0  # the signature does not cover signatures/ ...
    code, out, _ = run(capsys, "validate", str(root), "--trust", str(tmp_path / "k" / "eve.pub"))
    assert code == 1 and "MG130" in out  # ... so the gate refuses the scope itself


def test_signature_files_themselves_are_fine(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "signatures").mkdir()
    (root / "signatures" / "ana.sig").write_text("{}")
    assert "MG130" not in rules_of(validate(root, stage="draft"))
