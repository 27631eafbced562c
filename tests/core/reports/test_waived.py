"""Waived findings in every report format: shown as waived, not counted, and an expired or
forbidden waiver says why it no longer counts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from modelgate.core.checks.catalog import catalog
from modelgate.core.checks.report import with_waivers
from modelgate.core.findings import Waived
from modelgate.core.policy.document import load_policy
from modelgate.core.reports import render
from tests.factory import clean_manifest, make_bundle, policy_file, validate

pytestmark = pytest.mark.slow  # each test validates a real bundle

REPORT_SCHEMA = Path(__file__).resolve().parents[3] / "resources" / "report.schema.json"
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """A real run on a bundle under a denied license: errors of exactly one licence rule."""
    manifest = clean_manifest()
    manifest["license"] = "CC-BY-NC-4.0"
    report = validate(make_bundle(tmp_path_factory.mktemp("denied") / "bundle", manifest=manifest),
                      stage="candidate")
    rules = {f.rule for f in report.findings if f.severity.value == "error"}
    assert not report.passed and len(rules) == 1
    return report, rules.pop()


def _waiver(rule, *, days=30):
    return Waived(rule, "legal cleared the pilot", ("carol", "dave"), NOW + timedelta(days=days), 7)


def test_a_valid_waiver_marks_the_findings_and_the_run_passes(failing):
    report, rule = failing
    waived = with_waivers(report, waivers=(_waiver(rule),), policy=load_policy(), now=NOW)
    marked = [f for f in waived.findings if f.rule == rule]
    assert marked and all(f.waived is not None for f in marked)  # shown, not hidden
    assert len(waived.findings) == len(report.findings)
    assert waived.passed and waived.waived == len(marked)
    assert "waived" in waived.verdict and waived.count(marked[0].severity) == report.count(marked[0].severity) - len(marked)
    data = json.loads(render(waived, format="json", rules=catalog()))
    assert data["summary"]["waived"] == len(marked) and data["summary"]["passed"] is True
    entry = next(f for f in data["findings"] if f["rule"] == rule)
    assert entry["waived"] == {"reason": "legal cleared the pilot", "approvers": ["carol", "dave"],
                               "expires": (NOW + timedelta(days=30)).isoformat(), "id": 7}
    from jsonschema import Draft202012Validator

    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(data)) == []


def test_an_expired_waiver_stops_counting_and_says_so(failing):
    report, rule = failing
    waived = with_waivers(report, waivers=(_waiver(rule, days=-3),), policy=load_policy(), now=NOW)
    assert not waived.passed and waived.waived == 0
    notes = [f for f in waived.findings if "expired" in f.message]
    assert [(f.rule, f.severity.value, f.message) for f in notes] == [
        (rule, "info", f"the waiver for {rule} expired on {NOW - timedelta(days=3):%Y-%m-%d} and no longer counts")]


def test_a_waiver_of_a_rule_the_policy_forbids_does_not_count(failing, tmp_path):
    report, rule = failing
    policy = load_policy(policy_file(tmp_path, lambda d: d["waivers"].update(forbidden_rules=[rule[:3] + "*"])))
    waived = with_waivers(report, waivers=(_waiver(rule),), policy=policy, now=NOW)
    assert not waived.passed and waived.waived == 0
    assert any("forbids waiving" in f.message and f.rule == rule for f in waived.findings)


def test_a_waiver_of_a_rule_that_did_not_fire_changes_nothing(failing):
    report, rule = failing
    assert with_waivers(report, waivers=(_waiver("MG999"), _waiver("MG999", days=-1)), now=NOW) == report


def test_every_format_shows_the_waiver(failing):
    report, rule = failing
    rules = catalog()
    waived = with_waivers(report, waivers=(_waiver(rule),), policy=load_policy(), now=NOW)
    text = render(waived, format="text", rules=rules)
    assert f"{rule} error [waived]" in text and "waived until 2026-12-31 by carol and dave: legal cleared" in text
    assert text.rstrip().splitlines()[-1].startswith("PASSED")
    markdown = render(waived, format="markdown", rules=rules)
    assert "waived" in markdown and "legal cleared the pilot" in markdown
    suite = ET.fromstring(render(waived, format="junit", rules=rules)).find("testsuite")
    assert suite.get("failures") == "0"
    case = next(c for c in suite.iter("testcase") if c.get("name").startswith(rule))
    assert case.find("failure") is None and "legal cleared" in case.find("system-out").text
    sarif = json.loads(render(waived, format="sarif", rules=rules))
    results = sarif["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert suppressed and {r["ruleId"] for r in suppressed} == {rule}
    assert suppressed[0]["suppressions"] == [{"kind": "external", "status": "accepted",
                                              "justification": "waived until 2026-12-31 by carol and dave: "
                                                               "legal cleared the pilot"}]
    plain = json.loads(render(report, format="sarif", rules=rules))["runs"][0]["results"]
    assert not any("suppressions" in r for r in plain)
