"""A promotion's gates as a checklist: each gate's state and the reason, in the core's words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from modelgate.gui.ops.workflow import MET, NOT_AVAILABLE
from modelgate.gui.app.theme import Ink, follow_theme
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED

#: (mark, colour) of each gate state; a gate the policy does not require is muted.
MARKS = {MET: ("✔", GOOD), NOT_AVAILABLE: ("–", DOUBT)}
UNMET = ("✖", BAD)
NOT_REQUIRED = ("–", MUTED)
STATE_ROLE = Qt.ItemDataRole.UserRole


def mark_of(gate) -> tuple[str, Ink]:
    """The mark and ink of ``gate``: a gate that is not required never blocks, so it is neutral,
    never a red cross."""
    return MARKS.get(gate.state, UNMET) if gate.required else NOT_REQUIRED


def gate_state_text(gate) -> str:
    """E.g. "met", "not met", or "not required" for a gate the policy does not ask for."""
    return gate.state if gate.required else "not required"


class GateChecklist(QTableWidget):
    """One row per gate: mark, gate, state, and the reason, wrapped to the width."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 4, parent)
        self.setObjectName("gate-checklist")
        self.setHorizontalHeaderLabels(("", "Gate", "State", "Why"))
        self.verticalHeader().setVisible(False)
        self.setWordWrap(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setShowGrid(False)
        header = self.horizontalHeader()
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self.resizeRowsToContents())
        self.gates: list = []

    def show_gates(self, gates) -> None:
        """Show ``gates`` (GateResult) in the order the core gives them."""
        self.gates = list(gates)
        self.setRowCount(len(self.gates))
        for row, gate in enumerate(self.gates):
            for column, text in enumerate((mark_of(gate)[0], gate.name, gate_state_text(gate), gate.reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(gate.reason)
                item.setData(STATE_ROLE, gate.state)
                self.setItem(row, column, item)
        follow_theme(self, self._ink_marks)
        self.resizeRowsToContents()

    def _ink_marks(self) -> None:
        """Colour each gate's mark, name and state in the ink of the theme in force."""
        for row, gate in enumerate(self.gates):
            brush = QBrush(QColor(str(mark_of(gate)[1])))
            for column in range(3):
                self.item(row, column).setForeground(brush)

    def show_message(self, text: str) -> None:
        """One row instead of the gates, e.g. while they are checked."""
        self.gates = []
        self.setRowCount(1)
        for column, value in enumerate(("", "", "", text)):
            self.setItem(0, column, QTableWidgetItem(value))
        self.resizeRowsToContents()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resizeRowsToContents()

    @property
    def all_hold(self) -> bool:
        """Whether gates are shown and none of them blocks."""
        return bool(self.gates) and not any(gate.blocking for gate in self.gates)

    def state_of(self, name: str) -> str | None:
        return next((gate.state for gate in self.gates if gate.name == name), None)

    def reason_of(self, name: str) -> str | None:
        return next((gate.reason for gate in self.gates if gate.name == name), None)
