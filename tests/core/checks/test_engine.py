"""The validation engine: module registry, policy overrides, crash containment, cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgate.core import checks
from modelgate.core.errors import OperationCancelled
from modelgate.core.findings import Severity
from modelgate.core.progress import Progress
from modelgate.core.checks.catalog import catalog
from tests.factory import make_bundle, policy_file, rules_of, validate

CHECKS_DIR = Path(checks.__file__).parent


def test_every_check_module_on_disk_is_run_by_the_engine():
    engine_parts = ("__init__", "context", "engine", "catalog", "report", "request")  # not checks
    on_disk = {p.stem for p in CHECKS_DIR.glob("*.py") if p.stem not in engine_parts}
    assert on_disk == set(checks.MODULES)


def test_every_rule_is_documented_and_in_its_family():
    for rule_id, rule in catalog().items():
        assert rule.title and len(rule.rationale) > 40 and rule.fix, rule_id
        assert rule.family


def test_policy_can_lower_a_severity_and_disable_a_rule(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    (bundle / "LICENSE").write_text("edited after locking")
    assert "MG109" in rules_of(validate(bundle), "error")
    lowered = policy_file(tmp_path, lambda d: d.setdefault("rules", {}).update({"MG109": {"severity": "info"}}))
    report = validate(bundle, policy=lowered)
    assert "MG109" in rules_of(report, "info") and "MG109" not in rules_of(report, "error")
    disabled = policy_file(tmp_path, lambda d: d.setdefault("rules", {}).update({"MG109": {"enabled": False}}))
    assert "MG109" not in rules_of(validate(bundle, policy=disabled))


def test_a_crashing_check_becomes_an_mg100_error_not_a_pass(tmp_path, monkeypatch):
    bundle = make_bundle(tmp_path / "b")
    boom = checks.Check("test.boom", lambda ctx: 1 / 0, True)
    monkeypatch.setattr(checks, "REGISTRY", [*checks.load_all(), boom])
    monkeypatch.setattr(checks, "load_all", lambda: checks.REGISTRY)
    from modelgate.core.checks import engine as validation
    monkeypatch.setattr(validation, "load_all", lambda: checks.REGISTRY)
    report = validate(bundle)
    crash = [f for f in report.findings if f.rule == "MG100"]
    assert not report.passed and crash and "ZeroDivisionError" in crash[0].message


def test_cancel_stops_a_run(tmp_path):
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.policy.document import load_policy
    from modelgate.core.checks.engine import validate_bundle
    from modelgate.core.checks.request import ValidationRequest

    bundle = make_bundle(tmp_path / "b")
    progress = Progress()
    progress.cancel()
    with open_bundle(bundle) as opened, pytest.raises(OperationCancelled):
        validate_bundle(request=ValidationRequest(bundle=opened, policy=load_policy(), stage="staging"),
                        progress=progress)


def test_progress_reports_hashing_then_checks(tmp_path):
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.policy.document import load_policy
    from modelgate.core.checks.engine import validate_bundle
    from modelgate.core.checks.request import ValidationRequest

    seen = []
    progress = Progress(callback=lambda label, done, total: seen.append((label, done, total)))
    with open_bundle(make_bundle(tmp_path / "b")) as opened:
        report = validate_bundle(request=ValidationRequest(bundle=opened, policy=load_policy(), stage="staging"),
                                 progress=progress)
    labels = [label for label, _, _ in seen]
    assert labels.index("hashing") < labels.index("checking")
    last = [entry for entry in seen if entry[0] == "checking"][-1]
    assert last[1] == last[2] == len(checks.load_all())
    assert report.passed and report.count(Severity.ERROR) == 0


def test_report_names_policy_digest_and_timings(tmp_path):
    report = validate(make_bundle(tmp_path / "b"), stage="candidate")
    assert len(report.policy_digest) == 64 and report.stage == "candidate"
    assert dict(report.timings)["hashing"] >= 0 and report.bundle.label == "tiny-classifier@1.0.0"
