"""The promotion workflow on SQLite and PostgreSQL: reviews, gates, promotion, rollback, audit."""

from __future__ import annotations

import threading

import pytest

from modelgate.core.errors import UsageError
from modelgate.core.policy.document import load_policy
from modelgate.core.registry import PermissionDenied, WorkflowRefused
from modelgate.core.registry import workflow
from modelgate.core.registry.gates import stage_order
from tests.factory import policy_file
from tests.registry_support import APPROVERS, NAME, new_bundle

DEFAULT = load_policy()

@pytest.fixture
def no_signature(tmp_path):
    """The default policy without the production signature requirement."""
    return load_policy(policy_file(tmp_path, lambda data: data["stages"]["production"].pop("signature")))


def submit(team, tmp_path, template, version="1.0.0", *, by="alice", change=None) -> str:
    team(by).import_bundle(path=new_bundle(tmp_path, template, version=version, change=change))
    return version


def approve(team, version, *people, decision="approve", comment="checked the card and benchmarks"):
    for person in people:
        workflow.review(team(person), name=NAME, version=version, decision=decision, comment=comment)


def climb(team, version, target, policy=DEFAULT):
    """Review and promote ``version`` stage by stage up to ``target``."""
    stages = ["candidate", "staging", "production"]
    for stage in stages[:stages.index(target) + 1]:
        approve(team, version, *APPROVERS[stage])
        workflow.promote(team("carol"), name=NAME, version=version, to_stage=stage, policy=policy,
                         reason=f"ready for {stage}")


def gate(results, name):
    return next(g for g in results if g.name == name)


def stage_of(team, version):
    return team.admin.show(name=NAME, version=version).info.stage


def test_self_approval_never_counts_and_a_later_reject_blocks(team, tmp_path, template):
    submit(team, tmp_path, template, by="erin")
    mine = workflow.review(team("erin"), name=NAME, version="1.0.0", decision="approve",
                           comment="mine, fine")
    assert mine.by_submitter and mine.stage == "draft" and mine.roles == "submitter,reviewer,approver"
    approvals = gate(workflow.gates(team("erin"), name=NAME, version="1.0.0", to_stage="candidate",
                                    policy=DEFAULT), "approvals")
    assert approvals.state == "not met"
    assert "0 of 1" in approvals.reason and "erin's approval does not count: submitted" in approvals.reason
    with pytest.raises(WorkflowRefused):
        workflow.promote(team("erin"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)

    approve(team, "1.0.0", "bob")
    approve(team, "1.0.0", "carol", decision="reject", comment="the threshold is wrong")
    with pytest.raises(WorkflowRefused) as refused:
        workflow.promote(team("erin"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    assert "carol chose reject: the threshold is wrong" in str(refused.value)
    approve(team, "1.0.0", "dave", decision="request-changes", comment="add the latency numbers")
    approve(team, "1.0.0", "bob", comment="threshold fixed in the card")
    with pytest.raises(WorkflowRefused):  # a reject stands until the same person approves
        workflow.promote(team("erin"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    approve(team, "1.0.0", "carol", comment="threshold fixed")
    approve(team, "1.0.0", "dave", comment="latency numbers added")
    moved = workflow.promote(team("erin"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    assert moved.moved
    assert gate(moved.gates, "approvals").reason.startswith("1 of 1 approval(s) from reviewer")


def test_a_reviewer_who_changes_their_mind_withdraws_their_approval(team, tmp_path, template):
    submit(team, tmp_path, template)
    approve(team, "1.0.0", "bob")
    approve(team, "1.0.0", "bob", decision="reject", comment="found a data leak")
    approvals = gate(workflow.gates(team("carol"), name=NAME, version="1.0.0", to_stage="candidate",
                                    policy=DEFAULT), "approvals")
    assert approvals.state == "not met" and approvals.reason.startswith("0 of 1")
    assert "bob chose reject: found a data leak" in approvals.reason


def test_a_missing_role_is_refused_and_audited(team, tmp_path, template):
    submit(team, tmp_path, template)
    seq = team.admin.audit_log(limit=1)[-1].seq
    with pytest.raises(UsageError, match="comment"):
        workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment=" ")
    with pytest.raises(UsageError, match="unknown review decision"):
        workflow.review(team("bob"), name=NAME, version="1.0.0", decision="lgtm", comment="fine")
    assert team.admin.audit_log(limit=1)[-1].seq == seq
    approve(team, "1.0.0", "bob")
    with pytest.raises(PermissionDenied, match="bob lacks the approver role needed to promote"):
        workflow.promote(team("bob"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    with pytest.raises(PermissionDenied, match="alice lacks"):
        workflow.review(team("alice"), name=NAME, version="1.0.0", decision="approve", comment="ok")
    with pytest.raises(PermissionDenied):
        workflow.rollback(team("bob"), name=NAME, reason="panic")
    denied = team.admin.audit_log(action="denied")
    assert [(e.actor, e.payload["action"]) for e in denied] == [
        ("bob", "promote"), ("alice", "review"), ("bob", "rollback")]
    detail = team.admin.show(name=NAME, version="1.0.0")
    assert detail.info.stage == "draft" and not detail.promotions and len(detail.reviews) == 1
    assert team.admin.verify_audit().ok


@pytest.mark.slow
def test_approvals_come_from_distinct_people_holding_the_role_at_review_time(team, tmp_path, template):
    submit(team, tmp_path, template)
    climb(team, "1.0.0", "staging")

    def approvals():
        return gate(workflow.gates(team("carol"), name=NAME, version="1.0.0", to_stage="production",
                                   policy=DEFAULT), "approvals")

    # approvals made at earlier stages stay behind
    assert approvals().reason.startswith("0 of 2 approval(s) from approver at staging")
    approve(team, "1.0.0", "carol", "carol")
    assert approvals().state == "not met" and "1 of 2" in approvals().reason
    approve(team, "1.0.0", "bob")
    team.admin.add_user(name="bob", roles=["approver"])  # too late for the review he made
    assert "bob's approval does not count: did not hold the approver role" in approvals().reason
    approve(team, "1.0.0", "dave")
    assert approvals().state == "met" and "2 of 2 approval(s) from approver at staging (carol, dave)" \
        in approvals().reason


def test_the_validation_gate_runs_once_on_the_stored_bundle(team, tmp_path, template):
    team = team
    submit(team, tmp_path, template)
    submit(team, tmp_path, template, "2.0.0", change=lambda m: m.update(license="CC-BY-NC-4.0"))
    clean = workflow.gates(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    assert gate(clean, "validation").state == "met"
    assert gate(clean, "validation").reason.startswith("passed for candidate under policy default")
    broken = gate(workflow.gates(team("carol"), name=NAME, version="2.0.0", to_stage="candidate",
                                 policy=DEFAULT), "validation")
    assert broken.state == "not met" and "MG4" in broken.reason and "CC-BY-NC-4.0" in broken.reason
    workflow.gates(team("carol"), name=NAME, version="2.0.0", to_stage="candidate", policy=DEFAULT)
    runs = team.admin.show(name=NAME, version="2.0.0").validations
    assert [(r.stage, r.passed, r.policy_digest) for r in runs] == [("candidate", False, DEFAULT.digest)]
    assert len(team.admin.audit_log(action="validation.run", subject=f"{NAME}@2.0.0")) == 1


def test_stage_order_rules():
    assert stage_order("draft", "candidate").state == "met"
    assert "skips candidate, staging; promote to candidate first" in stage_order("draft", "production").reason
    assert stage_order("staging", "candidate").state == "not met"
    assert stage_order("candidate", "candidate").reason == "the version is already at candidate"
    assert stage_order("deprecated", "production").state == "not met"
    assert stage_order("archived", "deprecated").state == "not met"
    for current in ("draft", "candidate", "staging", "production"):
        assert stage_order(current, "deprecated").state == "met"
    assert stage_order("deprecated", "archived").state == "met"


def test_no_skipping_and_retiring_from_any_stage(team, tmp_path, template):
    team = team
    submit(team, tmp_path, template)
    approve(team, "1.0.0", "bob")
    with pytest.raises(WorkflowRefused) as refused:
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="staging", policy=DEFAULT)
    unmet = [g.name for g in refused.value.gates if g.blocking]
    assert unmet[0] == "stage order" and "skips candidate" in str(refused.value)
    retired = workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="deprecated",
                               policy=DEFAULT, reason="never shipped")
    assert (retired.from_stage, retired.to_stage, retired.superseded) == ("draft", "deprecated", None)
    assert not workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="deprecated",
                                policy=DEFAULT).moved
    with pytest.raises(WorkflowRefused, match="never move back"):
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    with pytest.raises(WorkflowRefused, match="has no production version"):
        workflow.rollback(team("carol"), name=NAME, reason="nothing is live")


@pytest.mark.slow
def test_production_needs_a_signature_under_the_default_policy(team, tmp_path, template, no_signature):
    submit(team, tmp_path, template)
    climb(team, "1.0.0", "staging")
    approve(team, "1.0.0", *APPROVERS["production"])
    with pytest.raises(WorkflowRefused) as refused:
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="production", policy=DEFAULT)
    signature = gate(refused.value.gates, "signature")
    assert (signature.state, signature.blocking) == ("not met", True)
    assert "no release signature is recorded" in signature.reason
    assert [g.name for g in refused.value.gates if g.blocking] == ["signature"]
    moved = workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="production",
                             policy=no_signature)
    assert moved.moved and moved.to_stage == "production" and not gate(moved.gates, "signature").blocking
    assert team.admin.audit_log(action="promote")[-1].payload["policy_digest"] == no_signature.digest


def test_a_refused_promotion_changes_nothing_but_writes_its_event(team, tmp_path, template):
    submit(team, tmp_path, template)
    workflow.gates(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    before = team.admin.show(name=NAME, version="1.0.0")
    seq = team.admin.audit_log(limit=1)[-1].seq
    with pytest.raises(WorkflowRefused) as refused:
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate",
                         policy=DEFAULT, reason="please")
    assert refused.value.exit_code == 1 and "approvals: 0 of 1" in refused.value.message
    after = team.admin.show(name=NAME, version="1.0.0")
    assert (after.info, after.reviews, after.promotions, after.validations) == (
        before.info, before.reviews, before.promotions, before.validations)
    new = [e for e in team.admin.audit_log() if e.seq > seq]
    assert [(e.action, e.actor, e.subject) for e in new] == [("promote.refused", "carol", f"{NAME}@1.0.0")]
    assert [g["name"] for g in new[0].payload["unmet"]] == ["approvals"]
    assert new[0].payload["reason"] == "please" and team.admin.verify_audit().ok


@pytest.mark.slow
def test_supersede_and_rollback_keep_one_production_version(team, tmp_path, template, no_signature):
    for version in ("1.0.0", "2.0.0"):
        submit(team, tmp_path, template, version)
        climb(team, version, "production", no_signature)
    assert [v.version for v in team.admin.list_versions(stage="production")] == ["2.0.0"]
    assert stage_of(team, "1.0.0") == "deprecated"
    last = team.admin.show(name=NAME, version="1.0.0").promotions[-1]
    assert (last.kind, last.reason) == ("superseded", f"superseded by {NAME}@2.0.0")

    with pytest.raises(UsageError):
        workflow.rollback(team("carol"), name=NAME, reason="  ")
    # The restored version meets today's production gates, under the policy its promotions used.
    back = workflow.rollback(team("dave"), name=NAME, reason="latency doubled in production",
                             policy=no_signature)
    assert (back.restored, back.demoted) == (f"{NAME}@1.0.0", f"{NAME}@2.0.0")
    assert [v.version for v in team.admin.list_versions(stage="production")] == ["1.0.0"]
    demoted = team.admin.show(name=NAME, version="2.0.0").promotions[-1]
    restored = team.admin.show(name=NAME, version="1.0.0").promotions[-1]
    assert (demoted.kind, demoted.to_stage, demoted.reason, demoted.actor) == (
        "rollback", "deprecated", "latency doubled in production", "dave")
    assert (restored.kind, restored.to_stage) == ("restored", "production")
    event = team.admin.audit_log(action="rollback")[-1]
    assert event.payload["reason"] == "latency doubled in production" and event.subject == f"{NAME}@2.0.0"

    with pytest.raises(WorkflowRefused, match="no earlier production version"):
        workflow.rollback(team("dave"), name=NAME, reason="again", policy=no_signature)
    assert team.admin.audit_log(action="rollback.refused")[-1].payload["reason"] == "again"
    verdict = team.admin.verify_audit()
    assert verdict.ok and verdict.checked == len(team.admin.audit_log())


@pytest.mark.slow
def test_concurrent_promoters_leave_one_production_version(team, tmp_path, template, no_signature):
    for version in ("1.0.0", "2.0.0"):
        submit(team, tmp_path, template, version)
        climb(team, version, "staging")
        approve(team, version, *APPROVERS["production"])
        workflow.gates(team("carol"), name=NAME, version=version, to_stage="production", policy=no_signature)
    start, errors = threading.Barrier(2), []

    def go(person, version):
        try:
            start.wait()
            workflow.promote(team(person), name=NAME, version=version, to_stage="production",
                             policy=no_signature)
        except BaseException as error:  # reported below
            errors.append(error)

    team("carol"), team("dave")  # open both registries before the race
    threads = [threading.Thread(target=go, args=args) for args in (("carol", "1.0.0"), ("dave", "2.0.0"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    stages = sorted(v.stage for v in team.admin.list_versions(name=NAME))
    assert stages == ["deprecated", "production"]
    assert len(team.admin.audit_log(action="promote.superseded")) == 1 and team.admin.verify_audit().ok


@pytest.mark.slow
def test_a_review_or_rollback_of_what_changed_meanwhile_is_refused(team, tmp_path, template, no_signature):
    submit(team, tmp_path, template, "1.0.0")
    approve(team, "1.0.0", "bob")
    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    # carol looked at it as a draft; it is a candidate now: her approval would count where she never looked.
    with pytest.raises(WorkflowRefused, match="moved from draft to candidate meanwhile"):
        workflow.review(team("carol"), name=NAME, version="1.0.0", decision="approve", comment="ok",
                        expected_stage="draft")
    assert [r.stage for r in team.admin.show(name=NAME, version="1.0.0").reviews] == ["draft"]
    for version in ("2.0.0", "3.0.0"):
        submit(team, tmp_path, template, version)
    climb(team, "2.0.0", "production", no_signature)
    climb(team, "3.0.0", "production", no_signature)
    with pytest.raises(WorkflowRefused, match="3.0.0 is in production now, not 2.0.0"):
        workflow.rollback(team("dave"), name=NAME, reason="it was 2.0.0 I saw", expected_current="2.0.0")
    assert stage_of(team, "3.0.0") == "production"
    choices = workflow.rollback_choices(team("dave"), name=NAME)
    assert (choices.default, choices.versions) == ("2.0.0", ("2.0.0",))
