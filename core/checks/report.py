"""The result of a validation run, and its JSON form (``modelgate.report/v1``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelgate.core import __version__
from modelgate.core.findings import Finding, Severity

REPORT_FORMAT = "modelgate.report/v1"


@dataclass(frozen=True)
class BundleRef:
    source: str
    name: str | None
    version: str | None

    @property
    def label(self) -> str:
        if self.name and self.version:
            return f"{self.name}@{self.version}"
        return self.source


@dataclass(frozen=True)
class Report:
    """Findings of one run of the checks, with everything needed to reproduce it."""

    bundle: BundleRef
    stage: str
    policy_name: str
    policy_source: str
    policy_digest: str
    findings: tuple[Finding, ...]
    started_at: str
    duration_s: float
    timings: tuple[tuple[str, float], ...] = ()
    champion: BundleRef | None = None
    checks_run: tuple[str, ...] = field(default=())
    #: What the policy asks for this stage beyond the bundle, checked by `modelgate promote`.
    promotion_gates: tuple[str, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def passed(self) -> bool:
        """True when no finding is an error: the bundle meets the policy for the stage."""
        return self.count(Severity.ERROR) == 0

    @property
    def verdict(self) -> str:
        """One line for a terminal or a CI log."""
        counts = (f"{self.count(Severity.ERROR)} error(s), {self.count(Severity.WARNING)} warning(s), "
                  f"{self.count(Severity.INFO)} info")
        outcome = "PASSED" if self.passed else "FAILED"
        return f"{outcome}: {self.bundle.label} for {self.stage} under policy {self.policy_name}: {counts}"

    def as_dict(self) -> dict:
        """The documented JSON report (see resources/report.schema.json)."""
        ref = lambda r: None if r is None else {"source": r.source, "name": r.name, "version": r.version}  # noqa: E731
        return {
            "format": REPORT_FORMAT,
            "tool": {"name": "modelgate", "version": __version__},
            "bundle": ref(self.bundle),
            "champion": ref(self.champion),
            "stage": self.stage,
            "policy": {"name": self.policy_name, "source": self.policy_source, "sha256": self.policy_digest},
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 4),
            "summary": {
                "passed": self.passed,
                "errors": self.count(Severity.ERROR),
                "warnings": self.count(Severity.WARNING),
                "info": self.count(Severity.INFO),
            },
            "findings": [f.as_dict() for f in self.findings],
            "promotion_gates": list(self.promotion_gates),
            "timings": [{"check": name, "seconds": round(sec, 4)} for name, sec in self.timings],
        }
