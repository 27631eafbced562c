"""Validation: the findings (severity, rule, message, location), filtered by severity and
rule family, the selected rule's explanation and fix beside them, and a Re-run button."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableView, QTextBrowser, QVBoxLayout, QWidget)

from modelgate.core.findings import Severity
from modelgate.core.rules import FAMILIES
from modelgate.gui.inspector.findings_model import FINDING_ROLE, FindingsFilter, FindingsModel
from modelgate.gui.app.theme import follow_theme
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED


class ValidationTab(QWidget):
    """The Validation tab."""

    rerun_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict = QLabel(objectName="validation-verdict")
        self.verdict.setWordWrap(True)
        self.severity_boxes = {severity: QCheckBox(severity.value, objectName=f"show-{severity.value}")
                               for severity in Severity}
        self.family_box = QComboBox(objectName="family-filter")
        # Sized by a few characters, not its longest family title, so narrow windows still fit.
        self.family_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.family_box.setMinimumContentsLength(14)
        self.family_box.addItem("All rule families", None)
        for prefix, title in FAMILIES.items():
            self.family_box.addItem(f"{prefix}xx {title}", prefix)
        self.rerun_button = QPushButton("Re-run", objectName="rerun-validation")
        self.rerun_button.setToolTip("Run every check again on this bundle (Ctrl+R)")
        self.model = FindingsModel(self)
        self.proxy = FindingsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(objectName="findings-table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)      # the report's order until clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # Locations can be long paths; the message matters more, so the location gets a fixed
        # share, shortened in the middle (the whole of it is in the explanation beside).
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(3, 190)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.explanation = QTextBrowser(objectName="rule-explanation")
        self.explanation.setOpenLinks(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="validation-splitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.explanation)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)

        # Two rows, so the tab fits a window at 200 % scaling on a 1920x1080 screen.
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        for box in self.severity_boxes.values():
            box.setChecked(True)
            box.toggled.connect(self._on_filters_changed)
            filters.addWidget(box)
        filters.addStretch(1)
        families = QHBoxLayout()
        families.addWidget(self.family_box, 1)
        families.addWidget(self.rerun_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.verdict)
        layout.addLayout(filters)
        layout.addLayout(families)
        layout.addWidget(self.splitter, 1)
        self.family_box.currentIndexChanged.connect(self._on_filters_changed)
        self.rerun_button.clicked.connect(self.rerun_requested)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.report = None
        self._rules = None

    def show_subject(self, subject) -> None:
        """A new bundle: its findings arrive when its validation finishes."""
        self.show_checking(label=subject.label, stage=subject.stage)

    def show_checking(self, *, label: str, stage: str) -> None:
        self.report = None
        self.model.set_findings([])
        self.rerun_button.setEnabled(False)
        self._paint(MUTED, f"Checking {label} for {stage}…")
        self.explanation.clear()

    def show_report(self, report) -> None:
        from modelgate.core.checks.catalog import catalog

        self._rules = self._rules or catalog()
        self.report = report
        self.model.set_findings(report.findings)
        self.rerun_button.setEnabled(True)
        for severity, box in self.severity_boxes.items():
            box.setText(f"{severity.value} ({report.count(severity)})")
        colour = GOOD if report.passed else BAD
        self._paint(colour, f"{report.verdict} · {len(report.checks_run)} checks in {report.duration_s:.2f} s")
        self.table.resizeRowsToContents()
        if self.proxy.rowCount():
            self.table.selectRow(0)
        else:
            self.explanation.setHtml("<p>No findings: every check passed without a remark.</p>")

    def show_failure(self, *, message: str) -> None:
        self.rerun_button.setEnabled(True)
        self._paint(DOUBT, f"The checks could not run: {message}")

    def _paint(self, colour: str, text: str) -> None:
        follow_theme(self.verdict, lambda: self.verdict.setStyleSheet(f"color: {colour}; font-weight: bold;"))
        self.verdict.setText(text)

    def _on_filters_changed(self, *_args) -> None:
        severities = {s for s, box in self.severity_boxes.items() if box.isChecked()}
        self.proxy.set_filters(severities=severities, family=self.family_box.currentData())
        self.table.resizeRowsToContents()

    def _on_table_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        finding = current.data(FINDING_ROLE) if current.isValid() else None
        if finding is None:
            self.explanation.clear()
            return
        rule = (self._rules or {}).get(finding.rule)
        parts = [f"<h3>{escape(finding.rule)} {escape(rule.title) if rule else ''}</h3>"]
        if rule:
            parts.append(f"<p><i>{escape(rule.family)} · default severity {rule.severity.value}"
                         f" · here {finding.severity.value}</i></p>")
        parts.append(f"<p><b>Finding:</b> {escape(finding.message)}</p>")
        parts.append(f"<p><b>Where:</b> {escape(str(finding.location))}</p>")
        if finding.hint:
            parts.append(f"<p><b>Hint:</b> {escape(finding.hint)}</p>")
        if rule:
            parts.append(f"<h4>Why it matters</h4><p>{escape(rule.rationale)}</p>")
            parts.append(f"<h4>How to fix it</h4><p>{escape(rule.fix)}</p>")
        self.explanation.setHtml("".join(parts))
