"""Findings: what every check yields."""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    """Where a finding points: a file in the bundle and, optionally, a manifest path."""

    file: str = "bundle.yaml"
    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line:
            text += f":{self.line}"
        if self.path:
            text += f" ({self.path})"
        return text


@dataclass(frozen=True)
class Finding:
    """One result of one rule: ``rule`` is a stable id such as ``MG104``."""

    rule: str
    severity: Severity
    message: str
    location: Location = Location()
    hint: str | None = None

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": {
                "file": self.location.file,
                "path": self.location.path,
                "line": self.location.line,
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
