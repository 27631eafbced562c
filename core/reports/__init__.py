"""Rendering a validation :class:`~modelgate.core.checks.report.Report` for people and for CI.

``modelgate validate --format`` picks one of :data:`FORMATS`:

- ``text``: the terminal view (optionally coloured);
- ``json``: the documented ``modelgate.report/v1`` (resources/report.schema.json);
- ``junit``: JUnit XML, one test case per rule, for CI test dashboards;
- ``sarif``: SARIF 2.1.0, for code-scanning UIs;
- ``markdown``: a job summary (e.g. GitHub's ``$GITHUB_STEP_SUMMARY``).

Every renderer takes the rule catalogue (``modelgate.core.checks.catalog.catalog()``) so
reports can explain rules without importing the check modules themselves.
"""

from __future__ import annotations

import importlib
import re
import unicodedata

from modelgate.core.errors import UsageError

FORMATS = ("text", "json", "junit", "sarif", "markdown")

_MODULES = {
    "text": "text",
    "json": "json_report",
    "junit": "junit",
    "sarif": "sarif",
    "markdown": "markdown",
}


def render(report, *, format: str, rules: dict, colour: bool = False) -> str:  # noqa: A002
    """Render ``report`` in ``format`` (one of :data:`FORMATS`) and return the text.

    ``rules`` maps rule ids to :class:`~modelgate.core.rules.Rule`. ``colour`` only
    affects the text format. An unknown format raises :class:`UsageError`.
    """
    if format not in _MODULES:
        raise UsageError(f"unknown report format {format!r}",
                         hint=f"Formats are: {', '.join(FORMATS)}.")
    module = importlib.import_module(f"{__name__}.{_MODULES[format]}")
    if format == "text":
        return module.render(report, rules=rules, colour=colour)
    return module.render(report, rules=rules)


def short_digest(digest: str) -> str:
    """The first 12 hex digits of a sha256: enough to tell policies apart at a glance."""
    return (digest or "")[:12]


def slug(text: str) -> str:
    """``"ONNX model and interface contract"`` -> ``"onnx-model-and-interface-contract"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "rules"


def camel_case(text: str) -> str:
    """``"A file's digest does not match"`` -> ``"AFilesDigestDoesNotMatch"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.split(r"[^A-Za-z0-9]+", ascii_text.replace("'", ""))
    return "".join(w[:1].upper() + w[1:] for w in words if w) or "Rule"


def fired_rules(report, rules: dict) -> list:
    """The catalogue entries of the rules that produced at least one finding, by id."""
    ids = sorted({f.rule for f in report.findings})
    return [rules[rule_id] for rule_id in ids if rule_id in rules]


def waiver_note(finding) -> str | None:
    """``waived until DATE by A and B: REASON`` for a waived finding, ``None`` otherwise."""
    waived = finding.waived
    if waived is None:
        return None
    return (f"waived until {waived.expires:%Y-%m-%d} by {' and '.join(waived.approvers)}: "
            f"{waived.reason}")


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """Show control characters from a bundle as ``\\xNN`` instead of sending them raw.

    Messages quote file names and manifest values, which a hostile bundle
    controls; a raw ESC or NUL could rewrite a terminal or break an XML file.
    Which characters count is :func:`modelgate.core.outputs.unshowable`'s call.
    """
    from modelgate.core.outputs import unshowable

    out = []
    for char in text:
        code = ord(char)
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char == "\t":
            out.append(" ")
        elif code < 0x100 and unshowable(char):
            out.append(f"\\x{code:02x}")
        elif unshowable(char):  # bidi overrides and marks, line separators
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
