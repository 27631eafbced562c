"""The rule catalogue: every rule's stable id, title, default severity, rationale and fix.

Check modules declare their rules with :func:`rule`; ``modelgate rules`` and
``modelgate explain`` read the catalogue, and reports embed its metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelgate.core.findings import Finding, Location, Severity

FAMILIES = {
    "MG1": "Structure and integrity",
    "MG2": "Model files and interface contract",
    "MG3": "Runtime targets and compatibility",
    "MG4": "Licenses",
    "MG5": "Model card and documentation",
    "MG6": "Benchmarks and promotion gates",
    "MG7": "Provenance",
    "MG8": "Signatures",
    "MG9": "Lifecycle",
}

_ID = re.compile(r"^MG[1-9][0-9]{2}$")
CATALOG: dict[str, Rule] = {}


@dataclass(frozen=True)
class Rule:
    """A rule's metadata; :meth:`finding` makes findings that carry its id and severity."""

    id: str
    title: str
    severity: Severity
    rationale: str
    fix: str

    @property
    def family(self) -> str:
        return FAMILIES[self.id[:3]]

    def finding(self, message: str, *, file: str = "bundle.yaml", path: str | None = None,
                line: int | None = None, hint: str | None = None,
                severity: Severity | None = None) -> Finding:
        return Finding(self.id, severity or self.severity, message,
                       Location(file=file, path=path, line=line), hint)

    def as_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "severity": self.severity.value,
                "family": self.family, "rationale": self.rationale, "fix": self.fix}


def rule(rule_id: str, *, title: str, severity: Severity, rationale: str, fix: str) -> Rule:
    """Declare a rule once; a duplicate or malformed id is a programming error."""
    if not _ID.match(rule_id):
        raise ValueError(f"malformed rule id {rule_id!r}")
    if rule_id in CATALOG:
        raise ValueError(f"rule {rule_id} declared twice")
    declared = Rule(rule_id, title, severity, " ".join(rationale.split()), " ".join(fix.split()))
    CATALOG[rule_id] = declared
    return declared
