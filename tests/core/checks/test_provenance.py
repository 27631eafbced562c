"""MG7xx: provenance fields per stage, commit ids, datasets, parent, creation date."""

from __future__ import annotations

import datetime
import shutil

import pytest

from modelgate.core.checks import provenance
from tests.factory import findings, edit_manifest, rules_of, validate


@pytest.fixture
def bundle(template, tmp_path):
    """A copy of the clean bundle with ``change(provenance)`` applied to its manifest."""
    def make(change=None):
        root = shutil.copytree(template, tmp_path / "b")
        if change is not None:
            edit_manifest(root, lambda m: change(m["provenance"]))
        return root
    return make


MG7 = {f"MG70{n}" for n in range(1, 9)}


@pytest.mark.parametrize("stage", ["draft", "candidate", "staging", "production"])
def test_clean_bundle_has_no_provenance_findings(bundle, stage):
    assert not rules_of(validate(bundle(), stage=stage)) & MG7


# MG701 ---------------------------------------------------------------------------------

def test_required_fields_grow_with_the_stage(bundle):
    root = bundle(lambda p: p.pop("seed"))
    assert "MG701" not in rules_of(validate(root, stage="staging"))
    [finding] = findings(validate(root, stage="production"), "MG701")
    assert finding.message == "provenance.seed is missing; the production stage requires it"
    assert finding.location.path == "provenance.seed"


def test_missing_commit_at_candidate(bundle):
    root = bundle(lambda p: p["source"].pop("commit"))
    [finding] = findings(validate(root, stage="candidate"), "MG701")
    assert "provenance.source.commit is missing" in finding.message


def test_missing_fields_are_not_reported_where_not_required(bundle):
    root = bundle(lambda p: [p.pop(k) for k in ("training_run", "framework", "seed", "datasets")])
    assert "MG701" not in rules_of(validate(root, stage="candidate"))
    staging = {f.location.path for f in findings(validate(root, stage="staging"), "MG701")}
    assert staging == {"provenance.training_run", "provenance.framework", "provenance.datasets"}


def test_no_provenance_at_all(bundle, template, tmp_path):
    root = shutil.copytree(template, tmp_path / "bare")
    edit_manifest(root, lambda m: m.pop("provenance"))
    assert len(findings(validate(root, stage="production"), "MG701")) == 5


def test_empty_or_malformed_required_values(bundle):
    root = bundle(lambda p: p.update(datasets=[], seed="1234", training_run=" "))
    messages = {f.message for f in findings(validate(root, stage="production"), "MG701")}
    assert "provenance.datasets is empty; the production stage requires it" in messages
    assert "provenance.seed is '1234', not an integer; the production stage requires it" in messages
    assert "provenance.training_run is empty; the production stage requires it" in messages


# MG702 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("commit, severity, words", [
    ("0" * 40, "error", "placeholder"),
    ("3f2a9c1", "warning", "abbreviated"),
    ("3F2A9C1D5E7B8A6F4C3D2E1F0A9B8C7D6E5F4A3B", "error", "lower case"),
    ("main", "error", "does not look like a commit id"),
    ("3f2a9c1d5e7b8a6f4c3d2e1f0a9b8c7d6e5f4a3b0", "error", "has 41 hex characters"),
])
def test_commit_ids(bundle, commit, severity, words):
    root = bundle(lambda p: p["source"].update(commit=commit))
    [finding] = findings(validate(root, stage="candidate"), "MG702")
    assert finding.severity.value == severity and words in finding.message


def test_commit_problems_are_warnings_where_the_commit_is_not_required(bundle):
    root = bundle(lambda p: p["source"].update(commit="0" * 40))
    [finding] = findings(validate(root, stage="draft"), "MG702")
    assert finding.severity.value == "warning" and "placeholder" in finding.message


def test_sha256_commit_id_is_accepted(bundle):
    root = bundle(lambda p: p["source"].update(commit="ab" * 32))
    assert "MG702" not in rules_of(validate(root, stage="production"))


# MG703, MG704 --------------------------------------------------------------------------

def test_unpinned_dataset_is_an_error_where_datasets_are_required(bundle):
    root = bundle(lambda p: [p["datasets"][0].pop(k) for k in ("version", "sha256")])
    [finding] = findings(validate(root, stage="staging"), "MG703")
    assert finding.severity.value == "error"
    assert finding.message.startswith("dataset 'loans' records no version or sha256")
    [early] = findings(validate(root, stage="candidate"), "MG703")
    assert early.severity.value == "warning"


def test_duplicate_dataset(bundle):
    root = bundle(lambda p: p["datasets"].append(dict(p["datasets"][0])))
    [finding] = findings(validate(root, stage="candidate"), "MG704")
    assert finding.severity.value == "error" and "listed 2 times" in finding.message


def test_same_dataset_name_with_two_versions_is_a_warning(bundle):
    root = bundle(lambda p: p["datasets"].append(dict(p["datasets"][0], version="2025.1")))
    [finding] = findings(validate(root, stage="candidate"), "MG704")
    assert finding.severity.value == "warning" and "different versions" in finding.message


# MG705 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("repository", ["git@github.com:ml/tiny.git", "ssh://git@host/ml/tiny.git",
                                        "https://git.example.com/ml/tiny"])
def test_repository_addresses_accepted(bundle, repository):
    root = bundle(lambda p: p["source"].update(repository=repository))
    assert "MG705" not in rules_of(validate(root, stage="candidate"))


def test_repository_that_is_not_an_address(bundle):
    root = bundle(lambda p: p["source"].update(repository="the ML team's repo"))
    [finding] = findings(validate(root, stage="candidate"), "MG705")
    assert finding.severity.value == "warning"


# MG706 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("parent, severity, words", [
    ("tiny-classifier@1.0", "error", "not a SemVer version"),
    ("tiny-classifier@1.0.0", "error", "this very version"),
    ("tiny-classifier@2.0.0", "warning", "later than this version"),
    ("bert-base@1.2.0", "info", "another model"),
])
def test_parent(bundle, parent, severity, words):
    root = bundle(lambda p: p.update(parent=parent))
    [finding] = findings(validate(root, stage="candidate"), "MG706")
    assert finding.severity.value == severity and words in finding.message


def test_earlier_parent_of_the_same_model(bundle):
    root = bundle(lambda p: p.update(parent="tiny-classifier@0.9.0-rc.1"))
    assert "MG706" not in rules_of(validate(root, stage="candidate"))


def test_semver_precedence():
    from modelgate.core import semver
    keys = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
            "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0"]
    assert sorted(keys, key=semver.semver_key) == keys
    assert semver.semver_key("1.0") is None
    assert semver.split_reference("a@b@c") is None
    assert semver.parse_reference("m@1.2.3")[:2] == ("m", "1.2.3")
    with pytest.raises(ValueError, match="not a SemVer version"):
        semver.parse_reference("m@1.2")


# MG707 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("created", ["2026-02-30", "2026-11-01T25:00:00Z"])
def test_invalid_created_at(bundle, created):
    root = bundle(lambda p: p.update(created_at=created))
    [finding] = findings(validate(root, stage="candidate"), "MG707")
    assert finding.severity.value == "error"


def test_created_at_in_the_future(bundle, monkeypatch):
    monkeypatch.setattr(provenance, "now",
                        lambda: datetime.datetime(2026, 10, 1, tzinfo=datetime.timezone.utc))
    root = bundle(lambda p: p.update(created_at="2026-11-01T09:30:00Z"))
    [finding] = findings(validate(root, stage="candidate"), "MG707")
    assert finding.severity.value == "warning" and "in the future" in finding.message


def test_created_at_later_today_in_another_time_zone_is_fine(bundle, monkeypatch):
    monkeypatch.setattr(provenance, "now",
                        lambda: datetime.datetime(2026, 11, 1, 1, 0, tzinfo=datetime.timezone.utc))
    root = bundle(lambda p: p.update(created_at="2026-11-01T09:30:00+09:00"))
    assert "MG707" not in rules_of(validate(root, stage="candidate"))


# MG708 ---------------------------------------------------------------------------------

def test_template_placeholders(bundle):
    def starter(p):
        p["training_run"] = "replace-with-run-id"
        p["framework"]["name"] = "replace-with-framework"
        p["source"]["repository"] = "https://example.com/replace/with/training-code.git"
    root = bundle(starter)
    severities = {f.location.path: f.severity.value for f in findings(validate(root, stage="staging"), "MG708")}
    assert severities == {"provenance.training_run": "error", "provenance.framework.name": "error",
                          "provenance.source.repository": "warning"}
