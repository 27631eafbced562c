"""Trusted signers, recorded signatures and the production signature gate, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from modelgate.core.policy.document import load_policy
from modelgate.core.registry import PermissionDenied, WorkflowRefused, workflow
from modelgate.core.registry.signatures import (record_signatures, revoke_key, sign_version,
                                                signature_documents, trust_key, trusted_keys)
from tests.factory import PASSPHRASE, sign, signing_key
from tests.registry_support import APPROVERS, NAME, new_bundle

DEFAULT = load_policy()


@pytest.fixture
def signers(team, tmp_path):
    """``sam`` (signer) and ``alice`` (the submitter, also a signer), each with a trusted key."""
    if team.server:  # on PostgreSQL every user is a database login
        team.server.create_role("sam", database=team.database)
    team.admin.add_user(name="sam", roles=["signer"])
    team.admin.add_user(name="alice", roles=["signer"])
    keys = {name: signing_key(tmp_path / "keys", name) for name in ("sam", "alice", "mallory")}
    for name in ("sam", "alice"):
        trust_key(team.admin, name=name, public_key=keys[name].with_suffix(".pub"))
    return keys


def at_production_gate(team, tmp_path, template, version="1.0.0"):
    team("alice").import_bundle(path=new_bundle(tmp_path, template, version=version))
    for stage in ("candidate", "staging"):
        for person in APPROVERS[stage]:
            workflow.review(team(person), name=NAME, version=version, decision="approve", comment="ok")
        workflow.promote(team("carol"), name=NAME, version=version, to_stage=stage, policy=DEFAULT)
    for person in APPROVERS["production"]:
        workflow.review(team(person), name=NAME, version=version, decision="approve", comment="ok")


def signature_gate(team, version="1.0.0"):
    gates = workflow.gates(team("carol"), name=NAME, version=version, to_stage="production", policy=DEFAULT)
    return next(g for g in gates if g.name == "signature")


@pytest.mark.slow
def test_a_trusted_signers_signature_opens_the_production_gate(team, tmp_path, template, signers):
    at_production_gate(team, tmp_path, template)
    assert signature_gate(team).state == "not met"
    with pytest.raises(WorkflowRefused):
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="production", policy=DEFAULT)
    recorded = sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE,
                            signer="sam")
    assert [(s.signer, s.verified) for s in recorded] == [("sam", True)]
    assert signature_gate(team).state == "met" and "signed by sam" in signature_gate(team).reason
    assert workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="production",
                            policy=DEFAULT).moved
    detail = team.admin.show(name=NAME, version="1.0.0")
    assert detail.info.signatures == 1 and detail.signatures[0].bundle_digest == detail.info.digest
    assert team.admin.verify_audit().ok
    assert [e.action for e in team.admin.audit_log(action="signature.add")] == ["signature.add"]


@pytest.mark.slow
def test_the_submitters_own_signature_and_a_revoked_key_do_not_count(team, tmp_path, template, signers):
    at_production_gate(team, tmp_path, template)
    sign_version(team("alice"), name=NAME, version="1.0.0", key=signers["alice"], passphrase=PASSPHRASE,
                 signer="alice")
    gate = signature_gate(team)
    assert gate.state == "not met" and "submitted this version" in gate.reason
    sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE, signer="sam")
    assert signature_gate(team).state == "met"
    fingerprint = next(k.fingerprint for k in trusted_keys(team.admin) if k.name == "sam")
    revoke_key(team.admin, fingerprint=fingerprint[:12], reason="laptop lost")
    gate = signature_gate(team)
    assert gate.state == "not met" and "no longer trusted" in gate.reason


@pytest.mark.slow
def test_untrusted_or_foreign_signatures_are_never_recorded(team, tmp_path, template, signers):
    at_production_gate(team, tmp_path, template)
    with pytest.raises(WorkflowRefused, match="not in the trust store"):
        sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["mallory"], passphrase=PASSPHRASE,
                     signer="mallory")
    other = new_bundle(tmp_path / "other", template, version="1.0.0", change=lambda m: m.update(
        description="another bundle"))
    sign(other, signers["sam"])
    with pytest.raises(WorkflowRefused, match="differ from what was signed"):
        record_signatures(team("sam"), name=NAME, version="1.0.0", documents=signature_documents(other))
    assert team.admin.show(name=NAME, version="1.0.0").signatures == []


def test_only_admins_trust_keys_and_only_signers_sign(team, tmp_path, template, signers):
    with pytest.raises(PermissionDenied):
        trust_key(team("carol"), name="carol", public_key=signers["mallory"].with_suffix(".pub"))
    at_production_gate(team, tmp_path, template)
    with pytest.raises(PermissionDenied):
        sign_version(team("carol"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE,
                     signer="sam")


def test_importing_a_signed_bundle_records_its_signatures(team, tmp_path, template, signers):
    bundle = new_bundle(tmp_path, template)
    sign(bundle, signers["sam"])
    team("alice").import_bundle(path=bundle)
    recorded = record_signatures(team("sam"), name=NAME, version="1.0.0", documents=signature_documents(bundle))
    assert [s.signer for s in recorded] == ["sam"]
    again = record_signatures(team("sam"), name=NAME, version="1.0.0", documents=signature_documents(bundle))
    assert again == [] and len(team.admin.show(name=NAME, version="1.0.0").signatures) == 1


def test_verifying_a_version_lists_every_recorded_signature(team, tmp_path, template, signers):
    from modelgate.core.registry.signatures import verify_version

    at_production_gate(team, tmp_path, template)
    for _ in range(2):   # the same signer twice: one file name, two records
        sign_version(team("sam"), name=NAME, version="1.0.0", key=signers["sam"], passphrase=PASSPHRASE,
                     signer="sam")
    report = verify_version(team("carol"), name=NAME, version="1.0.0")
    assert [(c.signer, c.status) for c in report.checks] == [("sam", "valid"), ("sam", "valid")]
    assert report.passed and len({c.file for c in report.checks}) == 2


def test_a_key_is_revoked_by_the_fingerprint_as_keys_list_shows_it_and_never_by_a_short_guess(team, signers):
    from modelgate.core.registry import NotFound
    from modelgate.core.signing.keys import short

    fingerprint = next(k.fingerprint for k in trusted_keys(team.admin) if k.name == "sam")
    for guess in ("", "sha", fingerprint[:7], "not-a-key"):
        with pytest.raises(NotFound):
            revoke_key(team.admin, fingerprint=guess, reason="lost")
    assert next(k for k in trusted_keys(team.admin) if k.name == "sam").revoked_at is None
    revoke_key(team.admin, fingerprint=short(fingerprint), reason="laptop lost")
    assert next(k for k in trusted_keys(team.admin) if k.name == "sam").revoked_at is not None
