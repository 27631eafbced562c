"""Benchmark charts, drawn on a matplotlib :class:`~matplotlib.figure.Figure` (never pyplot,
whose import alone costs a second): quality metrics against the stage's floor and the
champion, and latency per target against its budget and the stage's ceiling.

The desktop app's Benchmarks tab draws them on a Qt canvas in the window's colours; the
auditor report draws them with Agg on white paper. Nothing here imports matplotlib: the
caller hands in the figure."""

from __future__ import annotations

from dataclasses import dataclass

#: A bar that meets its gate, one that breaks it or regressed, the champion's marker, a budget.
GOOD, BAD, CHAMPION, BUDGET = "#2e7d32", "#c62828", "#1f6fd1", "#8a8a8a"


@dataclass(frozen=True)
class ChartColours:
    """The background, text and grid colours (the window's, so charts read on light and dark
    themes alike; the defaults are for paper)."""

    background: str = "#ffffff"
    text: str = "#202020"
    grid: str = "#d0d0d0"


def _style(axes, colours: ChartColours) -> None:
    axes.set_facecolor(colours.background)
    axes.tick_params(colors=colours.text, labelsize=9)
    axes.xaxis.label.set_color(colours.text)
    axes.title.set_color(colours.text)
    for spine in axes.spines.values():
        spine.set_color(colours.grid)
    axes.grid(axis="x", color=colours.grid, linewidth=0.6)
    axes.set_axisbelow(True)


def plain(text: str) -> str:
    """``text`` for a matplotlib label, shown as written: a ``$`` is escaped so a metric named
    ``$\\frac{a}{b}$`` is not parsed as mathtext (which can fail and stop the whole report)."""
    return str(text).replace("$", "\\$")


def _markers(axes, positions, values, *, colour: str, marker: str, label: str, size: int = 90) -> None:
    points = [(v, p) for p, v in zip(positions, values) if v is not None]
    if points:
        axes.scatter([v for v, _ in points], [p for _, p in points], marker=marker, s=size, color=colour,
                     zorder=3, label=label, linewidths=2)


def _bars(axes, rows, *, stage: str, champion: str | None, colours: ChartColours, unit: str, title: str) -> None:
    _style(axes, colours)
    positions = list(range(len(rows)))[::-1]          # first result on top
    values = [r.result.value for r in rows]
    fills = [BAD if (r.breaks_gate or r.regressed) else GOOD for r in rows]
    axes.barh(positions, values, color=fills, height=0.55, zorder=2, alpha=0.85)
    _markers(axes, positions, [r.comparison.champion if r.comparison else None for r in rows],
             colour=CHAMPION, marker="D", label=plain(f"champion {champion}") if champion else "champion", size=45)
    # The gate is drawn in the text colour: it must stand out on a red or a green bar alike.
    _markers(axes, positions, [r.floor for r in rows], colour=colours.text, marker="|",
             label=plain(f"{stage} floor (policy)"), size=700)
    _markers(axes, positions, [r.ceiling for r in rows], colour=colours.text, marker="|",
             label=plain(f"{stage} ceiling (policy)"), size=700)
    _markers(axes, positions, [r.budget if r.is_latency else None for r in rows], colour=BUDGET, marker="|",
             label="target's budget (bundle.yaml)", size=500)
    reach = max([v for r in rows for v in (r.result.value, r.floor, r.ceiling,
                                             r.budget if r.is_latency else None,
                                             r.comparison.champion if r.comparison else None) if v is not None] + [0])
    axes.set_xlim(0, reach * 1.18 if reach > 0 else 1)
    for position, row in zip(positions, rows):
        text = f"{row.result.value:.4g}" + (f" {row.result.unit}" if row.result.unit else "")
        right = max(row.result.value, row.comparison.champion if row.comparison else 0)
        axes.text(right + reach * 0.02, position, plain(text), va="center", ha="left", fontsize=9,
                  color=colours.text, zorder=4, fontweight="bold")
    axes.set_yticks(positions, [plain(r.label) for r in rows])
    axes.set_xlabel(plain(unit))
    axes.set_title(plain(title), fontsize=10, loc="left")
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        legend = axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                             framealpha=0.9, borderaxespad=0)
        legend.get_frame().set_facecolor(colours.background)
        for text in legend.get_texts():
            text.set_color(colours.text)


def draw_benchmarks(figure, *, rows, stage: str, champion: str | None, colours: ChartColours) -> int:
    """Draw the quality and latency charts on ``figure``; return how many charts were drawn."""
    figure.clear()
    figure.set_facecolor(colours.background)
    quality = [r for r in rows if not r.is_latency]
    latency = [r for r in rows if r.is_latency]
    groups = [g for g in (quality, latency) if g]
    if not groups:
        return 0
    grid = figure.add_gridspec(len(groups), 1, height_ratios=[max(len(g), 2) for g in groups])
    for index, group in enumerate(groups):
        axes = figure.add_subplot(grid[index])
        if group is quality:
            higher = all(r.result.higher_is_better for r in group)
            _bars(axes, group, stage=stage, champion=champion, colours=colours,
                  unit="value (higher is better)" if higher else "value",
                  title=f"Quality: against the {stage} floor" + (" and the champion" if champion else ""))
        else:
            unit = group[0].result.unit or "ms"
            _bars(axes, group, stage=stage, champion=champion, colours=colours,
                  unit=f"p95 latency, {unit} (lower is better)",
                  title=f"Latency per target: against its budget and the {stage} ceiling")
    return len(groups)
