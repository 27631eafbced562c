"""MG4xx: the license expression, the policy's lists, license texts and dataset licenses."""

from __future__ import annotations

import shutil

import pytest

from modelgate.core.findings import Severity
from modelgate.core.policy.document import load_policy
from tests.factory import findings, policy_file, edit_manifest, rules_of, validate

MG4 = {f"MG40{n}" for n in range(1, 10)}
MIT_TEXT = ("MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining "
            "a copy of this software...\n")


@pytest.fixture
def bundle(template, tmp_path):
    """A copy of the clean bundle with ``change(manifest)`` applied."""
    def make(change=None):
        root = shutil.copytree(template, tmp_path / "b")
        if change is not None:
            edit_manifest(root, change)
        return root
    return make


@pytest.fixture(scope="module")
def default_policy():
    return load_policy()


@pytest.fixture
def check(default_policy):
    """Validate at draft (licenses are checked at every stage) under the default or a given policy."""
    return lambda root, policy=None: validate(root, stage="draft", policy=policy or default_policy)


def set_license(text):
    return lambda m: m.update(license=text)


def set_dataset_license(text):
    def change(manifest):
        if text is None:
            manifest["provenance"]["datasets"][0].pop("license")
        else:
            manifest["provenance"]["datasets"][0]["license"] = text
    return change


def test_clean_bundle_has_no_license_findings(bundle, check):
    assert not rules_of(check(bundle())) & MG4


# MG401 ---------------------------------------------------------------------------------

def test_free_form_license_is_invalid_with_a_suggestion(bundle, check):
    [finding] = findings(check(bundle(set_license("Apache 2"))), "MG401")
    assert finding.severity is Severity.ERROR
    assert finding.message == ("license 'Apache 2' is not a valid SPDX expression: "
                               "unknown license id 'Apache 2'")
    assert finding.location.path == "license"
    assert finding.hint.startswith("Did you mean Apache-2.0?")


def test_broken_syntax_is_invalid(bundle, check):
    [finding] = findings(check(bundle(set_license("MIT OR (Apache-2.0"))), "MG401")
    assert finding.message.startswith("license 'MIT OR (Apache-2.0' is not a valid SPDX expression: ")


def test_valid_expressions_are_not_invalid(bundle, check):
    report = check(bundle(set_license("apache-2.0 OR (MIT AND LicenseRef-Acme)")))
    assert "MG401" not in rules_of(report)


# MG402 / MG403 -------------------------------------------------------------------------

def test_denied_license(bundle, check):
    [finding] = findings(check(bundle(set_license("GPL-3.0-only"))), "MG402")
    assert finding.message == "the model's license is GPL-3.0-only, which the policy denies"
    assert finding.location.path == "license"


def test_denied_license_that_and_cannot_avoid(bundle, check):
    [finding] = findings(check(bundle(set_license("Apache-2.0 AND AGPL-3.0-only"))), "MG402")
    assert "cannot avoid AGPL-3.0-only" in finding.message


def test_or_offers_an_allowed_choice(bundle, check):
    report = check(bundle(set_license("Apache-2.0 OR GPL-3.0-only")))
    assert not rules_of(report) & {"MG402", "MG403"}


def test_unreviewed_license_takes_the_policy_severity(bundle, tmp_path, check):
    root = bundle(set_license("CC-BY-SA-4.0"))
    [finding] = findings(check(root), "MG403")
    assert finding.severity is Severity.WARNING
    assert "CC-BY-SA-4.0, which is not reviewed by the policy" in finding.message
    strict = policy_file(tmp_path, lambda p: p["licenses"].update(unknown="error"))
    assert findings(check(root, strict), "MG403")[0].severity is Severity.ERROR
    lax = policy_file(tmp_path, lambda p: p["licenses"].update(unknown="info"))
    assert findings(check(root, lax), "MG403")[0].severity is Severity.INFO


def test_custom_license_asks_for_legal_review(bundle, check):
    [finding] = findings(check(bundle(set_license("LicenseRef-Acme-Model-Terms"))), "MG403")
    assert "custom license LicenseRef-Acme-Model-Terms" in finding.message
    assert "legal team review" in finding.hint


def test_custom_license_the_policy_allows(bundle, tmp_path, check):
    policy = policy_file(tmp_path,
                         lambda p: p["licenses"]["allow"].append("LicenseRef-Acme-Model-Terms"))
    report = check(bundle(set_license("LicenseRef-Acme-Model-Terms")), policy)
    assert not rules_of(report) & {"MG402", "MG403"}


# MG404 / MG405 -------------------------------------------------------------------------

def test_listed_license_file_missing(bundle, check):
    root = bundle(lambda m: m.update(license_files=["LICENSE", "licenses/weights.txt"]))
    [finding] = findings(check(root), "MG404")
    assert finding.message == "license file licenses/weights.txt is not in the bundle"
    assert finding.location.path == "license_files[1]"


def test_listed_license_path_that_is_a_folder(bundle, check):
    root = bundle(lambda m: m.update(license_files=["LICENSE", "model"]))
    [finding] = findings(check(root), "MG404")
    assert finding.message == "license file model is a folder"


def test_no_license_text_at_all(bundle, check):
    root = bundle(lambda m: m.pop("license_files"))
    (root / "LICENSE").unlink()
    [finding] = findings(check(root), "MG404")
    assert finding.message.startswith("the bundle holds no license text")


@pytest.mark.parametrize("name", ["LICENSE", "COPYING.txt", "License.md", "licenses/apache.txt"])
def test_conventional_license_files_count_without_license_files(bundle, name, check):
    root = bundle(lambda m: m.pop("license_files"))
    text = (root / "LICENSE").read_text(encoding="utf-8")
    (root / "LICENSE").unlink()
    (root / name).parent.mkdir(exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")
    assert not rules_of(check(root)) & {"MG404", "MG405", "MG406"}


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"),
    (b"  \n\n", "is empty"),
    (b"Apache License\x00\x01\x02", "holds binary data"),
    (b"Apache License \xe9t\xe9\n", "is not UTF-8 text (invalid byte 0xe9 at offset 15)"),
])
def test_unreadable_license_file(bundle, content, problem, check):
    root = bundle()
    (root / "LICENSE").write_bytes(content)
    [finding] = findings(check(root), "MG405")
    assert finding.message == f"license file LICENSE {problem}"
    assert finding.location.file == "LICENSE"
    assert finding.severity is Severity.WARNING


def test_escaping_license_path_is_refused_not_read(bundle, check):
    report = check(bundle(lambda m: m.update(license_files=["../../etc/passwd"])))
    assert "MG110" in rules_of(report)
    assert "MG100" not in rules_of(report)


# MG406 ---------------------------------------------------------------------------------

def test_license_text_of_another_license(bundle, check):
    root = bundle(set_license("MIT"))
    [finding] = findings(check(root), "MG406")
    assert "reads like MIT" in finding.message and 'permission is hereby granted' in finding.message
    assert finding.location.file == "LICENSE"


def test_license_text_matching_the_license(bundle, check):
    root = bundle(set_license("MIT"))
    (root / "LICENSE").write_text(MIT_TEXT, encoding="utf-8")
    assert "MG406" not in rules_of(check(root))


def test_dual_license_needs_both_texts(bundle, check):
    root = bundle(lambda m: m.update(license="Apache-2.0 OR MIT",
                                     license_files=["LICENSE", "licenses/MIT"]))
    (root / "licenses").mkdir()
    (root / "licenses" / "MIT").write_text(MIT_TEXT, encoding="utf-8")
    assert "MG406" not in rules_of(check(root))
    (root / "licenses" / "MIT").write_text("see the website\n", encoding="utf-8")
    [finding] = findings(check(root), "MG406")
    assert "reads like MIT" in finding.message and finding.location.path == "license"


# MG407-MG409 ---------------------------------------------------------------------------

def test_non_commercial_dataset_under_a_commercial_model(bundle, check):
    [finding] = findings(check(bundle(set_dataset_license("CC-BY-NC-2.0"))), "MG407")
    assert finding.message.startswith("model released under Apache-2.0 was trained on NC data")
    assert finding.location.path == "provenance.datasets[0].license"
    assert finding.severity is Severity.ERROR


def test_non_commercial_dataset_under_a_non_commercial_model(bundle, check):
    root = bundle(lambda m: (set_license("CC-BY-NC-2.0")(m), set_dataset_license("CC-BY-NC-2.0")(m)))
    assert "MG407" not in rules_of(check(root))


def test_denied_dataset_license_is_reported_once(bundle, check):
    report = check(bundle(set_dataset_license("CC-BY-NC-4.0")))
    [finding] = findings(report, "MG402")
    assert finding.message == "the license of dataset loans is CC-BY-NC-4.0, which the policy denies"
    assert "MG407" not in rules_of(report)


def test_share_alike_dataset_under_a_permissive_model(bundle, check):
    report = check(bundle(set_dataset_license("CC-BY-SA-4.0")))
    [finding] = findings(report, "MG408")
    assert finding.severity is Severity.WARNING
    assert "dataset loans is share-alike (CC-BY-SA-4.0)" in finding.message
    assert "MG403" in rules_of(report)


def test_share_alike_dataset_under_a_share_alike_model(bundle, check):
    root = bundle(lambda m: (set_license("CC-BY-SA-4.0")(m), set_dataset_license("CC-BY-SA-4.0")(m)))
    assert "MG408" not in rules_of(check(root))


def test_dataset_without_license(bundle, check):
    [finding] = findings(check(bundle(set_dataset_license(None))), "MG409")
    assert finding.message == "dataset loans has no license: the terms of its data are unknown"


def test_dataset_license_not_spdx(bundle, check):
    [finding] = findings(check(bundle(set_dataset_license("Creative Commons BY"))), "MG409")
    assert "not a valid SPDX expression" in finding.message
    assert finding.severity is Severity.WARNING


def test_allowed_dataset_license(bundle, check):
    report = check(bundle(set_dataset_license("CDLA-Permissive-2.0")))
    assert not rules_of(report) & MG4


@pytest.mark.parametrize("change", [
    lambda m: m.update(license=42),
    lambda m: m.update(license_files="LICENSE"),
    lambda m: m.update(license_files=[None, 3, "LICENSE"]),
    lambda m: m.update(provenance="none"),
    lambda m: m["provenance"].update(datasets={"name": "x"}),
    lambda m: m["provenance"].update(datasets=[1, None, {"license": 5},
                                               {"name": ["x"], "license": "MIT"}]),
])
def test_malformed_manifest_does_not_crash_the_checks(bundle, change, check):
    assert "MG100" not in rules_of(check(bundle(change)))
