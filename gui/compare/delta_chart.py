"""The comparison's chart: each metric's change from A to B relative to A, in percent, coloured
better or worse (higher or lower is better, per metric), with the loss the policy allows marked.
Drawn on a matplotlib :class:`~matplotlib.figure.Figure`, never pyplot."""

from __future__ import annotations

from modelgate.core.benchmarks.regression import Verdict
from modelgate.core.benchmarks.charts import ChartColours, plain
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED

VERDICT_COLOURS = {Verdict.IMPROVED: GOOD, Verdict.UNCHANGED: MUTED, Verdict.WITHIN_LIMITS: DOUBT,
                   Verdict.NO_LIMIT: DOUBT, Verdict.EXCEEDS_LIMIT: BAD}


def short_labels(metrics) -> list[str]:
    """``metric (target)`` for each row, or the full label where that would be ambiguous."""
    short = [f"{m.metric} ({m.target})" if m.target else m.metric for m in metrics]
    return [s if short.count(s) == 1 else m.label for s, m in zip(short, metrics)]


def allowed_loss_percent(item) -> float | None:
    """The largest loss the policy allows ``item`` (a MetricComparison), relative to A, in percent."""
    scale = abs(item.champion)
    limits = [item.tolerance.max_relative] if item.tolerance.max_relative is not None else []
    if item.tolerance.max_absolute is not None and scale:
        limits.append(item.tolerance.max_absolute / scale)
    return min(limits) * 100 if limits else None


def _legend(figure, colours: ChartColours, stage: str | None) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color=str(GOOD), label="better"), Patch(color=str(DOUBT), label="worse, within the limits"),
               Patch(color=str(BAD), label="worse than allowed"),
               Line2D([], [], color=colours.text, marker="|", markersize=14, linestyle="None",
                      markeredgewidth=2, label=plain(f"largest loss allowed ({stage})") if stage else "largest loss allowed")]
    # Below the chart, not beside it: a narrow window keeps its width for the bars.
    legend = figure.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, framealpha=0.9)
    legend.get_frame().set_facecolor(colours.background)
    for text in legend.get_texts():
        text.set_color(colours.text)


def _label(short: str, item) -> str:
    """The row's label: the metric, then its change and both values on a second line."""
    change = (f"{item.relative_delta * 100:+.2f}%" if item.relative_delta is not None
              else f"{item.absolute_delta:+.4g} (A is 0)")
    return f"{short}\n{change}   {item.champion:.4g} → {item.challenger:.4g}"


def draw_deltas(figure, *, metrics, stage: str | None, colours: ChartColours) -> int:
    """Draw one bar per metric of ``metrics`` (MetricComparisons) on ``figure``; return the bars drawn.

    Each row is labelled with its change and both values. A metric whose A value is 0 has
    no relative change and gets no bar, only its absolute change in the label.
    """
    figure.clear()
    figure.set_facecolor(colours.background)
    if not metrics:
        return 0
    axes = figure.add_subplot(1, 1, 1)
    axes.set_facecolor(colours.background)
    axes.tick_params(colors=colours.text, labelsize=9)
    for spine in axes.spines.values():
        spine.set_color(colours.grid)
    axes.grid(axis="x", color=colours.grid, linewidth=0.6)
    axes.set_axisbelow(True)
    positions = list(range(len(metrics)))[::-1]              # first metric on top
    values = [m.relative_delta * 100 if m.relative_delta is not None else 0.0 for m in metrics]
    axes.barh(positions, values, color=[str(VERDICT_COLOURS[m.verdict]) for m in metrics], height=0.55, zorder=2)
    limits = [allowed_loss_percent(m) for m in metrics]
    reach = max([abs(v) for v in values] + [abs(limit) for limit in limits if limit is not None] + [1.0])
    for position, item, limit in zip(positions, metrics, limits):
        if limit is not None:
            at = -limit if item.higher_is_better else limit
            axes.scatter([at], [position], marker="|", s=500, color=colours.text, zorder=3, linewidths=2)
    axes.axvline(0, color=colours.text, linewidth=0.8, zorder=2)
    axes.set_xlim(-reach * 1.25, reach * 1.25)
    axes.set_yticks(positions, [plain(_label(short, item)) for short, item in zip(short_labels(metrics), metrics)])
    axes.set_xlabel("change from A to B, relative to A (%)", color=colours.text)
    axes.set_title("Metrics: B against A", fontsize=10, loc="left", color=colours.text)
    _legend(figure, colours, stage)
    return len(metrics)
