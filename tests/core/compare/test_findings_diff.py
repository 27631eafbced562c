"""Matching findings of two versions: by rule and place, not by version-specific words."""

from __future__ import annotations

from modelgate.core.findings import Finding, Location, Severity
from modelgate.core.compare.findings_diff import diff_findings, finding_key, findings_of_report

SPECIFIC = ("credit-risk@1.1.0", "credit-risk@1.2.0", "credit-risk", "1.1.0", "1.2.0")


def finding(rule: str, message: str, *, severity: Severity = Severity.ERROR, file: str = "bundle.yaml",
            path: str | None = None) -> Finding:
    return Finding(rule, severity, message, Location(file, path))


def test_versions_digests_and_numbers_do_not_tell_findings_apart():
    old = finding("MG507", "MODEL_CARD.md gives version '1.0.0' but bundle.yaml says version '1.1.0'",
                  file="MODEL_CARD.md")
    new = finding("MG507", "MODEL_CARD.md gives version '1.0.0' but bundle.yaml says version '1.2.0'",
                  file="MODEL_CARD.md")
    assert finding_key(old, specific=SPECIFIC) == finding_key(new, specific=SPECIFIC)
    digest_a = finding("MG104", "model/m.onnx has sha256 " + "a" * 64, path="artifacts[0].sha256")
    digest_b = finding("MG104", "model/m.onnx has sha256 " + "b" * 64, path="artifacts[0].sha256")
    assert finding_key(digest_a) == finding_key(digest_b)
    floor_a = finding("MG606", "accuracy is 0.82; the staging floor is 0.85", path="results[0].value")
    floor_b = finding("MG606", "accuracy is 0.79; the staging floor is 0.85", path="results[0].value")
    assert finding_key(floor_a) == finding_key(floor_b)
    # Another place, another rule or other words are another finding.
    assert finding_key(floor_a) != finding_key(finding("MG606", floor_a.message, path="results[1].value"))
    assert finding_key(floor_a) != finding_key(finding("MG605", floor_a.message, path="results[0].value"))
    assert finding_key(floor_a) != finding_key(finding("MG606", "f1 is 0.82; the staging floor is 0.85",
                                                       path="results[0].value"))


def test_each_side_keeps_what_the_other_lacks_counting_repeats():
    shared = finding("MG609", "cannot compare latency on replay against the champion credit-risk@1.1.0",
                     severity=Severity.WARNING, path="benchmarks")
    shared_b = finding("MG609", "cannot compare latency on replay against the champion credit-risk@1.2.0",
                       severity=Severity.WARNING, path="benchmarks")
    fixed = finding("MG504", "MODEL_CARD.md has no Limitations section", file="MODEL_CARD.md")
    new = finding("MG402", "the model's license is CC-BY-NC-4.0, which the policy denies", path="license")
    note = finding("MG609", "f1 unchanged", severity=Severity.INFO)
    split = diff_findings([shared, shared, fixed], [note, new, shared_b], specific=SPECIFIC)
    assert split.in_both == 1
    assert split.only_in_a == (fixed, shared)            # errors first, then the unmatched repeat
    assert split.only_in_b == (new, note)


def test_findings_come_back_from_a_stored_report():
    from modelgate.core.checks.report import BundleRef, Report

    report = Report(BundleRef("x", "credit-risk", "1.2.0"), "staging", "demo", "policy.yaml", "0" * 64,
                    (finding("MG402", "denied", path="license"),
                     finding("MG509", "remote image", severity=Severity.WARNING, file="MODEL_CARD.md")),
                    "2026-01-01T00:00:00Z", 0.1)
    data = report.as_dict()
    assert findings_of_report(data) == report.findings
    data["findings"] += [{"rule": "MG1", "severity": "fatal"}, "junk", {"severity": "error"}]
    assert findings_of_report(data) == report.findings       # malformed entries are skipped
    assert findings_of_report({"findings": "nope"}) == () and findings_of_report(None) == ()
