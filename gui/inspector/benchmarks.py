"""Benchmarks: each metric against the policy's floor for the stage the version is judged for
and against the current champion; latency per target against its budget. Charts, then every
number in a table."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from modelgate.core.benchmarks.charts import columns_for, grid_shape, legend_rows
from modelgate.core.benchmarks.rows import benchmark_rows
from modelgate.gui.inspector.chart_view import ChartView
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, Page, note, section, table

#: Height of one row of decision panels, of the legend below them (two lines), and of each
#: further line of the legend, in pixels.
PANEL_PIXELS, LEGEND_PIXELS, LEGEND_LINE_PIXELS = 220, 70, 18


class BenchmarksTab(Page):
    """The Benchmarks tab. Its charts are drawn by ``workers``' processes (see :class:`ChartView`)
    when the tab is shown, not each time a version is selected with another tab in front."""

    def __init__(self, *, workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        #: The charts of the version shown (None before one is shown, or with no results).
        self.chart: ChartView | None = None
        self.rows = []
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
        self.chart = None
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
        count = len(self.rows)

        def height(width: int) -> int:       # a narrow chart has fewer panels a row, so more rows
            columns = columns_for(width)
            panel_rows, _ = grid_shape(count, columns=columns)
            return panel_rows * PANEL_PIXELS + LEGEND_PIXELS + LEGEND_LINE_PIXELS * max(legend_rows(columns) - 2, 0)

        self.chart = ChartView(workers=self._workers, kind="decisions",
                               content={"rows": self.rows, "stage": stage, "champion": champion}, height=height)
        self.chart.setObjectName("benchmark-charts")
        return section("Charts", self.chart)

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
