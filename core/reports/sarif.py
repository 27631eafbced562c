"""SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, Azure DevOps, IDE viewers).

One run; the driver lists every rule of the catalogue, each result points at a
file of the bundle relative to the ``BUNDLEROOT`` base, and a stable partial
fingerprint lets the UI track a finding across runs. The run's automation id names
the bundle's folder, so the reports of many bundles can be uploaded together.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path
from urllib.parse import quote

from modelgate.core import __version__
from modelgate.core.findings import Severity
from modelgate.core.reports import camel_case, waiver_note

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
BASE = "BUNDLEROOT"
SRCROOT = "SRCROOT"
FINGERPRINT = "modelgateFinding/v1"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _driver_rule(rule) -> dict:
    return {
        "id": rule.id,
        "name": camel_case(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": rule.fix,
                 "markdown": f"**{rule.id}: {rule.title}**\n\n{rule.rationale}\n\n**How to fix:** {rule.fix}"},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": [rule.family]},
    }


def _artifact(file: str, prefix: str | None) -> dict:
    """An artifactLocation for a bundle file.

    Code-scanning UIs resolve a relative URI against the repository root, so when
    the bundle folder lies under the working directory (CI runs from the checkout)
    the URI is relative to that directory; otherwise it is relative to the bundle.
    """
    posix = file.replace("\\", "/")
    if Path(file).is_absolute():
        return {"uri": Path(file).as_uri()}
    relative = posix.lstrip("/") or "."
    base = BASE
    if prefix is not None:
        relative, base = (f"{prefix}/{relative}" if prefix != "." else relative), SRCROOT
    # ':' is escaped too, so "C:x" cannot read as a URI scheme; undecodable bytes
    # in a file name (surrogate escapes) go back to the bytes they came from.
    return {"uri": quote(relative, safe="/", errors="surrogateescape"), "uriBaseId": base}


def prefix_under_cwd(source: str) -> str | None:
    """The bundle folder relative to the working directory, or None if it is not under it."""
    try:
        folder, cwd = Path(source).resolve(), Path.cwd().resolve()
        if folder.is_dir() and folder.is_relative_to(cwd):
            return folder.relative_to(cwd).as_posix() or "."
    except (OSError, ValueError):
        pass
    return None


def fingerprint(finding) -> str:
    """sha256 of rule, file, manifest path and message: stable while the problem stays the same."""
    parts = (finding.rule, finding.location.file, finding.location.path or "", finding.message)
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _result(finding, index: dict, prefix: str | None) -> dict:
    text = finding.message + (f" Hint: {finding.hint}" if finding.hint else "")
    physical: dict = {"artifactLocation": _artifact(finding.location.file, prefix)}
    if isinstance(finding.location.line, int) and finding.location.line >= 1:
        physical["region"] = {"startLine": finding.location.line}
        if isinstance(finding.location.column, int) and finding.location.column >= 1:
            physical["region"]["startColumn"] = finding.location.column
    location: dict = {"physicalLocation": physical}
    if finding.location.path:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.location.path, "kind": "member"}]
    result = {"ruleId": finding.rule}
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    result.update({
        "level": _LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: fingerprint(finding)},
    })
    if finding.waived is not None:
        # an accepted external suppression: viewers list the result as suppressed, with why
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": waiver_note(finding)}]
    return result


def automation_id(report, prefix: str | None) -> str:
    """The run's ``automationDetails.id``: ``modelgate/<bundle folder>/``.

    GitHub code scanning reads the id up to its last '/' as the analysis category and refuses
    an upload holding two runs of one tool in one category. With the bundle's folder (relative
    to the checkout) in the category, the reports of every bundle in a repository upload in
    one step, and each bundle's alerts are tracked on their own across versions.
    """
    where = prefix if prefix not in (None, ".") else (report.bundle.name or Path(report.bundle.source).name)
    return f"modelgate/{where or 'bundle'}/"


def _bundle_base(source: str) -> dict | None:
    """originalUriBaseIds entry for a bundle folder: a file URI ending in '/'."""
    try:
        folder = Path(source).resolve()
        if not folder.is_dir():
            return None
        uri = folder.as_uri()
    except (OSError, ValueError):
        return None
    return {"uri": uri if uri.endswith("/") else uri + "/"}


def _utc(started_at: str) -> str | None:
    try:
        moment = datetime.datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_document(report, *, rules: dict) -> dict:
    """The SARIF log as a dict."""
    catalogue = list(rules.values())
    index = {rule.id: position for position, rule in enumerate(catalogue)}
    prefix = prefix_under_cwd(report.bundle.source)
    invocation: dict = {"executionSuccessful": True}
    start = _utc(report.started_at)
    if start:
        invocation["startTimeUtc"] = start
    run: dict = {
        "tool": {"driver": {
            "name": "ModelGate",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": "https://modelgate.dev",
            "rules": [_driver_rule(rule) for rule in catalogue],
        }},
        "automationDetails": {"id": automation_id(report, prefix)},
        "invocations": [invocation],
        "results": [_result(finding, index, prefix) for finding in report.findings],
        "properties": {
            "bundle": report.bundle.label,
            "stage": report.stage,
            "policy": {"name": report.policy_name, "source": report.policy_source,
                       "sha256": report.policy_digest},
            "passed": report.passed,
            "verdict": report.verdict,
        },
    }
    base = _bundle_base(report.bundle.source)
    if base is not None:
        run["originalUriBaseIds"] = {BASE: base}
        if prefix is not None:
            run["originalUriBaseIds"][SRCROOT] = _bundle_base(str(Path.cwd()))
    if report.champion is not None:
        run["properties"]["champion"] = report.champion.label
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report, *, rules: dict) -> str:
    """The SARIF log as indented JSON text (ASCII-escaped, like the JSON report)."""
    return json.dumps(as_document(report, rules=rules), indent=2) + "\n"
