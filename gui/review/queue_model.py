"""The acting user's work queue as a Qt table model: it adapts the core's QueueItem rows.

A queue can hold thousands of items and the view asks for each cell many times (painting,
measuring, tooltips), so a row's texts are made once, when first asked for, and each
``data()`` call is a lookup.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush

from modelgate.gui.app.theme import Ink
from modelgate.gui.ops.workflow import QueueItem
from modelgate.gui.registry.model import updated_text
from modelgate.gui.app.table_model import RecordTableModel

COLUMNS = (("task", "To do"), ("ref", "Version"), ("move", "Stage"), ("since", "Waiting since"),
           ("submitter", "Submitter"), ("reason", "Why"))
TASK_TEXT = {"review": "Review", "approve": "Approve", "sign": "Sign", "promote": "Promote"}
TASK_COLOUR = {task: Ink(f"task.{task}") for task in TASK_TEXT}
_TASK_COLUMN = 0


def row_texts(item: QueueItem) -> tuple[str, ...]:
    """The text of each column of ``item``, in :data:`COLUMNS` order."""
    return (TASK_TEXT[item.task], item.ref, f"{item.stage} → {item.to_stage}", updated_text(item.waiting_since),
            item.submitter, item.reason)


class QueueModel(RecordTableModel):
    """Queue items, oldest first, as the core ordered them."""

    COLUMNS = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._texts: list[tuple[str, ...] | None] = []

    def set_items(self, items) -> None:
        self.beginResetModel()
        self._rows = list(items)
        self._texts = [None] * len(self._rows)
        self.endResetModel()

    def item_at(self, row: int) -> QueueItem | None:
        return self.record_at(row)

    def _texts_of(self, row: int) -> tuple[str, ...]:
        texts = self._texts[row]
        if texts is None:
            texts = self._texts[row] = row_texts(self._rows[row])
        return texts

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts_of(index.row())[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == _TASK_COLUMN:
            # Read from the theme in force at each call: a theme switch repaints it in the new ink.
            return QBrush(TASK_COLOUR[self._rows[index.row()].task].qcolor())
        if role == Qt.ItemDataRole.ToolTipRole:
            task, ref, move, since, submitter, reason = self._texts_of(index.row())
            return f"{task} {ref} ({move}), submitted by {submitter}, waiting since {since}: {reason}"
        return None
