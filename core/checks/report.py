"""The result of a validation run, and its JSON form (``modelgate.report/v1``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from modelgate.core import __version__
from modelgate.core.findings import Finding, Location, Severity, Waived

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
        """How many findings of ``severity`` count: a waived finding is shown but not counted."""
        return sum(1 for f in self.findings if f.severity is severity and f.waived is None)

    @property
    def waived(self) -> int:
        """How many findings a valid waiver excuses."""
        return sum(1 for f in self.findings if f.waived is not None)

    @property
    def passed(self) -> bool:
        """True when no finding is an error: the bundle meets the policy for the stage."""
        return self.count(Severity.ERROR) == 0

    @property
    def verdict(self) -> str:
        """One line for a terminal or a CI log."""
        counts = (f"{self.count(Severity.ERROR)} error(s), {self.count(Severity.WARNING)} warning(s), "
                  f"{self.count(Severity.INFO)} info" + (f", {self.waived} waived" if self.waived else ""))
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
                "waived": self.waived,
            },
            "findings": [f.as_dict() for f in self.findings],
            "promotion_gates": list(self.promotion_gates),
            "timings": [{"check": name, "seconds": round(sec, 4)} for name, sec in self.timings],
        }


def with_waivers(report: Report, *, waivers, policy=None, now: datetime | None = None) -> Report:
    """``report`` with every finding of a rule under a valid waiver marked ``waived`` (shown,
    no longer counted), and one info finding for each waiver of a fired rule that does not
    count: expired (at ``now``, default this moment) or of a rule ``policy`` forbids waiving.

    ``waivers`` are the version's confirmed, unrevoked :class:`~modelgate.core.findings.Waived`
    terms; a revoked or unconfirmed waiver is never passed in, so it is not mentioned.
    """
    now = now or datetime.now(timezone.utc)
    fired = {f.rule for f in report.findings}
    forbidden = {w.rule: policy.waiver_forbidden(w.rule) for w in waivers} if policy is not None else {}
    valid: dict[str, Waived] = {}
    for waiver in waivers:
        if waiver.rule in fired and not forbidden.get(waiver.rule) and waiver.expires > now:
            valid.setdefault(waiver.rule, waiver)
    lapsed: dict[str, Finding] = {}
    for waiver in waivers:
        if waiver.rule not in fired or waiver.rule in valid:
            continue
        if forbidden.get(waiver.rule):
            text = (f"the waiver of {waiver.rule} does not count: policy {report.policy_name} forbids "
                    f"waiving it ({forbidden[waiver.rule]})")
        else:
            text = f"the waiver for {waiver.rule} expired on {waiver.expires:%Y-%m-%d} and no longer counts"
        lapsed[waiver.rule] = Finding(waiver.rule, Severity.INFO, text, Location(),
                                      "Fix the cause, or have a new waiver requested and confirmed.")
    findings = tuple(replace(f, waived=valid[f.rule]) if f.rule in valid else f for f in report.findings)
    return replace(report, findings=findings + tuple(lapsed.values()))
