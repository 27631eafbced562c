"""Findings only one of two stored versions has, both judged under one policy for one stage.

Each version is judged as its promotion gate would judge it: under the given policy
(the registry's policy in force), for the stage of the comparison, against its model's
production version (against nothing when it is that version). A stored validation run
with the same policy digest, stage and champion is reused; otherwise the stored bundle
is validated afresh by :func:`judge`, outside any transaction. Comparing records no run:
it writes nothing to the registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from modelgate.core.checks.request import RecordedSignatures
from modelgate.core.findings import Finding, Severity
from modelgate.core.compare.findings_diff import diff_findings, findings_of_report
from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress


@dataclass(frozen=True)
class Judgement:
    """One version's findings and where they come from: a stored run (``stored_run`` is its id)
    or a validation made for the comparison (``stored_run`` is ``None``)."""

    label: str
    champion: str | None          # name@version it was judged against
    stored_run: int | None
    run_at: datetime | None
    passed: bool
    findings: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def count_text(self) -> str:
        """E.g. ``"2 error(s), 0 warning(s), 3 info"``."""
        return (f"{self.count(Severity.ERROR)} error(s), {self.count(Severity.WARNING)} warning(s), "
                f"{self.count(Severity.INFO)} info")

    def describe(self) -> str:
        """E.g. ``"stored run 12 (2026-02-17 09:40 UTC)"`` or ``"validated now"``."""
        source = "validated now" if self.stored_run is None else f"stored run {self.stored_run}" + (
            f" ({self.run_at:%Y-%m-%d %H:%M} UTC)" if self.run_at else "")
        against = f", against the production version {self.champion}" if self.champion else ""
        return f"{source}{against}"

    def as_dict(self) -> dict:
        return {"label": self.label, "champion": self.champion, "stored_run": self.stored_run,
                "run_at": self.run_at.isoformat() if self.run_at else None, "passed": self.passed,
                "errors": self.count(Severity.ERROR), "warnings": self.count(Severity.WARNING),
                "info": self.count(Severity.INFO)}


@dataclass(frozen=True)
class PendingJudgement:
    """What :func:`judge` needs for one version: a stored judgement, or the stored bundle to
    validate and its champion's."""

    label: str
    path: Path
    champion: str | None
    champion_path: Path | None
    stored: Judgement | None
    recorded: RecordedSignatures  # the registry's record of the version's signatures


@dataclass(frozen=True)
class FindingsComparison:
    """The findings only ``a`` has (fixed or absent in ``b``) and only ``b`` has (new in ``b``)."""

    stage: str
    policy_name: str
    policy_digest: str
    a: Judgement
    b: Judgement
    only_in_a: tuple[Finding, ...]
    only_in_b: tuple[Finding, ...]
    in_both: int

    def as_dict(self) -> dict:
        return {"stage": self.stage, "policy": {"name": self.policy_name, "sha256": self.policy_digest},
                "a": self.a.as_dict(), "b": self.b.as_dict(), "in_both": self.in_both,
                "only_in_a": [f.as_dict() for f in self.only_in_a],
                "only_in_b": [f.as_dict() for f in self.only_in_b]}


def plan_judgement(session, store, row, *, label: str, stage: str, policy: Policy) -> PendingJudgement:
    """Inside a read transaction: find ``row``'s champion and a stored run that can be reused."""
    from modelgate.core.registry.gates import recorded_signatures, stored_run
    from modelgate.core.registry.queries import champion_of
    from modelgate.core.registry.models import as_utc

    champion = champion_of(session, model_id=row.model_id, besides=row.id)
    champion_label = f"{label.rsplit('@', 1)[0]}@{champion.version}" if champion is not None else None
    run = stored_run(session, row.id, stage, policy.digest, champion.digest if champion is not None else None)
    stored = None
    if run is not None:
        try:
            data = json.loads(run.report)
        except (TypeError, ValueError):
            data = None
        if isinstance(data, dict):
            stored = Judgement(label, champion_label, run.id, as_utc(run.created_at), bool(run.passed),
                               findings_of_report(data))
    return PendingJudgement(label, store.path_of(row.store_path),
                            champion_label, store.path_of(champion.store_path) if champion is not None else None,
                            stored, recorded_signatures(session, row, label=label))


def judge(pending: PendingJudgement, *, policy: Policy, stage: str, progress: Progress | None = None) -> Judgement:
    """The stored judgement, or a validation of the stored bundle made now (no database)."""
    if pending.stored is not None:
        return pending.stored
    from modelgate.core.registry.gates import run_validation

    report = run_validation(pending.path, policy=policy, stage=stage, recorded=pending.recorded,
                            champion=pending.champion_path, progress=progress)
    return Judgement(pending.label, pending.champion, None, None, report.passed, tuple(report.findings))


def compare_findings(a: PendingJudgement, b: PendingJudgement, *, policy: Policy, stage: str,
                     specific: tuple[str, ...], progress: Progress | None = None) -> FindingsComparison:
    """Judge both versions and split their findings (``specific``: see
    :func:`modelgate.core.compare.findings_diff.finding_key`)."""
    left = judge(a, policy=policy, stage=stage, progress=progress)
    right = judge(b, policy=policy, stage=stage, progress=progress)
    split = diff_findings(left.findings, right.findings, specific=specific)
    return FindingsComparison(stage, policy.name, policy.digest, left, right,
                              split.only_in_a, split.only_in_b, split.in_both)
