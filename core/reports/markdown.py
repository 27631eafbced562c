"""Markdown for a CI job summary (GitHub's ``$GITHUB_STEP_SUMMARY``, GitLab notes, PR comments)."""

from __future__ import annotations

import re

from modelgate.core.findings import Severity
from modelgate.core.reports import fired_rules, printable, waiver_note

#: GitHub refuses a job summary over 1 MiB; a bundle with thousands of stray files
#: could produce that many findings, so the table stops here and says so.
MAX_ROWS = 500
_EMOJI = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
_MARKUP = re.compile(r"([\\`*_\[\]|~$])")


def inline(text: str) -> str:
    """Text safe inside a table cell or a heading: no HTML, no Markdown, no line break.

    Bundle content (file names, manifest values) reaches these messages, so it
    must not be able to inject markup, links or extra table columns.
    """
    text = printable(text or "").replace("\r\n", "\n")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKUP.sub(r"\\\1", text)
    return text.replace("\n", "<br>")


def prose(text: str) -> str:
    """The catalogue's own Markdown (rationale, fix): code spans kept, raw HTML neutralised."""
    return " ".join(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split())


def _title(report) -> str:
    mark = "✅" if report.passed else "❌"
    outcome = "passed" if report.passed else "failed"
    return f"## {mark} ModelGate {outcome}: {inline(report.bundle.label)} for {inline(report.stage)}"


def _location(finding) -> str:
    return inline(str(finding.location))


def _rule_details(rule) -> list[str]:
    return [
        "<details>",
        f"<summary><b>{rule.id}</b> {inline(rule.title)} ({inline(rule.family)})</summary>",
        "",
        prose(rule.rationale),
        "",
        f"**How to fix:** {prose(rule.fix)}",
        "",
        "</details>",
    ]


def render(report, *, rules: dict) -> str:
    """The job summary: title, verdict, counts, findings table, policy and the rules that fired."""
    lines = [_title(report), "", inline(report.verdict), ""]
    lines += [
        "| Errors | Warnings | Info |",
        "|---:|---:|---:|",
        f"| {report.count(Severity.ERROR)} | {report.count(Severity.WARNING)} | {report.count(Severity.INFO)} |",
        "",
    ]
    if report.findings:
        lines += ["| | Rule | Location | Message |", "|---|---|---|---|"]
        ordered = sorted(report.findings, key=lambda f: f.severity.rank)
        for finding in ordered[:MAX_ROWS]:
            message = inline(finding.message)
            if finding.hint:
                message += f"<br>*Hint:* {inline(finding.hint)}"
            if finding.waived is not None:
                message += f"<br>*Waived:* {inline(waiver_note(finding))}"
            mark = _EMOJI[finding.severity] + (" waived" if finding.waived is not None else "")
            lines.append(f"| {mark} | {inline(finding.rule)} | "
                         f"{_location(finding)} | {message} |")
        hidden = len(report.findings) - MAX_ROWS
        if hidden > 0:
            lines += ["", f"… and {hidden} more finding(s): see the JSON or SARIF report for all of them."]
        lines.append("")
    else:
        lines += ["No findings.", ""]
    policy = f"Policy **{inline(report.policy_name)}**, sha256 `{report.policy_digest}`"
    if report.champion is not None:
        policy += f"; compared with champion {inline(report.champion.label)}"
    lines += [policy + ".", ""]
    if report.promotion_gates:
        gates = "; ".join(inline(g) for g in report.promotion_gates)
        lines += [f"Checked when promoting, not here: {gates}.", ""]
    explained = fired_rules(report, rules)
    if explained:
        lines += ["### Rules that fired", ""]
        for rule in explained:
            lines += _rule_details(rule) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
