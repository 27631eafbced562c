"""The compare view: champion A beside challenger B, what changed in a few lines, then a section
each for metrics (chart and table), interface, graph, license and targets, and the findings only
one of them has."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QTableWidget, QVBoxLayout, QWidget

from modelgate.gui.compare.graph_section import graph_section
from modelgate.gui.compare.header import CompareHeader
from modelgate.gui.compare.metrics_section import metrics_section
from modelgate.gui.compare.sections import (findings_section, interface_section, license_targets_section,
                                            problems_section)
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED, Page, fit_height, note, section

#: Qt's largest widget size (QWIDGETSIZE_MAX).
QWIDGETSIZE_MAX = 16777215


class CompareView(QWidget):
    """Shows one :class:`~modelgate.core.registry.compare.Comparison`; empty until told what to show.
    Its charts are drawn by ``workers``' processes."""

    comparison_shown = Signal(object)       # Comparison

    def __init__(self, *, workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare-view")
        self._workers = workers
        self.comparison = None
        self.header = CompareHeader()
        self.page = Page()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.page, 1)
        # Wrapped rows are as tall as the table was narrow when they were measured: measured
        # again once laid out, and whenever the width changes.
        self._refit = QTimer(self, singleShot=True, interval=50)
        self._refit.timeout.connect(self._on_refit_timeout)

    def show_loading(self, *, champion: tuple[str, str] | None, challenger: tuple[str, str], text: str) -> None:
        """Name the two versions being compared (``champion`` ``None``: not known yet) and say what runs."""
        self.comparison = None
        self.header.show_refs(champion, challenger)
        self.page.replace(note(text, colour=MUTED))

    def show_failure(self, *, message: str) -> None:
        """Say why there is nothing to show."""
        self.page.replace(note(message, colour=BAD))

    def show_comparison(self, comparison) -> None:
        """Show every section of ``comparison``."""
        self.comparison = comparison
        self.header.show_comparison(comparison)
        highlights = comparison.highlights()
        summary = section("What changed", *(
            [note(f"• {line}", colour=DOUBT) for line in highlights] if highlights else
            [note("Nothing differs that ModelGate compares.", colour=GOOD)]))
        summary.setObjectName("compare-highlights")
        widgets = [summary, metrics_section(comparison, workers=self._workers), interface_section(comparison),
                   graph_section(comparison), license_targets_section(comparison), findings_section(comparison)]
        problems = problems_section(comparison)
        self.page.replace(*widgets, *([problems] if problems is not None else []))
        self._refit.start()
        self.comparison_shown.emit(comparison)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._refit.start()

    def _on_refit_timeout(self) -> None:
        for widget in self.page.widget().findChildren(QTableWidget):
            widget.resizeRowsToContents()
            fit_height(widget)
            bar = widget.horizontalScrollBar()
            if bar.maximum() > 0:       # a narrow window scrolls the table sideways: room for the bar
                extra = bar.sizeHint().height()
                widget.setMinimumHeight(widget.minimumHeight() + extra)
                widget.setMaximumHeight(min(widget.maximumHeight() + extra, QWIDGETSIZE_MAX))
