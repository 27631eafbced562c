"""MG9xx: the deprecation plan — date, closeness, replacement."""

from __future__ import annotations

import datetime
import shutil

import pytest

from modelgate.core.checks import lifecycle
from tests.factory import findings, edit_manifest, rules_of, validate

TODAY = datetime.date(2026, 6, 1)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(lifecycle, "today", lambda: TODAY)


@pytest.fixture
def bundle(template, tmp_path):
    """A copy of the clean bundle with ``lifecycle.deprecation`` set to ``deprecation``."""
    def make(**deprecation):
        root = shutil.copytree(template, tmp_path / "b")
        if deprecation:
            edit_manifest(root, lambda m: m.update(lifecycle={"deprecation": deprecation}))
        return root
    return make


MG9 = {f"MG90{n}" for n in range(1, 6)}
LATER = "tiny-classifier@2.0.0"


@pytest.mark.parametrize("stage", ["draft", "candidate", "staging", "production", "deprecated"])
def test_clean_bundle_has_no_lifecycle_findings(bundle, stage):
    assert not rules_of(validate(bundle(), stage=stage)) & MG9


def test_distant_deprecation_with_replacement_is_clean(bundle):
    root = bundle(after="2027-01-31", replacement=LATER)
    assert not rules_of(validate(root, stage="production")) & MG9


# MG901 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("after", ["2026-02-30", "2026-13-01"])
def test_invalid_deprecation_date(bundle, after):
    [finding] = findings(validate(bundle(after=after, replacement=LATER), stage="candidate"), "MG901")
    assert finding.severity.value == "error" and after in finding.message


def test_deprecation_date_that_is_not_a_string(template, tmp_path):
    root = shutil.copytree(template, tmp_path / "b")
    edit_manifest(root, lambda m: m.update(lifecycle={"deprecation": {"after": 20270101}}))
    assert "MG901" in rules_of(validate(root, stage="candidate"), "error")


# MG902, MG903 --------------------------------------------------------------------------

@pytest.mark.parametrize("stage, severity", [("staging", "error"), ("production", "error"),
                                             ("draft", "warning"), ("candidate", "warning")])
def test_past_deprecation_date(bundle, stage, severity):
    root = bundle(after="2026-05-30", replacement=LATER)
    [finding] = findings(validate(root, stage=stage), "MG902")
    assert finding.severity.value == severity and "2 day(s) ago" in finding.message


@pytest.mark.parametrize("stage", ["deprecated", "archived"])
def test_past_deprecation_date_is_expected_when_retiring(bundle, stage):
    root = bundle(after="2026-05-30", replacement=LATER)
    assert not rules_of(validate(root, stage=stage)) & {"MG902", "MG903"}


def test_deprecation_day_itself_is_not_past(bundle):
    root = bundle(after=TODAY.isoformat(), replacement=LATER)
    report = validate(root, stage="production")
    assert "MG902" not in rules_of(report)
    [finding] = findings(report, "MG903")
    assert "in 0 day(s)" in finding.message


def test_deprecation_within_30_days_is_information(bundle):
    root = bundle(after="2026-07-01", replacement=LATER)
    [finding] = findings(validate(root, stage="production"), "MG903")
    assert finding.severity.value == "info" and "in 30 day(s)" in finding.message
    assert "MG903" not in rules_of(validate(root, stage="archived"))


def test_deprecation_beyond_30_days_is_not_reported(bundle):
    assert "MG903" not in rules_of(validate(bundle(after="2026-07-02", replacement=LATER)))


# MG904, MG905 --------------------------------------------------------------------------

def test_deprecation_without_replacement(bundle):
    [finding] = findings(validate(bundle(after="2027-01-31"), stage="candidate"), "MG904")
    assert finding.severity.value == "warning" and "somewhere to go" in finding.message


@pytest.mark.parametrize("replacement, severity, words", [
    ("tiny-classifier@1.0.0", "error", "this very version"),
    ("tiny-classifier@2.0", "error", "not a SemVer version"),
    ("tiny-classifier@0.9.0", "warning", "earlier than this version"),
])
def test_bad_replacement(bundle, replacement, severity, words):
    root = bundle(after="2027-01-31", replacement=replacement)
    [finding] = findings(validate(root, stage="candidate"), "MG905")
    assert finding.severity.value == severity and words in finding.message
    assert finding.location.path == "lifecycle.deprecation.replacement"


def test_replacement_by_another_model_is_fine(bundle):
    root = bundle(after="2027-01-31", replacement="loan-scorer@1.0.0")
    assert not rules_of(validate(root, stage="candidate")) & {"MG904", "MG905"}


def test_today_defaults_to_the_real_date(monkeypatch):
    monkeypatch.undo()
    assert lifecycle.today() == datetime.date.today()
