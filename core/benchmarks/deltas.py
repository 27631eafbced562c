"""The comparison's chart: each metric's change from A to B relative to A, in percent, coloured
better or worse (higher or lower is better, per metric), with the loss the policy allows marked.

Drawn on a matplotlib :class:`~matplotlib.figure.Figure` the caller hands in (never pyplot),
so that a worker process draws it for the desktop app's compare window; every bar and limit
marker gets the exact numbers to show on hover, as :func:`~.charts.draw_decisions` does.
"""

from __future__ import annotations

from modelgate.core.benchmarks.charts import ChartColours, Drawn, number, plain
from modelgate.core.benchmarks.regression import Verdict

#: The colour (a :class:`ChartColours` field) of each verdict.
VERDICT_INKS = {Verdict.IMPROVED: "good", Verdict.UNCHANGED: "muted", Verdict.WITHIN_LIMITS: "doubt",
                Verdict.NO_LIMIT: "doubt", Verdict.EXCEEDS_LIMIT: "bad"}


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

    handles = [Patch(color=colours.good, label="better"), Patch(color=colours.doubt, label="worse, within the limits"),
               Patch(color=colours.bad, label="worse than allowed"),
               Line2D([], [], color=colours.text, marker="|", markersize=14, linestyle="None",
                      markeredgewidth=2, label=plain(f"largest loss allowed ({stage})") if stage else "largest loss allowed")]
    # Below the chart, not beside it: a narrow window keeps its width for the bars.
    legend = figure.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, framealpha=0.9)
    legend.get_frame().set_facecolor(colours.background)
    for text in legend.get_texts():
        text.set_color(colours.text)


def _change(item) -> str:
    return (f"{item.relative_delta * 100:+.2f}%" if item.relative_delta is not None
            else f"{item.absolute_delta:+.4g} (A is 0)")


def _label(short: str, item) -> str:
    """The row's label: the metric, then its change and both values on a second line."""
    return f"{short}\n{_change(item)}   {item.champion:.4g} → {item.challenger:.4g}"


def _bar_note(item, stage: str | None) -> str:
    lines = [f"{item.label}", f"A: {number(item.champion)}   B: {number(item.challenger)}",
             f"change: {item.absolute_delta:+.6g}" + (f" ({item.relative_delta * 100:+.4g}%)"
                                                     if item.relative_delta is not None else " (A is 0)"),
             f"{'higher' if item.higher_is_better else 'lower'} is better",
             f"{stage or 'the stage'} allows a loss of {item.tolerance.describe()}",
             f"verdict: {item.verdict.words}"]
    return "\n".join(lines)


def draw_deltas(figure, *, metrics, stage: str | None, colours: ChartColours) -> Drawn:
    """Draw one bar per metric of ``metrics`` (MetricComparisons) on ``figure``; return what was
    drawn: a note for each bar and each limit marker.

    Each row is labelled with its change and both values. A metric whose A value is 0 has
    no relative change and gets no bar, only its absolute change in the label.
    """
    figure.clear()
    figure.set_facecolor(colours.background)
    drawn = Drawn()
    if not metrics:
        return drawn
    axes = figure.add_subplot(1, 1, 1)
    axes.set_facecolor(colours.background)
    axes.tick_params(colors=colours.text, labelsize=9)
    for spine in axes.spines.values():
        spine.set_color(colours.grid)
    axes.grid(axis="x", color=colours.grid, linewidth=0.6)
    axes.set_axisbelow(True)
    positions = list(range(len(metrics)))[::-1]              # first metric on top
    values = [m.relative_delta * 100 if m.relative_delta is not None else 0.0 for m in metrics]
    inks = {"good": colours.good, "bad": colours.bad, "doubt": colours.doubt, "muted": colours.muted}
    bars = axes.barh(positions, values, color=[inks[VERDICT_INKS[m.verdict]] for m in metrics], height=0.55,
                     zorder=2)
    drawn.notes += [(bar, _bar_note(item, stage)) for bar, item in zip(bars, metrics)]
    drawn.failing += [item.label for item in metrics if item.verdict is Verdict.EXCEEDS_LIMIT]
    limits = [allowed_loss_percent(m) for m in metrics]
    reach = max([abs(v) for v in values] + [abs(limit) for limit in limits if limit is not None] + [1.0])
    for position, item, limit in zip(positions, metrics, limits):
        if limit is not None:
            at = -limit if item.higher_is_better else limit
            marker = axes.scatter([at], [position], marker="|", s=500, color=colours.text, zorder=3, linewidths=2)
            drawn.notes.append((marker, f"{item.label}\nlargest loss allowed ({stage or 'the stage'}): "
                                        f"{number(limit)}% of A ({item.tolerance.describe()})"))
    axes.axvline(0, color=colours.text, linewidth=0.8, zorder=2)
    axes.set_xlim(-reach * 1.25, reach * 1.25)
    axes.set_yticks(positions, [plain(_label(short, item)) for short, item in zip(short_labels(metrics), metrics)])
    axes.set_xlabel("change from A to B, relative to A (%)", color=colours.text)
    axes.set_title("Metrics: B against A", fontsize=10, loc="left", color=colours.text)
    _legend(figure, colours, stage)
    drawn.panels = 1
    return drawn
