"""What every benchmark shares: results, goals, timing, scratch folders and the table.

A benchmark module exposes ``NAME``, ``DESCRIPTION`` and ``run(args) -> list[Result]``.
It measures each case best-of-N in the same run as its reference tool, so the
ratios compare like with like on the machine at hand, and it states its goals
as ratio limits (:class:`Goal`) or, where no reference tool exists, as absolute
time limits (:class:`Seconds`) that the table marks PASS or FAIL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024


class Unavailable(Exception):
    """A benchmark cannot run here (a reference tool is missing); the runner exits 2."""


@dataclass(frozen=True)
class Goal:
    """``ratio <= limit``, where the ratio is our time over the reference's time."""

    limit: float
    label: str = ""
    applies: bool = True  # False: not checked on this machine (e.g. needs two cores)
    why_not: str = ""

    def status(self, ratio: float | None) -> str:
        if not self.applies:
            return "SKIP"
        if ratio is None:
            return "n/a"
        return "PASS" if ratio <= self.limit else "FAIL"

    def describe(self) -> str:
        text = f"<= {self.limit:.2f}x"
        return f"{text} ({self.label})" if self.label else text

    def check(self, result: Result) -> str:
        """PASS, FAIL, SKIP or n/a for ``result``."""
        return self.status(result.ratio)


@dataclass(frozen=True)
class Seconds(Goal):
    """``best time <= limit`` seconds: an absolute goal, for cases with no reference tool."""

    def check(self, result: Result) -> str:
        if not self.applies:
            return "SKIP"
        return "PASS" if result.best <= self.limit else "FAIL"

    def describe(self) -> str:
        text = f"<= {self.limit:g} s"
        return f"{text} ({self.label})" if self.label else text


@dataclass
class Result:
    """One measured case of one benchmark."""

    bench: str
    case: str
    runs: list[float]
    nbytes: int | None = None       # bytes processed per run, for throughput
    reference: str | None = None    # the case this one is compared with (time ratio)
    ratio: float | None = None      # filled in by :func:`compare`
    goals: tuple[Goal, ...] = ()
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def mib_per_s(self) -> float | None:
        if not self.nbytes or self.best <= 0:
            return None
        return self.nbytes / MIB / self.best

    @property
    def failed(self) -> bool:
        return any(goal.check(self) == "FAIL" for goal in self.goals)


def compare(results: list[Result]) -> list[Result]:
    """Fill in each result's ratio against its reference (same benchmark, by case name)."""
    by_case = {(r.bench, r.case): r for r in results}
    for result in results:
        if result.reference is not None:
            reference = by_case[(result.bench, result.reference)]
            result.ratio = result.best / reference.best
    return results


def best_of(function: Callable[[], object], *, repeat: int = 3) -> tuple[list[float], object]:
    """Run ``function`` ``repeat`` times; return every wall time and the last return value."""
    runs, value = [], None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        value = function()
        runs.append(time.perf_counter() - started)
    return runs, value


def interleaved(cases: dict[str, Callable[[], object]], *, repeat: int = 3) -> dict[str, tuple[list[float], object]]:
    """Time several cases round-robin (A B C, A B C, ...), ``repeat`` rounds.

    Interleaving spreads any background load over every case instead of
    penalising whichever ran while the machine was busy; the best run counts.
    Returns ``{case: (wall times, last return value)}``.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    values: dict[str, object] = {}
    for _ in range(max(1, repeat)):
        for name, function in cases.items():
            started = time.perf_counter()
            values[name] = function()
            times[name].append(time.perf_counter() - started)
    return {name: (times[name], values[name]) for name in cases}


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A private temporary folder, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix=f"modelgate-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def warm(paths: list[Path]) -> None:
    """Read files once so every measured run reads from the page cache."""
    buffer = bytearray(8 * MIB)
    for path in paths:
        with open(path, "rb", buffering=0) as handle:
            while handle.readinto(buffer):
                pass


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def busy_warning(cores: int) -> str | None:
    """A warning when other work keeps the cores busy (parallel timings would mislead)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    if load > 0.5 * cores:
        return (f"warning: load average {load:.1f} on {cores} core(s) before the run; "
                "other work competes for the cores, so parallel timings are pessimistic")
    return None


def table(results: list[Result]) -> str:
    """A plain-text table of results, ratios and goal verdicts."""
    header = ("benchmark", "case", "best s", "runs s", "MiB/s", "ratio", "goal", "status")
    rows = [header]
    referenced = {(r.bench, r.reference) for r in results if r.reference is not None}
    for r in results:
        runs = " ".join(f"{t:.3f}" for t in r.runs)
        speed = f"{r.mib_per_s:,.0f}" if r.mib_per_s is not None else "-"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ("(ref)" if (r.bench, r.case) in referenced else "-")
        goals = r.goals or (None,)
        for i, goal in enumerate(goals):
            first = i == 0
            rows.append((
                r.bench if first else "", r.case if first else "",
                f"{r.best:.3f}" if first else "", runs if first else "",
                speed if first else "", ratio if first else "",
                goal.describe() if goal else "", goal.check(r) if goal else "",
            ))
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.case}: {r.note}" for r in results if r.note]
    skipped = [f"  {r.case}: {g.describe()} not checked: {g.why_not}"
               for r in results for g in r.goals if not g.applies and g.why_not]
    if notes or skipped:
        lines.append("")
        lines.append("notes:")
        lines.extend(notes + skipped)
    return "\n".join(lines)
