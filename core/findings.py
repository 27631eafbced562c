"""Findings: what every check yields."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Severity(enum.Enum):
    """How much a finding matters. Only errors fail a gate."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Location:
    """Where a finding points: a file in the bundle and, optionally, a manifest path,
    a 1-based line and a 1-based column."""

    file: str = "bundle.yaml"
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line:
            text += f":{self.line}" + (f":{self.column}" if self.column else "")
        if self.path:
            text += f" ({self.path})"
        return text


@dataclass(frozen=True)
class Waived:
    """A confirmed waiver of one rule for one version, as a finding it covers carries it:
    ``approvers`` are who requested and who confirmed it, ``expires`` the last moment it counts."""

    rule: str
    reason: str
    approvers: tuple[str, ...]
    expires: datetime
    id: int | None = None

    def as_dict(self) -> dict:
        return {"reason": self.reason, "approvers": list(self.approvers), "expires": self.expires.isoformat(),
                "id": self.id}


@dataclass(frozen=True)
class Finding:
    """One result of one rule: ``rule`` is a stable id such as ``MG104``."""

    rule: str
    severity: Severity
    message: str
    location: Location = Location()
    hint: str | None = None
    #: How many alike findings this one stands for (see :func:`group_repeats`).
    count: int = 1
    #: The valid waiver that excuses this finding: shown, but it no longer fails a gate.
    waived: Waived | None = None

    def as_dict(self) -> dict:
        extra = {"count": self.count} if self.count > 1 else {}
        if self.waived is not None:
            extra["waived"] = self.waived.as_dict()
        return {**extra, 
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": {
                "file": self.location.file,
                "path": self.location.path,
                "line": self.location.line,
                **({"column": self.location.column} if self.location.column else {}),
            },
            "hint": self.hint,
        }


def manifest_path(parts) -> str:
    """Render a JSON path such as ``('artifacts', 0, 'sha256')`` as ``artifacts[0].sha256``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(root)"


def group_repeats(findings, *, keep: int, key=None) -> list[Finding]:
    """``findings`` with those beyond the first ``keep`` of one group counted in one finding.

    A group is one rule, one file and one severity (or what ``key`` returns).
    The order is kept; the counting finding takes the place of the first one it
    stands for, carries its rule, severity and file, and its ``count`` is how many
    findings it stands for (a finding already counting others adds its count).
    """
    key = key or (lambda f: (f.rule, f.location.file, f.severity))
    lines: dict = {}
    rest: dict = {}
    grouped: list = []
    for finding in findings:
        group = key(finding)
        if lines.get(group, 0) < keep:
            lines[group] = lines.get(group, 0) + 1
            grouped.append(finding)
        else:
            if group not in rest:
                rest[group] = []
                grouped.append(group)  # where the counting finding will stand
            rest[group].append(finding)
    return [item if isinstance(item, Finding) else _merged(rest[item]) for item in grouped]


def _merged(findings: list[Finding]) -> Finding:
    if len(findings) == 1:
        return findings[0]
    return counted(findings[0], sum(f.count for f in findings))


def counted(first: Finding, count: int) -> Finding:
    """One finding standing for ``count`` alike, ``first`` being the first of them."""
    message = first.message
    if first.count > 1:  # already a counting finding: name what it counted
        message = message.partition(" (the first: ")[2][:-1] or message
    return Finding(first.rule, first.severity,
                   f"… and {count:,} more like this (the first: {message})",
                   first.location, first.hint, count)
