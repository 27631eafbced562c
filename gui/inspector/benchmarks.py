"""Benchmarks: each metric against the policy's floor for the stage the version is judged for
and against the current champion; latency per target against its budget. Charts, then every
number in a table."""

from __future__ import annotations

from PySide6.QtGui import QCursor, QPalette
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from modelgate.core.benchmarks.charts import ChartColours, Drawn, draw_decisions, grid_shape
from modelgate.core.benchmarks.rows import benchmark_rows
from modelgate.gui.app.theme import ink
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, Page, note, section, table

#: Height of one row of decision panels, and of the legend below them, in pixels.
PANEL_PIXELS, LEGEND_PIXELS = 220, 70


def chart_colours(widget: QWidget) -> ChartColours:
    """The colours of ``widget``'s palette, for a chart drawn inside it."""
    palette = widget.palette()
    return ChartColours(background=palette.color(QPalette.ColorRole.Base).name(),
                        text=palette.color(QPalette.ColorRole.Text).name(),
                        grid=palette.color(QPalette.ColorRole.Mid).name(), good=str(GOOD), bad=str(BAD),
                        champion=ink("champion"))


def prepare_charts() -> None:
    """Import matplotlib (most of a second) on the calling thread, a worker: the UI thread then
    finds it loaded when the tab is first shown."""
    import matplotlib.backends.backend_qtagg  # noqa: F401
    import matplotlib.figure  # noqa: F401


class BenchmarksTab(Page):
    """The Benchmarks tab. Drawing charts takes a tenth of a second or more, so they are drawn
    when the tab is shown, not each time a version is selected with another tab in front."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = None
        self.canvas = None
        self.rows = []
        self.drawn = Drawn()
        self._pending = None

    def show_subject(self, subject) -> None:
        """Show ``subject`` now if the tab is visible, else when it next is."""
        self._pending = subject
        if self.isVisible():
            self._draw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._pending is not None:
            self._draw()

    def _draw(self) -> None:
        subject, self._pending = self._pending, None
        facts = subject.facts
        champion = facts.champion
        self.rows = benchmark_rows(results=facts.results, champion_results=champion.results if champion else (),
                                   policy=subject.policy, stage=subject.stage, targets=facts.targets)
        widgets = []
        if facts.result_problems:
            widgets.append(section("Problems with the result files", *[
                note(f"{p.file}: {p.message}", colour=BAD) for p in facts.result_problems]))
        if not self.rows:
            widgets.append(note("The bundle holds no benchmark results.", colour=BAD))
            self.replace(*widgets)
            return
        compared = (f"against {champion.label}, the production version," if champion else
                    "with no champion to compare with (none in production, or this is it),")
        intro = note(f"{len(self.rows)} results from {', '.join(sorted({r.result.file for r in self.rows}))}, "
                     f"judged for {subject.stage} under policy {subject.policy.name} {compared} "
                     "as the validation gate judges them.")
        widgets += [intro, self._charts(subject.stage, champion.label if champion else None), self._table(subject.stage)]
        self.replace(*widgets)

    def _charts(self, stage: str, champion: str | None) -> QWidget:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("benchmark-charts")
        self.drawn = draw_decisions(self.figure, rows=self.rows, stage=stage, champion=champion,
                                    colours=chart_colours(self))
        self.canvas.mpl_connect("motion_notify_event", self._hover)
        panel_rows, _ = grid_shape(len(self.rows))
        self.canvas.setMinimumHeight(panel_rows * PANEL_PIXELS + LEGEND_PIXELS)
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        return section("Charts", holder)

    def _hover(self, event) -> None:
        """The exact numbers of the bar under the cursor, as a tooltip."""
        text = self.drawn.note_at(event)
        if text:
            QToolTip.showText(QCursor.pos(), text, self.canvas)
        else:
            QToolTip.hideText()

    def _table(self, stage: str) -> QWidget:
        rows, colours = [], []
        for row in self.rows:
            r, c = row.result, row.comparison
            rows.append((r.metric, r.target, row.value_text, row.gate_text, row.champion_text, row.change_text,
                         row.verdict(stage), f"{r.dataset}/{r.split}"))
            colours.append(BAD if row.breaks_gate or row.regressed else
                           DOUBT if c is not None and c.regression > 0 else GOOD)
        return section("Every result", table(
            ("Metric", "Target", "Value", f"{stage} gate", "Champion", "Change", "Verdict", "Dataset/split"),
            rows, stretch=7, colours=colours, object_name="benchmark-results"))
