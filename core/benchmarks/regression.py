"""Champion/challenger comparison of benchmark results, free of any check or report logic.

``modelgate validate --champion``, ``modelgate compare`` and the desktop app's
Benchmarks tab all use :func:`compare`, so the numbers a reviewer sees are the
numbers the gate used.

Semantics
---------
Results are paired by their key ``(dataset, split, metric, target)``. If a
bundle lists the same key twice, its first result is used (MG604 flags the
duplicate). The direction comes from the challenger's ``higher_is_better``; a
pair whose two directions disagree is not compared but listed in
:attr:`Comparison.direction_conflicts`, since one of the two files is wrong.

For each pair:

- ``absolute_delta = challenger - champion`` (signed, in the metric's units);
- ``relative_delta = absolute_delta / |champion|`` (``None`` when the champion's
  value is 0);
- ``regression`` is the *loss*: ``-absolute_delta`` when higher is better,
  ``absolute_delta`` when lower is better, so a positive number always means
  "worse"; ``relative_regression = regression / |champion|``.

A stage's ``regression`` policy gives the *largest allowed loss*:
``{default: {max_absolute, max_relative}, metrics: {NAME: {...}}}``; a
per-metric entry overrides the default key by key (see :func:`tolerance_for`).
This is MLflow's ``MetricThreshold`` turned around: its ``min_absolute_change``
requires ``challenger >= champion + min_absolute_change`` (higher is better), so
``max_absolute = a`` here means ``min_absolute_change = -a`` there, and likewise
for the relative limit. As in MLflow, every configured limit must hold on its
own: a loss beyond ANY of them fails (``max_absolute: 0.01, max_relative: 0.01``
on accuracy 0.50 fails at a loss of 0.006 because that is 1.2 %). Unlike MLflow,
relative changes divide by ``|champion|``, so the sign of a negative baseline
(a log-likelihood, say) cannot flip the verdict; and when the champion's value
is 0, where no ratio exists, any loss at all breaks a relative limit (MLflow's
fallback to a plain "not worse" comparison). Comparisons allow for floating
point noise: a loss of 0.010000000000000009 is within a limit of 0.01.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from modelgate.core.benchmarks.results import MetricKey


class ResultLike(Protocol):
    """What :func:`compare` needs of a result (:class:`modelgate.core.benchmarks.results.Result` fits)."""

    dataset: str
    split: str
    metric: str
    value: float
    target: str | None
    higher_is_better: bool


@dataclass(frozen=True)
class Tolerance:
    """The largest loss allowed against the champion; ``None`` means no such limit."""

    max_absolute: float | None = None
    max_relative: float | None = None

    @property
    def configured(self) -> bool:
        return self.max_absolute is not None or self.max_relative is not None

    def describe(self) -> str:
        """Human wording, e.g. ``"at most 0.01 absolute and 1% relative"``."""
        parts = []
        if self.max_absolute is not None:
            parts.append(f"{format_number(self.max_absolute)} absolute")
        if self.max_relative is not None:
            parts.append(f"{format_number(self.max_relative * 100)}% relative")
        return "at most " + " and ".join(parts) if parts else "no limit"


class Verdict(enum.Enum):
    """How the challenger fares on one metric."""

    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WITHIN_LIMITS = "within_limits"    # worse, but within every configured limit
    NO_LIMIT = "no_limit"              # worse, and no limit is configured for the metric
    EXCEEDS_LIMIT = "exceeds_limit"    # worse beyond at least one configured limit

    @property
    def words(self) -> str:
        """How a reviewer reads it: "better", "worse than allowed"..."""
        return {"improved": "better", "unchanged": "unchanged", "within_limits": "worse, within the limits",
                "no_limit": "worse, no limit set", "exceeds_limit": "worse than allowed"}[self.value]


@dataclass(frozen=True)
class MetricComparison(MetricKey):
    """One metric on one dataset/split/target: both values, the deltas, the limits, the verdict."""

    dataset: str
    split: str
    metric: str
    target: str | None
    champion: float
    challenger: float
    higher_is_better: bool
    absolute_delta: float
    relative_delta: float | None
    regression: float
    relative_regression: float | None
    tolerance: Tolerance
    verdict: Verdict
    exceeded: tuple[str, ...] = ()   # names of the broken limits: "max_absolute", "max_relative"

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.EXCEEDS_LIMIT

    def describe_change(self) -> str:
        """E.g. ``"0.91 -> 0.89 (-0.02, -2.2%)"``."""
        change = f"{format_number(self.champion)} -> {format_number(self.challenger)} " \
                 f"({self.absolute_delta:+.6g}"
        if self.relative_delta is not None:
            change += f", {self.relative_delta * 100:+.3g}%"
        return change + ")"


@dataclass(frozen=True)
class Comparison:
    """Every paired metric, and the results that could not be paired."""

    metrics: tuple[MetricComparison, ...]
    champion_only: tuple[ResultLike, ...]      # the challenger lacks these: cannot compare
    challenger_only: tuple[ResultLike, ...]    # new results, nothing to compare with
    direction_conflicts: tuple[tuple[ResultLike, ResultLike], ...]  # (challenger, champion)

    @property
    def failures(self) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.failed)

    @property
    def passed(self) -> bool:
        """True when no metric regressed beyond a configured limit."""
        return not self.failures


def format_number(value: float) -> str:
    """A compact rendering of a metric value or limit (six significant digits)."""
    return f"{value:.6g}"


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range is no usable limit
        return None
    return number if math.isfinite(number) else None


def tolerance_for(regression: Mapping | None, metric: str) -> Tolerance:
    """The limits for ``metric`` from a stage's ``regression`` policy.

    ``metrics[metric]`` overrides ``default`` key by key: with ``default:
    {max_absolute: 0.01, max_relative: 0.01}`` and ``metrics: {accuracy:
    {max_absolute: 0.005}}``, accuracy may lose 0.005 absolute and 1 % relative.
    Malformed entries are ignored.
    """
    if not isinstance(regression, Mapping):
        return Tolerance()
    merged: dict = {}
    default = regression.get("default")
    if isinstance(default, Mapping):
        merged.update(default)
    overrides = regression.get("metrics")
    if isinstance(overrides, Mapping) and isinstance(overrides.get(metric), Mapping):
        merged.update(overrides[metric])
    return Tolerance(_number(merged.get("max_absolute")), _number(merged.get("max_relative")))


def _beyond(loss: float, limit: float) -> bool:
    return loss > limit and not math.isclose(loss, limit, rel_tol=1e-9, abs_tol=1e-12)


def compare_values(champion: float, challenger: float, *, higher_is_better: bool,
                   tolerance: Tolerance = Tolerance(), dataset: str = "", split: str = "",
                   metric: str = "", target: str | None = None) -> MetricComparison:
    """Compare one challenger value with the champion's under ``tolerance``."""
    delta = challenger - champion
    scale = abs(champion)
    relative = delta / scale if scale else None
    loss = -delta if higher_is_better else delta
    relative_loss = loss / scale if scale else None
    exceeded = []
    if math.isclose(challenger, champion, rel_tol=1e-9, abs_tol=1e-12):
        verdict = Verdict.UNCHANGED
    elif loss < 0:
        verdict = Verdict.IMPROVED
    elif not tolerance.configured:
        verdict = Verdict.NO_LIMIT
    else:
        if tolerance.max_absolute is not None and _beyond(loss, tolerance.max_absolute):
            exceeded.append("max_absolute")
        if tolerance.max_relative is not None and (
                relative_loss is None or _beyond(relative_loss, tolerance.max_relative)):
            exceeded.append("max_relative")
        verdict = Verdict.EXCEEDS_LIMIT if exceeded else Verdict.WITHIN_LIMITS
    return MetricComparison(dataset, split, metric, target, champion, challenger, higher_is_better,
                            delta, relative, loss, relative_loss, tolerance, verdict, tuple(exceeded))


def _by_key(results: Iterable[ResultLike]) -> dict:
    first: dict = {}
    for result in results:
        first.setdefault((result.dataset, result.split, result.metric, result.target), result)
    return first


def compare(challenger: Iterable[ResultLike], champion: Iterable[ResultLike],
            regression: Mapping | None = None) -> Comparison:
    """Pair the two bundles' results by key and judge each pair (see the module docstring).

    ``regression`` is the stage's ``regression`` policy mapping, or ``None`` for
    "no limits" (every loss then gets :attr:`Verdict.NO_LIMIT`).
    """
    mine, theirs = _by_key(challenger), _by_key(champion)
    compared, conflicts = [], []
    for key, new in mine.items():
        old = theirs.get(key)
        if old is None:
            continue
        if bool(new.higher_is_better) != bool(old.higher_is_better):
            conflicts.append((new, old))
            continue
        compared.append(compare_values(
            old.value, new.value, higher_is_better=new.higher_is_better,
            tolerance=tolerance_for(regression, new.metric),
            dataset=new.dataset, split=new.split, metric=new.metric, target=new.target))
    return Comparison(
        metrics=tuple(compared),
        champion_only=tuple(r for k, r in theirs.items() if k not in mine),
        challenger_only=tuple(r for k, r in mine.items() if k not in theirs),
        direction_conflicts=tuple(conflicts),
    )
