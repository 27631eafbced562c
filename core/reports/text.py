"""The terminal report: findings grouped by severity, wrapped at 80 columns, verdict last."""

from __future__ import annotations

import textwrap

from modelgate.core.findings import Severity
from modelgate.core.reports import printable, short_digest, waiver_note

WIDTH = 80
_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "2"}
_HEADINGS = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}


def _paint(text: str, code: str, colour: bool) -> str:
    from modelgate.core.outputs import control  # let through by the CLI's escaping streams

    return control(f"\033[{code}m") + text + control("\033[0m") if colour else text


def _wrap(text: str, *, first: str, rest: str) -> list[str]:
    """Wrap ``text`` keeping its own line breaks; long words (digests, paths) stay whole."""
    lines: list[str] = []
    prefix = first
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(paragraph, width=WIDTH, initial_indent=prefix, subsequent_indent=rest,
                                break_long_words=False, break_on_hyphens=False)
        lines.extend(wrapped or [prefix.rstrip()])
        prefix = rest
    return lines


def header(report) -> str:
    """``ModelGate: NAME@VERSION · STAGE · policy P (sha256 prefix)``."""
    text = (f"ModelGate: {report.bundle.label} · {report.stage} · "
            f"policy {report.policy_name} ({short_digest(report.policy_digest)})")
    if report.champion is not None:
        text += f" · champion {report.champion.label}"
    return printable(text, keep_newlines=False)


def render(report, *, rules: dict, colour: bool = False) -> str:
    """The report as terminal text; ANSI colours only when ``colour`` is true.

    ``rules`` is accepted for a uniform renderer signature; the terminal view
    points to ``modelgate explain`` instead of printing rationales.
    """
    lines = _wrap(header(report), first="", rest="  ")
    lines.append("")
    if not report.findings:
        lines.append("No findings.")
    for severity in sorted(Severity, key=lambda s: s.rank):
        group = [f for f in report.findings if f.severity is severity]
        if not group:
            continue
        waived = sum(1 for f in group if f.waived is not None)
        lines.append(_paint(f"{_HEADINGS[severity]} ({len(group)}" + (f", {waived} waived" if waived else "") + ")",
                            "1", colour))
        for finding in group:
            mark = " [waived]" if finding.waived is not None else ""
            head = (f"{finding.rule} {severity.value}{mark} "
                    f"{printable(str(finding.location), keep_newlines=False)}: ")
            body = _wrap(head + printable(finding.message), first="  ", rest="    ")
            # a waived error is no longer a failure: it is not painted as one
            lines.extend(_paint(line, "2" if mark else _COLOURS[severity], colour) for line in body)
            if finding.hint:
                lines.extend(_wrap(printable(finding.hint), first="    hint: ", rest="          "))
            if mark:
                lines.extend(_wrap(printable(waiver_note(finding)), first="    ", rest="      "))
        lines.append("")
    if report.findings:  # findings come most severe first: explain the rule that matters most
        lines.append(f"Run `modelgate explain {report.findings[0].rule}` for what a rule checks "
                     "and how to fix it.")
        lines.append("")
    if report.promotion_gates:
        lines.extend(_wrap("Checked when promoting, not here: " + "; ".join(report.promotion_gates) + ".",
                           first="", rest="  "))
        lines.append("")
    verdict = printable(report.verdict, keep_newlines=False)
    lines.append(_paint(verdict, "32" if report.passed else "31;1", colour))
    return "\n".join(lines) + "\n"
