"""The offline verifier on statements built here: each check refuses what it exists to refuse."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from modelgate.core.evidence.attestation_verify import verify_decisions
from modelgate.core.policy.document import load_policy
from modelgate.core.signing.attestations import (Approval, Decision, canonical_json, promotion_statement,
                                                 sha256_hex, summary_statement)
from modelgate.core.signing.dsse import KeySigner, sign_envelope
from modelgate.core.signing.trust import load_trust_store

FILES = {"bundle.yaml": "a" * 64, "model/model.onnx": "b" * 64}
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
POLICY = load_policy()


def _decision(from_stage: str, to_stage: str, approvers=("carol", "dave"), roles=None) -> Decision:
    count, wanted = POLICY.gates(to_stage).approvals.count, POLICY.gates(to_stage).approvals.roles
    roles = tuple(wanted) if roles is None else roles
    return Decision(name="m", version="1.0.0", bundle_digest="c" * 64, submitter="alice", from_stage=from_stage,
                    to_stage=to_stage, decided_by="carol", decided_at=NOW, policy_name=POLICY.name,
                    policy_digest=POLICY.digest, passed=True, errors=0, warnings=0, rules=(),
                    approvals_required=count, approval_roles=tuple(wanted),
                    approvals=tuple(Approval(who, roles, NOW, "ok") for who in approvers[:max(count, 1)]),
                    tool_version="0.1.0")


def _envelopes(decisions, key, *, files=FILES, result="PASSED"):
    signer, envelopes, previous = KeySigner(key), [], None
    for sequence, decision in enumerate(decisions, start=1):
        promotion = promotion_statement(decision=decision, files=files, sequence=sequence, previous=previous)
        previous = sha256_hex(canonical_json(promotion))
        summary = summary_statement(decision=decision, files=files, promotion_digest=previous)
        summary["predicate"]["verificationResult"] = result
        envelopes += [sign_envelope(payload=canonical_json(s), signer=signer) for s in (promotion, summary)]
    return envelopes


@pytest.fixture
def key_and_trust(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "officer.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, load_trust_store([tmp_path / "officer.pub"])


CLIMB = [("draft", "candidate"), ("candidate", "staging"), ("staging", "production")]


def _problems(key_and_trust, decisions, **options):
    key, trust = key_and_trust
    envelope_options = {k: options.pop(k) for k in ("result",) if k in options}
    verdict = verify_decisions(files=FILES, envelopes=_envelopes(decisions, key, **envelope_options), trust=trust,
                               **options)
    return verdict.problems


def test_an_honest_climb_verifies(key_and_trust):
    assert _problems(key_and_trust, [_decision(*step) for step in CLIMB], stage="production", policy=POLICY) == ()


@pytest.mark.parametrize("decisions, expected", [
    ([_decision("draft", "staging")], "skips candidate"),
    ([_decision("candidate", "staging")], "starts at candidate"),
    ([_decision(*CLIMB[0]), _decision(*CLIMB[1]), _decision(*CLIMB[2], approvers=("carol", "alice"))],
     "alice submitted the version"),
    ([_decision(*CLIMB[0]), _decision(*CLIMB[1]), _decision(*CLIMB[2], roles=("reviewer",))],
     "did not hold the approver role"),
    ([_decision(*CLIMB[0]), _decision(*CLIMB[1]), _decision(*CLIMB[2], approvers=("carol", "Carol"))],
     "approved twice"),
])
def test_each_broken_rule_of_the_chain_is_named(key_and_trust, decisions, expected):
    assert any(expected in p for p in _problems(key_and_trust, decisions)), expected


def test_a_summary_that_did_not_pass_or_another_policy_fails(key_and_trust):
    climb = [_decision(*step) for step in CLIMB]
    assert any("no verification summary" in p for p in _problems(key_and_trust, climb, result="FAILED"))
    other = replace(POLICY, digest="d" * 64)
    assert any("another policy" in p for p in _problems(key_and_trust, climb, policy=other))


def test_statements_about_other_files_fail(key_and_trust):
    key, trust = key_and_trust
    envelopes = _envelopes([_decision(*CLIMB[0])], key, files={**FILES, "extra.bin": "e" * 64})
    verdict = verify_decisions(files=FILES, envelopes=envelopes, trust=trust)
    assert any("not in the bundle: extra.bin" in p for p in verdict.problems)


def _rollback(from_stage="deprecated", to_stage="production", kind="rollback") -> Decision:
    return replace(_decision(from_stage, to_stage), kind=kind, approvals=(), approvals_required=0,
                   approval_roles=(), reason="latency doubled")


def test_a_rollback_restoring_a_former_production_version_verifies(key_and_trust):
    climb = [_decision(*step) for step in CLIMB]
    assert _problems(key_and_trust, climb + [_rollback()], stage="production", policy=POLICY) == ()
    # taken out by a rollback, then restored by another: both steps are decisions
    back = [_rollback("production", "deprecated"), _rollback()]
    assert _problems(key_and_trust, climb + back, stage="production", policy=POLICY) == ()


def test_a_rollback_of_a_version_never_in_production_or_relabelled_is_refused(key_and_trust):
    early = [_decision(*CLIMB[0]), _rollback()]
    assert any("starts at deprecated" in p for p in _problems(key_and_trust, early, stage="production"))
    relabelled = [_decision(*step) for step in CLIMB] + [_rollback(kind="promotion")]
    assert any("goes backwards" in p for p in _problems(key_and_trust, relabelled, stage="production"))


def test_a_break_glass_restore_is_on_record_but_never_vouched_for():
    summary = summary_statement(decision=_rollback(kind="break-glass"), files=FILES, promotion_digest="d" * 64)
    assert summary["predicate"]["verificationResult"] == "FAILED"
    honest = summary_statement(decision=_rollback(), files=FILES, promotion_digest="d" * 64)
    assert honest["predicate"]["verificationResult"] == "PASSED"
