"""Benchmark charts centred on the decision, drawn on a matplotlib
:class:`~matplotlib.figure.Figure` (never pyplot, whose import alone costs a second).

One small panel per result: the champion's bar beside this version's, the loss the policy
allows against the champion shaded as a band, and the stage's floor or ceiling as a line.
Each panel's value axis spans the numbers that decide (both values, the band, a gate that
is near or broken), not 0 to the largest value: a one-point regression on an accuracy of
0.9 fills a panel instead of vanishing at its top. A result that fails its gate or regresses
beyond the allowed loss gets a marked panel (a cross in its title, a frame in the "bad" colour).

The desktop app's Benchmarks tab has them drawn in a worker process in the window's colours
(see :mod:`.picture`), and shows :attr:`Drawn.notes` (the exact numbers of the bar under the
cursor) on hover; the auditor report draws them with Agg on white paper. Nothing here imports
matplotlib: the caller hands in the figure, so drawing stays a function from rows to a figure.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

#: A bar that meets its gate, one that breaks it or regressed, the champion's bar, a budget.
GOOD, BAD, CHAMPION, BUDGET = "#2e7d32", "#c62828", "#1f6fd1", "#8a8a8a"
#: Panels side by side in a row of the grid, at most.
COLUMNS = 3
#: The entries of the legend below the panels.
LEGEND_ENTRIES = 5
#: The least width of a panel, in pixels: a narrower chart puts fewer panels in a row, so
#: their titles and bar labels never run into each other.
PANEL_WIDTH = 180
#: A gate further from the compared values than this many times their spread is left off
#: the axis (and named under the panel) so it cannot squash the difference that decides.
NEAR = 3.0
#: Room above and below the deciding values, as a share of their spread.
PAD = 0.35


@dataclass(frozen=True)
class ChartColours:
    """The background, text and grid colours (the window's, so charts read on light and dark
    themes alike; the defaults are for paper) and the good, bad, champion, doubtful and
    neutral inks."""

    background: str = "#ffffff"
    text: str = "#202020"
    grid: str = "#d0d0d0"
    good: str = GOOD
    bad: str = BAD
    champion: str = CHAMPION
    doubt: str = "#8a5300"
    muted: str = "#5c5f66"


@dataclass
class Drawn:
    """What :func:`draw_decisions` drew: the panels, and for each bar the text to show on hover."""

    panels: int = 0
    notes: list = field(default_factory=list)        # (matplotlib artist, text)
    failing: list = field(default_factory=list)      # the labels of the marked panels


def plain(text: str) -> str:
    """``text`` for a matplotlib label, shown as written: a ``$`` is escaped so a metric named
    ``$\\frac{a}{b}$`` is not parsed as mathtext (which can fail and stop the whole report)."""
    return str(text).replace("$", "\\$")


def number(value: float) -> str:
    return f"{value:.6g}"


def columns_for(width: float) -> int:
    """How many panels fit side by side in a chart ``width`` pixels wide (1 to :data:`COLUMNS`)."""
    return max(1, min(COLUMNS, int(width // PANEL_WIDTH)))


def grid_shape(count: int, *, columns: int = COLUMNS) -> tuple[int, int]:
    """(rows, columns) of the panel grid for ``count`` results."""
    if count <= 0:
        return 0, 0
    across = min(count, columns)
    return math.ceil(count / across), across


def allowed_loss(comparison) -> float | None:
    """The largest loss against the champion the policy allows ``comparison``, in the metric's
    units: the tighter of its absolute and relative limits; None without a limit."""
    if comparison is None:
        return None
    tolerance = comparison.tolerance
    limits = [tolerance.max_absolute] if tolerance.max_absolute is not None else []
    if tolerance.max_relative is not None:
        limits.append(tolerance.max_relative * abs(comparison.champion))
    return min(limits) if limits else None


def band_of(row) -> tuple[float, float] | None:
    """The values this version may take and still be within the allowed loss, between the
    champion and the worst allowed value (None without a champion or a limit)."""
    loss = allowed_loss(row.comparison)
    if loss is None:
        return None
    champion = row.comparison.champion
    worst = champion - loss if row.comparison.higher_is_better else champion + loss
    return min(champion, worst), max(champion, worst)


def fails(row) -> bool:
    """Whether ``row`` breaks its stage gate or regressed beyond the allowed loss."""
    return row.breaks_gate or row.regressed


def value_range(row) -> tuple[float, float, list[str]]:
    """The value axis of ``row``'s panel, and the gates left off it (as words).

    Spans this version's value, the champion's, the allowed band and any gate that is
    broken or near; padded by :data:`PAD` of that spread, so the difference that decides
    takes most of the panel's height.
    """
    value = row.result.value
    core = [value]
    if row.comparison is not None:
        core.append(row.comparison.champion)
    band = band_of(row)
    if band is not None:
        core += list(band)
    spread = max(core) - min(core)
    off = []
    for name, gate in (("floor", row.floor), ("ceiling", row.ceiling),
                       ("budget", row.budget if row.is_latency else None)):
        if gate is None:
            continue
        broken = (name == "floor" and value < gate) or (name != "floor" and value > gate)
        distance = min(abs(gate - v) for v in core)
        if broken or distance <= NEAR * max(spread, abs(value) * 0.02):
            core.append(gate)
        else:
            off.append(f"{name} {number(gate)} " + ("below" if gate < min(core) else "above"))
    low, high = min(core), max(core)
    spread = high - low
    if spread == 0:
        spread = abs(high) * 0.1 or 1.0
    low, high = low - spread * PAD, high + spread * PAD
    if low < 0 <= min(core):        # a value that cannot go below zero keeps a non-negative axis
        low = 0.0
    return low, high, off


def _note(row, *, stage: str, champion: str | None, which: str) -> str:
    result = row.result
    unit = f" {result.unit}" if result.unit else ""
    lines = [f"{row.label} ({result.dataset}/{result.split})"]
    if which == "champion":
        lines.append(f"champion{f' {champion}' if champion else ''}: {number(row.comparison.champion)}{unit}")
    else:
        lines.append(f"this version: {number(result.value)}{unit}")
        if row.comparison is not None:
            lines.append(f"champion: {number(row.comparison.champion)}{unit}; change "
                         f"{row.comparison.absolute_delta:+.6g}"
                         + (f" ({row.comparison.relative_delta * 100:+.3g}%)"
                            if row.comparison.relative_delta is not None else ""))
    loss = allowed_loss(row.comparison)
    if loss is not None:
        lines.append(f"largest loss allowed for {stage}: {number(loss)} "
                     f"({row.comparison.tolerance.describe()})")
    if row.gate_text != "—":
        lines.append(f"{stage} gate: {row.gate_text}")
    lines.append(f"verdict: {row.verdict(stage)}")
    return "\n".join(lines)


def _panel(axes, row, *, stage: str, champion: str | None, colours: ChartColours, drawn: Drawn) -> None:
    axes.set_facecolor(colours.background)
    axes.tick_params(colors=colours.text, labelsize=8)
    axes.grid(axis="y", color=colours.grid, linewidth=0.6)
    axes.set_axisbelow(True)
    low, high, off = value_range(row)
    axes.set_ylim(low, high)
    bad = fails(row)
    names, values, fills, which = [], [], [], []
    if row.comparison is not None:
        names.append("champion")
        values.append(row.comparison.champion)
        fills.append(colours.champion)
        which.append("champion")
    names.append("this\nversion")
    values.append(row.result.value)
    fills.append(colours.bad if bad else colours.good)
    which.append("this")
    positions = list(range(len(values)))
    # Bars rise from the axis' foot, not from 0: the foot is named on the axis itself.
    bars = axes.bar(positions, [v - low for v in values], bottom=low, color=fills, width=0.6, zorder=2)
    for bar, value, kind in zip(bars, values, which):
        drawn.notes.append((bar, _note(row, stage=stage, champion=champion, which=kind)))
        axes.text(bar.get_x() + bar.get_width() / 2, value, plain(f"{value:.4g}"), ha="center", va="bottom",
                  fontsize=8, color=colours.text, zorder=4, fontweight="bold")
    band = band_of(row)
    if band is not None:
        axes.axhspan(band[0], band[1], color=colours.good, alpha=0.18, zorder=1, linewidth=0,
                     label="allowed loss vs champion")
    for name, gate in (("floor", row.floor), ("ceiling", row.ceiling)):
        if gate is not None and low <= gate <= high:
            axes.axhline(gate, color=colours.text, linestyle="--", linewidth=1.2, zorder=3,
                         label=f"{stage} {name}")
    if row.is_latency and row.budget is not None and low <= row.budget <= high:
        axes.axhline(row.budget, color=BUDGET, linestyle=":", linewidth=1.2, zorder=3, label="target's budget")
    axes.set_xticks(positions, names, fontsize=8)
    axes.set_xlim(-0.6, len(values) - 0.4)
    title = textwrap.fill(row.label, 30)
    for spine in axes.spines.values():
        spine.set_color(colours.bad if bad else colours.grid)
        spine.set_linewidth(2.0 if bad else 0.8)
    if bad:
        drawn.failing.append(row.label)
        title = f"✖ {title}"
    axes.set_title(plain(title), fontsize=9, loc="left", color=colours.bad if bad else colours.text,
                   fontweight="bold" if bad else "normal")
    # One fact a line: a narrow panel cuts a long line at both ends.
    footer = [f"axis from {low:.4g}"] + off
    axes.set_xlabel(plain("\n".join(footer)), fontsize=7, color=colours.text)


def draw_decisions(figure, *, rows, stage: str, champion: str | None, colours: ChartColours,
                   columns: int = COLUMNS) -> Drawn:
    """Draw one panel per row of ``rows`` (BenchmarkRows) on ``figure``, judged for ``stage``
    against ``champion`` (its label, or None); return what was drawn (see :class:`Drawn`)."""
    figure.clear()
    figure.set_facecolor(colours.background)
    drawn = Drawn()
    height, across = grid_shape(len(rows), columns=columns)
    if not rows:
        return drawn
    grid = figure.add_gridspec(height, across)
    for index, row in enumerate(rows):
        axes = figure.add_subplot(grid[index // across, index % across])
        _panel(axes, row, stage=stage, champion=champion, colours=colours, drawn=drawn)
        drawn.panels += 1
    _legend(figure, colours, stage=stage, champion=champion, columns=columns)
    return drawn


def legend_rows(columns: int) -> int:
    """The lines the legend takes below a grid of at most ``columns`` panels a row (as many
    entries a line)."""
    return math.ceil(LEGEND_ENTRIES / max(columns, 1))


def _legend(figure, colours: ChartColours, *, stage: str, champion: str | None, columns: int) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=colours.champion, label=plain(f"champion {champion}") if champion else "champion"),
               Patch(color=colours.good, label="this version: passes"),
               Patch(color=colours.bad, label="this version: fails"),
               Patch(color=colours.good, alpha=0.18, label="allowed loss vs champion"),
               Line2D([], [], color=colours.text, linestyle="--", label=plain(f"{stage} floor / ceiling"))]
    # As many entries a line as panels a row, so the legend is never wider than the panels.
    legend = figure.legend(handles=handles, loc="outside lower center", ncol=max(columns, 1), fontsize=8,
                           framealpha=0.9)
    legend.get_frame().set_facecolor(colours.background)
    for text in legend.get_texts():
        text.set_color(colours.text)


def draw_benchmarks(figure, *, rows, stage: str, champion: str | None, colours: ChartColours) -> int:
    """Draw every row's decision panel on ``figure``; return how many panels were drawn."""
    return draw_decisions(figure, rows=rows, stage=stage, champion=champion, colours=colours).panels
