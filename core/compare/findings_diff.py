"""Which findings only one of two validation reports has.

Two versions of a model rarely produce findings with the same words: messages name
the version, its digests and its numbers. A finding is therefore matched by its rule,
its file and manifest path, and its message with what is version-specific taken out
(each side's ``name@version``, name and version, hexadecimal digests and numbers).
Matching counts: when ``a`` has a finding twice and ``b`` once, one of ``a``'s is
its own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modelgate.core.findings import Finding, Location, Severity

_HEX = re.compile(r"\b[0-9a-f]{12,}\b", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?%?", re.IGNORECASE)


@dataclass(frozen=True)
class FindingsDiff:
    """The findings only ``a`` has, those only ``b`` has, and how many they share."""

    only_in_a: tuple[Finding, ...]
    only_in_b: tuple[Finding, ...]
    in_both: int


def finding_key(finding: Finding, *, specific: Sequence[str] = ()) -> tuple:
    """What identifies ``finding`` across versions; ``specific`` are texts to take out of its
    message first (names, versions, ``name@version``), longest first."""
    text = finding.message
    for word in sorted(filter(None, specific), key=len, reverse=True):
        text = text.replace(word, "…")
    text = _NUMBER.sub("#", _HEX.sub("<digest>", text))
    location = finding.location
    return finding.rule, location.file, location.path, " ".join(text.split())


def diff_findings(a: Iterable[Finding], b: Iterable[Finding], *, specific: Sequence[str] = ()) -> FindingsDiff:
    """Split the findings of ``a`` and ``b`` into their own and the shared (see the module doc)."""
    a, b = list(a), list(b)
    left = Counter(finding_key(f, specific=specific) for f in a)
    right = Counter(finding_key(f, specific=specific) for f in b)
    shared = left & right

    def own(findings: list[Finding], taken: Counter) -> tuple[Finding, ...]:
        kept = []
        for finding in findings:
            key = finding_key(finding, specific=specific)
            if taken[key] > 0:
                taken[key] -= 1
            else:
                kept.append(finding)
        return tuple(sorted(kept, key=lambda f: (f.severity.rank, f.rule)))

    return FindingsDiff(own(a, Counter(shared)), own(b, Counter(shared)), sum(shared.values()))


def findings_of_report(data: dict) -> tuple[Finding, ...]:
    """The findings of a report in its JSON form (``modelgate.report/v1``, as stored runs keep it)."""
    found = []
    items = data.get("findings") if isinstance(data, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("rule"), str):
            continue
        where = item.get("location") if isinstance(item.get("location"), dict) else {}
        try:
            severity = Severity(item.get("severity"))
        except ValueError:
            continue
        found.append(Finding(item["rule"], severity, str(item.get("message") or ""),
                             Location(str(where.get("file") or "bundle.yaml"), where.get("path"), where.get("line"),
                                      where.get("column")),
                             item.get("hint")))
    return tuple(found)
