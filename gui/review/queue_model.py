"""The acting user's work queue as a Qt table model: it adapts the core's QueueItem rows."""

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


class QueueModel(RecordTableModel):
    """Queue items, oldest first, as the core ordered them."""

    COLUMNS = COLUMNS

    def set_items(self, items) -> None:
        self.beginResetModel()
        self._rows = list(items)
        self.endResetModel()

    def item_at(self, row: int) -> QueueItem | None:
        return self.record_at(row)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item, key = self._rows[index.row()], COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return {"task": TASK_TEXT[item.task], "ref": item.ref, "move": f"{item.stage} → {item.to_stage}",
                    "since": updated_text(item.waiting_since), "submitter": item.submitter,
                    "reason": item.reason}[key]
        if role == Qt.ItemDataRole.ForegroundRole and key == "task":
            return QBrush(TASK_COLOUR[item.task].qcolor())
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{TASK_TEXT[item.task]} {item.ref} ({item.stage} → {item.to_stage}), submitted by "
                    f"{item.submitter}, waiting since {updated_text(item.waiting_since)}: {item.reason}")
        return None
