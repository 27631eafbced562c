"""JUnit XML: one test case per rule, so CI test dashboards show what the gate checked.

A rule with an error finding is a failed test case; a rule with only warnings
or info passes (warnings must not fail a pipeline) and lists them in
``<system-out>``; a rule without findings, or one the policy disabled, passes.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

from modelgate.core.findings import Severity
from modelgate.core.reports import printable, slug, waiver_note
from modelgate.core.reports.sarif import prefix_under_cwd

SUITE = "modelgate"


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: ElementTree escapes markup but writes control characters raw."""
    return printable(text)


def _timestamp(started_at: str) -> str | None:
    """JUnit's timestamp: ISO 8601 in UTC without an offset, as the common schema expects."""
    try:
        moment = datetime.datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _describe(finding) -> str:
    """One finding as an indented block, so multi-line messages stay readable in CI logs."""
    text = f"{finding.severity.value.upper()} {finding.location}: {finding.message}"
    if finding.hint:
        text += f"\nhint: {finding.hint}"
    if finding.waived is not None:
        text += f"\n{waiver_note(finding)}"
    return text.replace("\n", "\n  ")


def _file_for_ci(file: str, prefix: str | None) -> str:
    """A bundle file as CI names it: relative to the working directory (the checkout) when the
    bundle lies under it, else relative to the bundle."""
    posix = file.replace("\\", "/")
    return f"{prefix}/{posix}" if prefix not in (None, ".") else posix


def _cases(report, rules: dict) -> list[tuple[str, str, str, list]]:
    """(rule id, classname, name, findings) for every catalogue rule, then any unknown rule that fired."""
    by_rule: dict[str, list] = {}
    for finding in report.findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    cases = [(rule.id, f"{SUITE}.{slug(rule.family)}", f"{rule.id} {rule.title}", by_rule.get(rule.id, []))
             for rule in rules.values()]
    # A finding whose rule the catalogue lacks must still fail the build, never vanish.
    for rule_id in sorted(set(by_rule) - set(rules)):
        cases.append((rule_id, f"{SUITE}.unknown", rule_id, by_rule[rule_id]))
    return cases


def _fails(finding) -> bool:
    """An error no valid waiver excuses fails its test case; a waived one is listed as output."""
    return finding.severity is Severity.ERROR and finding.waived is None


def build(report, *, rules: dict) -> ET.Element:
    """The ``<testsuites>`` element holding one ``<testsuite name="modelgate">``."""
    cases = _cases(report, rules)
    prefix = prefix_under_cwd(report.bundle.source)
    failed = sum(1 for *_, found in cases if any(_fails(f) for f in found))
    counts = {"tests": str(len(cases)), "failures": str(failed), "errors": "0", "skipped": "0",
              "time": f"{report.duration_s:.3f}"}
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    stamp = _timestamp(report.started_at)
    if stamp:
        suite.set("timestamp", stamp)
    properties = ET.SubElement(suite, "properties")
    for name, value in (("bundle", report.bundle.label), ("bundle.source", report.bundle.source),
                        ("stage", report.stage), ("policy", report.policy_name),
                        ("policy.sha256", report.policy_digest), ("verdict", report.verdict)):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value or "")})
    for rule_id, classname, name, found in cases:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": _xml_text(name),
                                                 "time": "0"})
        errors = [f for f in found if _fails(f)]
        placed = next((f for f in errors if f.location.line), None)
        if placed is not None:  # CI annotations (e.g. GitHub's JUnit reporters) read these two
            case.set("file", _xml_text(_file_for_ci(placed.location.file, prefix)))
            case.set("line", str(placed.location.line))
        if errors:
            first = errors[0].message.splitlines()[0] if errors[0].message else ""
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            failure = ET.SubElement(case, "failure", {"message": _xml_text(first + more), "type": rule_id})
            failure.text = _xml_text("\n".join(_describe(f) for f in found))
        elif found:
            ET.SubElement(case, "system-out").text = _xml_text("\n".join(_describe(f) for f in found))
    return root


def render(report, *, rules: dict) -> str:
    """The JUnit XML document, with an XML declaration, as text."""
    root = build(report, rules=rules)
    ET.indent(root)
    # The declaration is constant; everything from the report goes through ElementTree.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
