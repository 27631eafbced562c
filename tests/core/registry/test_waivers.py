"""Waivers: four eyes, the validation gate, the attestation, expiry and revocation, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from modelgate.core.errors import UsageError
from modelgate.core.policy.document import load_policy
from modelgate.core.registry import PermissionDenied, WorkflowRefused, workflow
from modelgate.core.registry.attestations import attestations
from modelgate.core.registry.waivers import confirm_waiver, list_waivers, request_waiver, revoke_waiver
from modelgate.core.signing.attestations import PROMOTION_PREDICATE
from tests.registry_support import NAME, new_bundle

DEFAULT = load_policy()
LATER = date.today() + timedelta(days=30)


def _validation(team):
    gates = workflow.gates(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    return next(g for g in gates if g.name == "validation")


@pytest.fixture
def failing(team, tmp_path, template):
    """NAME@1.0.0 under a denied license: its validation gate fails on one licence rule."""
    team("alice").import_bundle(path=new_bundle(tmp_path, template,
                                                change=lambda m: m.update(license="CC-BY-NC-4.0")))
    gate = _validation(team)
    rules = set(re.findall(r"MG\d{3}", gate.reason))
    assert gate.state == "not met" and len(rules) == 1
    return rules.pop()


def test_a_confirmed_waiver_opens_the_gate_and_is_attested(team, failing):
    waiver = request_waiver(team("carol"), name=NAME, version="1.0.0", rule=failing,
                            reason="legal cleared the non-commercial pilot", expires=LATER)
    assert waiver.state == "pending" and _validation(team).state == "not met"
    with pytest.raises(WorkflowRefused, match="second approver"):
        confirm_waiver(team("carol"), waiver_id=waiver.id)
    assert confirm_waiver(team("dave"), waiver_id=waiver.id).state == "active"
    gate = _validation(team)
    assert gate.state == "met" and f"waived rule(s): {failing}" in gate.reason and "carol and dave" in gate.reason
    workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment="ok with the waiver")
    assert workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT).moved
    statement = next(s for s in attestations(team.admin, name=NAME, version="1.0.0")
                     if s.predicate_type == PROMOTION_PREDICATE)
    rows = _statement(team, statement.digest)["predicate"]
    assert rows["verdict"]["passed"] is False and failing in rows["verdict"]["rules"]
    assert [(w["rule"], w["requestedBy"], w["confirmedBy"]) for w in rows["waivers"]] == [(failing, "carol", "dave")]
    assert [e.action for e in team.admin.audit_log(action="waiver.confirm")] == ["waiver.confirm"]
    assert team.admin.verify_audit().ok


def _statement(team, digest):
    engine = create_engine(team.url)
    try:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT statement FROM attestations WHERE digest = :d"), {"d": digest}).scalar_one()
    finally:
        engine.dispose()
    return json.loads(value)


def test_an_expired_or_revoked_waiver_stops_counting_and_says_so(team, failing):
    waiver = request_waiver(team("carol"), name=NAME, version="1.0.0", rule=failing, reason="pilot", expires=LATER)
    confirm_waiver(team("dave"), waiver_id=waiver.id)
    assert _validation(team).state == "met"
    engine = create_engine(team.url)  # the calendar moves on
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE waivers SET expires_at = :t WHERE id = :i"),
                               {"t": "2020-01-01 00:00:00+00:00", "i": waiver.id})
    finally:
        engine.dispose()
    gate = _validation(team)
    assert gate.state == "not met" and f"the waiver of {failing} expired on 2020-01-01" in gate.reason
    assert [w.state for w in list_waivers(team.admin, name=NAME, version="1.0.0")] == ["expired"]
    second = request_waiver(team("dave"), name=NAME, version="1.0.0", rule=failing, reason="extended", expires=LATER)
    confirm_waiver(team("carol"), waiver_id=second.id)
    assert _validation(team).state == "met"
    assert revoke_waiver(team("carol"), waiver_id=second.id, reason="pilot over").state == "revoked"
    assert _validation(team).state == "not met"


def test_signature_rules_past_dates_and_non_approvers_are_refused(team, failing):
    with pytest.raises(WorkflowRefused, match="never be waived"):
        request_waiver(team("carol"), name=NAME, version="1.0.0", rule="MG801", reason="x", expires=LATER)
    with pytest.raises(WorkflowRefused, match="forbids waiving MG224"):  # unsafe serialisation, by default
        request_waiver(team("carol"), name=NAME, version="1.0.0", rule="MG224", reason="x", expires=LATER)
    with pytest.raises(UsageError, match="has passed"):
        request_waiver(team("carol"), name=NAME, version="1.0.0", rule=failing, reason="x",
                       expires=date.today() - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        request_waiver(team("bob"), name=NAME, version="1.0.0", rule=failing, reason="x", expires=LATER)
    assert list_waivers(team.admin, name=NAME, version="1.0.0") == []


def test_waivers_appear_in_the_technical_documentation(team, failing, tmp_path):
    from modelgate.core.cli.documentation_output import write_documentation
    from modelgate.core.evidence import collect
    from tests.evidence_support import Parts

    waiver = request_waiver(team("carol"), name=NAME, version="1.0.0", rule=failing, reason="pilot only",
                            expires=LATER)
    confirm_waiver(team("dave"), waiver_id=waiver.id)
    pack = collect(team.admin, name=NAME, version="1.0.0")
    out = tmp_path / "annex.html"
    write_documentation(team.admin, pack, template="eu-ai-act-annex-iv", path=out, format="html")
    text = " ".join(Parts(out.read_text()).text)
    assert f"{failing} active until {LATER:%Y-%m-%d}: pilot only (requested by carol, confirmed by dave)" in text


def test_a_waiver_stops_counting_once_the_policy_forbids_its_rule(team, failing, tmp_path):
    from tests.factory import policy_file

    waiver = request_waiver(team("carol"), name=NAME, version="1.0.0", rule=failing, reason="pilot", expires=LATER)
    confirm_waiver(team("dave"), waiver_id=waiver.id)
    assert _validation(team).state == "met"
    stricter = load_policy(policy_file(tmp_path, lambda d: d["waivers"].update(forbidden_rules=[failing])))
    gates = workflow.gates(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=stricter)
    gate = next(g for g in gates if g.name == "validation")
    assert gate.state == "not met" and f"the waiver of {failing} does not count" in gate.reason


def test_the_auditor_report_shows_a_waived_finding_and_an_expired_waiver(team, failing):
    from modelgate.core.evidence import collect
    from modelgate.core.evidence.html import render_html

    waiver = request_waiver(team("carol"), name=NAME, version="1.0.0", rule=failing, reason="pilot only",
                            expires=LATER)
    confirm_waiver(team("dave"), waiver_id=waiver.id)
    pack = collect(team.admin, name=NAME, version="1.0.0")
    entries = [f for run in pack.validations for f in run.findings if f.rule == failing]
    assert entries and all(f.waiver == f"waived until {LATER:%Y-%m-%d} by carol and dave: pilot only" for f in entries)
    assert f"Waiver: waived until {LATER:%Y-%m-%d} by carol and dave: pilot only" in render_html(pack)
    engine = create_engine(team.url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE waivers SET expires_at = :t WHERE id = :i"),
                               {"t": "2020-01-01 00:00:00+00:00", "i": waiver.id})
    finally:
        engine.dispose()
    html = render_html(collect(team.admin, name=NAME, version="1.0.0"))
    assert "Waiver: the waiver expired on 2020-01-01 and no longer counts" in html and "Waiver: waived" not in html
