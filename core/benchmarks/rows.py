"""The numbers benchmark charts draw: each result beside the policy's gate for the stage and
the champion's value, judged by the core's own comparison. The desktop app's Benchmarks tab
and the auditor report (:mod:`modelgate.core.evidence`) both draw these rows."""

from __future__ import annotations

from dataclasses import dataclass

from modelgate.core.benchmarks.results import Result
from modelgate.core.benchmarks.regression import MetricComparison, Verdict, compare


def number(value: float | None) -> str:
    """A value as the tables show it: four significant digits, a dash for none."""
    return "—" if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class BenchmarkRow:
    """One result: its gate for the stage (floor/ceiling), the champion's value and the verdicts."""

    result: Result
    floor: float | None
    ceiling: float | None
    comparison: MetricComparison | None
    budget: float | None          # the target's latency budget from bundle.yaml, for latency results

    @property
    def is_latency(self) -> bool:
        return "latency" in self.result.metric.lower() or (self.result.unit or "").lower() == "ms"

    @property
    def label(self) -> str:
        return f"{self.result.metric} · {self.result.target}" if self.result.target else self.result.metric

    @property
    def value_text(self) -> str:
        """The value with its unit."""
        return number(self.result.value) + (f" {self.result.unit}" if self.result.unit else "")

    @property
    def gate_text(self) -> str:
        """The stage's gate, e.g. ``≥ 0.8`` or ``≤ 50``; a dash when there is none."""
        parts = [f"≥ {number(self.floor)}" if self.floor is not None else "",
                 f"≤ {number(self.ceiling)}" if self.ceiling is not None else ""]
        return " ".join(part for part in parts if part) or "—"

    @property
    def champion_text(self) -> str:
        return number(self.comparison.champion) if self.comparison else "—"

    @property
    def change_text(self) -> str:
        """The change from the champion, e.g. ``(-0.02, -2.2%)``; a dash without a champion."""
        return self.comparison.describe_change().split(" ", 3)[-1] if self.comparison else "—"

    @property
    def breaks_gate(self) -> bool:
        value = self.result.value
        return (self.floor is not None and value < self.floor) or (self.ceiling is not None and value > self.ceiling)

    @property
    def regressed(self) -> bool:
        return self.comparison is not None and self.comparison.verdict is Verdict.EXCEEDS_LIMIT

    def verdict(self, stage: str) -> str:
        """One phrase: how this result fares for ``stage``."""
        parts = []
        if self.floor is not None and self.result.value < self.floor:
            parts.append(f"below the {stage} floor")
        if self.ceiling is not None and self.result.value > self.ceiling:
            parts.append(f"above the {stage} ceiling")
        if self.comparison is not None:
            parts.append({Verdict.IMPROVED: "better than champion", Verdict.UNCHANGED: "same as champion",
                          Verdict.WITHIN_LIMITS: "worse, within limit",
                          Verdict.NO_LIMIT: "worse, no limit set",
                          Verdict.EXCEEDS_LIMIT: "regressed beyond limit"}[self.comparison.verdict])
        if not parts:
            parts.append("meets the gate" if self.floor is not None or self.ceiling is not None else "no gate")
        return "; ".join(parts)


def _gate(gates, result: Result) -> tuple[float | None, float | None]:
    floor = ceiling = None
    for gate in gates:
        if not gate.applies_to(metric=result.metric, dataset=result.dataset, split=result.split):
            continue
        low, high = gate.min, gate.max
        if low is not None:
            floor = low if floor is None else max(floor, low)
        if high is not None:
            ceiling = high if ceiling is None else min(ceiling, high)
    return floor, ceiling


def benchmark_rows(*, results, champion_results, policy, stage: str, targets) -> list[BenchmarkRow]:
    """Every result of the bundle, in file order, with its gate, champion comparison and budget.

    ``targets`` are the typed manifest's targets (:class:`~modelgate.core.bundle.manifest_types.Target`).
    """
    gates = policy.gates(stage)
    metric_gates = gates.metrics
    comparisons = {}
    if champion_results:
        outcome = compare(results, champion_results, gates.regression)
        comparisons = {item.key: item for item in outcome.metrics}
    budgets = {t.name: t.latency_p95_ms for t in targets if t.name is not None}
    rows = []
    for result in results:
        floor, ceiling = _gate(metric_gates, result)
        budget = budgets.get(result.target)
        rows.append(BenchmarkRow(result, floor, ceiling, comparisons.get(result.key),
                                 budget if isinstance(budget, (int, float)) else None))
    return rows
