"""The demo's production versions export with their signed decisions and verify with no registry."""

from __future__ import annotations

import json

import pytest

from modelgate.core.cli.main import main
from modelgate.core.demo.registry import KEYS_DIR, SIGNER


@pytest.mark.slow
def test_every_demo_production_version_exports_and_verifies_offline(demo_workspace, demo_registry_copy,
                                                                    tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELGATE_REGISTRY", demo_registry_copy)
    monkeypatch.setenv("MODELGATE_USER", SIGNER)
    assert main(["registry", "list", "--stage", "production", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["versions"]
    refs = sorted(f"{v['name']}@{v['version']}" for v in listed)
    assert len(refs) == 3
    for ref in refs:
        assert main(["export", ref, "--output", str(tmp_path / ref)]) == 0
    capsys.readouterr()
    # The auditor's machine: no registry, no settings, only the exported folders and a public key.
    for name in ("MODELGATE_REGISTRY", "MODELGATE_USER", "MODELGATE_TRUST_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    public = demo_workspace / KEYS_DIR / f"{SIGNER}.pub"
    for ref in refs:
        code = main(["verify", str(tmp_path / ref), "--attestations", "--stage", "production",
                     "--trust", str(public), "--json"])
        verdict = json.loads(capsys.readouterr().out)
        assert code == 0 and verdict["passed"], verdict
        climbed = [("draft", "candidate"), ("candidate", "staging"), ("staging", "production")]
        # the demo rolled defect-detector back to 0.9.0: that restore is a decision of its own
        restored = [("deprecated", "production")] if ref == "defect-detector@0.9.0" else []
        assert [(d["from"], d["to"]) for d in verdict["decisions"]] == climbed + restored
    assert not (tmp_path / "home").exists()  # nothing was created on the auditor's side


def test_a_missing_bundle_is_named_before_any_registry_is_looked_for(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path}/none.db")
    assert main(["verify", str(tmp_path / "absent"), "--attestations"]) == 2
    err = capsys.readouterr().err
    assert "absent does not exist" in err and "registry" not in err
