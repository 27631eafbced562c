"""The validation findings as a Qt table model, and the proxy that filters them by severity
and rule family."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication, QStyle

from modelgate.core.findings import Finding, Severity
from modelgate.core.reports import waiver_note
from modelgate.gui.inspector.widgets import MUTED

HEADERS = ("Severity", "Rule", "Message", "Location")
ICONS = {Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
         Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
         Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation}
FINDING_ROLE = Qt.ItemDataRole.UserRole + 1


class FindingsModel(QAbstractTableModel):
    """A report's findings, in the report's order (errors first)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._findings: list[Finding] = []

    def set_findings(self, findings) -> None:
        self.beginResetModel()
        self._findings = list(findings)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._findings)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        finding = self._findings[index.row()]
        column = index.column()
        if role == FINDING_ROLE:
            return finding
        if role == Qt.ItemDataRole.DisplayRole:
            severity = finding.severity.value + (" · waived" if finding.waived is not None else "")
            return (severity, finding.rule, finding.message, str(finding.location))[column]
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return QApplication.style().standardIcon(ICONS[finding.severity])
        if role == Qt.ItemDataRole.ForegroundRole and finding.waived is not None:
            return MUTED.qcolor()    # shown, but no longer a failure
        if role == Qt.ItemDataRole.ToolTipRole:
            text = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
            return text + (f"\n{waiver_note(finding)}" if finding.waived is not None else "")
        if role == Qt.ItemDataRole.UserRole and column == 0:
            return finding.severity.rank     # sorting by severity sorts by rank, not by name
        return None


class FindingsFilter(QSortFilterProxyModel):
    """Keeps findings of the chosen severities and rule family (``MG4``), sortable by column."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.severities = set(Severity)
        self.family: str | None = None
        self.setSortRole(Qt.ItemDataRole.DisplayRole)

    def set_filters(self, *, severities: set[Severity], family: str | None) -> None:
        self.beginFilterChange()
        self.severities, self.family = severities, family
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        finding = self.sourceModel().index(row, 0, parent).data(FINDING_ROLE)
        return finding.severity in self.severities and (self.family is None or finding.rule.startswith(self.family))

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        if left.column() == 0:
            return left.data(Qt.ItemDataRole.UserRole) < right.data(Qt.ItemDataRole.UserRole)
        return super().lessThan(left, right)
