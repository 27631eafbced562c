"""The comparison's metrics: a chart of each change from A to B, then every number in a table
with the verdict under the stage's regression limits."""

from __future__ import annotations

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QVBoxLayout, QWidget

from modelgate.core.benchmarks.deltas import VERDICT_INKS
from modelgate.core.benchmarks.regression import format_number
from modelgate.gui.app.theme import Ink, follow_theme
from modelgate.gui.inspector.chart_view import ChartView
from modelgate.gui.inspector.widgets import BAD, DOUBT, note, section, table

#: Height of one bar's row in the chart, in pixels, and room for the title and axis.
ROW_PIXELS, CHART_MARGIN = 46, 150
#: The chart's least width, in pixels.
CHART_WIDTH = 480
#: Columns of the table tinted with the verdict's colour.
TINTED = (5, 6, 8)
#: The ink of each verdict, as the chart colours it.
VERDICT_COLOURS = {verdict: Ink(name) for verdict, name in VERDICT_INKS.items()}


class MetricsSection(QWidget):
    """Chart and table of the paired metrics; notes for those only one side reports. The chart
    is drawn by ``workers``' processes (see :class:`ChartView`)."""

    def __init__(self, comparison, *, workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        found = comparison.metrics
        self._workers = workers
        #: The chart of the metrics both report (None when there is none).
        self.chart: ChartView | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        limits = (f"under the {comparison.stage} limits of policy {comparison.policy_name}"
                  if comparison.stage else "with no limits")
        if found.metrics:
            layout.addWidget(note(f"{len(found.metrics)} metric(s) both report, judged {limits}. "
                                  "Each metric says whether higher or lower is better."))
            layout.addWidget(self._chart(found.metrics, comparison.stage))
            layout.addWidget(self._table(found.metrics, comparison.stage))
        else:
            layout.addWidget(note("No metric is reported by both versions.", colour=DOUBT))
        a, b = comparison.a.label, comparison.b.label
        for title, rows in ((f"Only {a} (A) reports", found.champion_only),
                            (f"Only {b} (B) reports", found.challenger_only)):
            if rows:
                layout.addWidget(note(f"{title}: " + "; ".join(f"{r.label} = {format_number(r.value)}" for r in rows),
                                      colour=DOUBT))
        for new, _old in found.direction_conflicts:
            layout.addWidget(note(f"{new.label} is not compared: A and B disagree on whether higher is better.",
                                  colour=BAD))

    def _chart(self, metrics, stage: str | None) -> QWidget:
        tall = max(len(metrics), 2) * ROW_PIXELS + CHART_MARGIN
        self.chart = ChartView(workers=self._workers, kind="deltas", content={"metrics": metrics, "stage": stage},
                               height=lambda _width: tall)
        self.chart.setObjectName("metric-delta-chart")
        self.chart.setMinimumWidth(CHART_WIDTH)
        return self.chart

    @staticmethod
    def _table(metrics, stage: str | None) -> QWidget:
        rows = []
        for m in metrics:
            rows.append((m.metric, f"{m.dataset}/{m.split}", m.target or "—", format_number(m.champion),
                         format_number(m.challenger), f"{m.absolute_delta:+.4g}",
                         f"{m.relative_delta * 100:+.2f}%" if m.relative_delta is not None else "—",
                         "higher" if m.higher_is_better else "lower", m.verdict.words))
        widget = table(("Metric", "Dataset/split", "Target", "A", "B", "Δ (B − A)", "Δ %", "Better when",
                        "Verdict"), rows, stretch=8, object_name="metric-deltas")
        for row, item in enumerate(metrics):
            widget.item(row, 8).setToolTip(f"{stage or 'The stage'} allows a loss of {item.tolerance.describe()}")

        def colour() -> None:
            for row, item in enumerate(metrics):
                brush = QBrush(VERDICT_COLOURS[item.verdict].qcolor())
                for column in TINTED:
                    widget.item(row, column).setForeground(brush)
        follow_theme(widget, colour)
        return widget


def metrics_section(comparison, *, workers) -> QWidget:
    """The Metrics section of a comparison, its chart drawn by ``workers``' processes."""
    return section("Metrics", MetricsSection(comparison, workers=workers))
