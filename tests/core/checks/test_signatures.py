"""MG8xx: signatures where the policy requires them, valid, trusted, not by the model's owners."""

from __future__ import annotations

import shutil

import pytest

from tests.factory import clean_manifest, make_bundle, rules_of, sign, signing_key, trust_of, validate


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return {name: signing_key(folder, name) for name in ("officer", "stranger", "ana.kovac")}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    manifest = clean_manifest()
    manifest["owners"] = [{"name": "Ana Kovac", "email": "ana.kovac@example.com"}]
    return make_bundle(tmp_path_factory.mktemp("t") / "b", manifest=manifest)


@pytest.fixture
def bundle(tmp_path, template):
    root = tmp_path / "b"
    shutil.copytree(template, root)
    return root


def test_production_requires_a_signature_mg801(bundle, keys):
    assert "MG801" in rules_of(validate(bundle, stage="production", trust=trust_of(keys["officer"])), "error")
    assert "MG801" not in rules_of(validate(bundle, stage="staging"))


def test_a_valid_trusted_signature_passes(bundle, keys):
    sign(bundle, keys["officer"])
    report = validate(bundle, stage="production", trust=trust_of(keys["officer"]))
    assert report.passed and not {r for r in rules_of(report) if r.startswith("MG8")}


def test_a_changed_file_is_mg802(bundle, keys):
    sign(bundle, keys["officer"])
    (bundle / "notes.txt").write_text("after signing")
    assert "MG802" in rules_of(validate(bundle, stage="staging", trust=trust_of(keys["officer"])), "error")


def test_an_untrusted_signer_is_mg803_an_error_only_where_required(bundle, keys):
    sign(bundle, keys["stranger"])
    trust = trust_of(keys["officer"])
    production = validate(bundle, stage="production", trust=trust)
    assert {"MG803", "MG801"} <= rules_of(production, "error")
    assert "MG803" in rules_of(validate(bundle, stage="staging", trust=trust), "warning")
    assert "MG803" in rules_of(validate(bundle, stage="staging"), "warning")  # no trust store at all


def test_a_signature_by_an_owner_is_mg804_and_does_not_count(bundle, keys):
    sign(bundle, keys["ana.kovac"])
    report = validate(bundle, stage="production", trust=trust_of(keys["ana.kovac"]))
    assert {"MG804", "MG801"} <= rules_of(report, "error")


def test_the_policy_can_switch_the_signature_rules(bundle, keys, tmp_path):
    from tests.factory import policy_file

    relaxed = policy_file(tmp_path, lambda data: (data.get("rules") or data.setdefault("rules", {})).update({"MG801": {"enabled": False}}))
    assert "MG801" not in rules_of(validate(bundle, stage="production", policy=relaxed))
