"""The JSON report, format ``modelgate.report/v1`` (documented by resources/report.schema.json)."""

from __future__ import annotations

import json

from modelgate.core.reports import fired_rules


def as_document(report, *, rules: dict) -> dict:
    """``report.as_dict()`` plus ``rules``: the metadata of every rule that produced a finding.

    Embedding the rules makes the report self-explanatory for whoever reads it
    later, with whatever ModelGate version they have (or none).
    """
    document = report.as_dict()
    document["rules"] = [rule.as_dict() for rule in fired_rules(report, rules)]
    return document


def render(report, *, rules: dict) -> str:
    """The JSON report as indented text, ending in a newline.

    Non-ASCII is written as ``\\u`` escapes: file names from a bundle may hold
    undecodable bytes (lone surrogates) that no UTF-8 writer could encode.
    """
    return json.dumps(as_document(report, rules=rules), indent=2) + "\n"
