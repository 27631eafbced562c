"""The comparison's metrics: a chart of each change from A to B, then every number in a table
with the verdict under the stage's regression limits."""

from __future__ import annotations

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QVBoxLayout, QWidget

from modelgate.core.benchmarks.regression import format_number
from modelgate.gui.compare.delta_chart import VERDICT_COLOURS, draw_deltas
from modelgate.gui.inspector.benchmarks import chart_colours
from modelgate.gui.inspector.widgets import BAD, DOUBT, note, section, table

#: Height of one bar's row in the chart, in pixels, and room for the title and axis.
ROW_PIXELS, CHART_MARGIN = 46, 150
#: Columns of the table tinted with the verdict's colour.
TINTED = (5, 6, 8)


class MetricsSection(QWidget):
    """Chart and table of the paired metrics; notes for those only one side reports."""

    def __init__(self, comparison, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        found = comparison.metrics
        self.figure = self.canvas = None
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
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("metric-delta-chart")
        bars = draw_deltas(self.figure, metrics=metrics, stage=stage, colours=chart_colours(self))
        self.canvas.setFixedHeight(max(bars, 2) * ROW_PIXELS + CHART_MARGIN)
        self.canvas.setMinimumWidth(480)
        return self.canvas

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
            brush = QBrush(VERDICT_COLOURS[item.verdict].qcolor())
            for column in TINTED:
                widget.item(row, column).setForeground(brush)
            widget.item(row, 8).setToolTip(f"{stage or 'The stage'} allows a loss of {item.tolerance.describe()}")
        return widget


def metrics_section(comparison) -> QWidget:
    """The Metrics section of a comparison."""
    return section("Metrics", MetricsSection(comparison))
