"""My queue: what waits for the acting user, oldest first, read in the background."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from modelgate.gui.ops.workflow import TASKS
from modelgate.gui.ops.background import BackgroundOperation
from modelgate.gui.review.queue_model import TASK_TEXT, QueueModel

TASK_WORDS = {"review": "to review", "approve": "to approve", "sign": "to sign", "promote": "to promote"}
#: Rows the columns are fitted to (those in view and then this many): measuring every row of a
#: queue of thousands would stall the window each time it is read or filtered.
MEASURED_ROWS = 100


def summary_text(queue) -> str:
    """E.g. "chen (approver): 1 to approve, 2 to promote"."""
    roles = ", ".join(queue.roles) or "no role"
    counts = ", ".join(f"{n} {TASK_WORDS[task]}" for task, n in queue.counts.items() if n)
    return f"{queue.user} ({roles}): {counts or 'nothing waits for you'}"


class QueuePanel(QWidget):
    """The queue's table, a task filter and Refresh; choosing a row asks for that version."""

    queue_loaded = Signal(object)          # WorkQueue
    item_chosen = Signal(object)           # QueueItem

    def __init__(self, *, workers, progress_panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        self._progress_panel = progress_panel
        self.connection = None
        self.queue = None
        self._reading = None
        # Asked to read while a read runs: that read may have begun before a review or promotion
        # was written (it runs in a worker process, beside the writes), so read again after it.
        self._read_again = False
        self._columns_fitted = False
        self.model = QueueModel(self)
        self.summary = QLabel("No registry open", objectName="queue-summary")
        self.summary.setWordWrap(True)
        self.task_box = QComboBox(objectName="queue-task")
        self.task_box.addItem("All work", None)
        for task in TASKS:
            self.task_box.addItem(TASK_TEXT[task], task)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the queue again (F5)")
        self.table = QTableView(objectName="queue-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        # Fitted on a sample when the items change (below), never measured again on each change.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(MEASURED_ROWS)
        header.setStretchLastSection(True)
        self.empty = QLabel(objectName="queue-empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        bar = QHBoxLayout()
        bar.addWidget(self.task_box)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self.empty.hide()

        self.task_box.currentIndexChanged.connect(self._on_task_box_current_index_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)

    def set_connection(self, connection) -> None:
        """Show the queue of ``connection``'s acting user."""
        self.connection, self.queue = connection, None
        self._columns_fitted = False
        self.model.set_items(())
        self.summary.setText("Reading your queue…" if connection else "No registry open")
        self.refresh()

    def refresh(self) -> None:
        """Read the queue again in the background (once at a time; asked meanwhile, once more after)."""
        connection = self.connection
        if connection is None:
            return
        if self._reading is not None and self._reading.running:
            self._read_again = True
            return
        self._read_again = False
        processes = self._workers.processes
        self._reading = BackgroundOperation(parent=self, executor=self._workers.bundles,
                                            work=lambda p: connection.queue(processes=processes, progress=p)) \
            .on_success(lambda queue: self._on_queue_read(connection, queue)) \
            .on_failure(lambda error: self._on_queue_failed(connection, error)) \
            .on_cancelled(self._on_reading_ended).start()

    def _on_reading_ended(self) -> None:
        if self._read_again:
            self._reading = None
            self.refresh()

    def _on_queue_failed(self, connection, error) -> None:
        from modelgate.gui.dialogs.error import explain

        if connection is self.connection:   # said here, not in a dialog that returns every minute
            self.summary.setText(f"Your queue could not be read: {explain(error)[0]}")
        self._on_reading_ended()

    def _on_queue_read(self, connection, queue) -> None:
        if connection is not self.connection:
            self._on_reading_ended()     # an older registry's queue
            return
        self.queue = queue
        more = "" if queue.complete else f" (the oldest {len(queue.items)} shown; more are waiting)"
        self.summary.setText(f"Waiting for {summary_text(queue)}{more}")
        self._show_items()
        self.queue_loaded.emit(queue)
        self._on_reading_ended()         # shown, and read again if a write may have overtaken it

    def _show_items(self) -> None:
        task = self.task_box.currentData()
        items = self.queue.of(task) if task else self.queue.items
        chosen = self.model.item_at(self.table.currentIndex().row())
        self.table.selectionModel().blockSignals(True)     # the same item again is no new choice
        self.model.set_items(items)
        row = self.model.row_of(name=chosen.name, version=chosen.version) if chosen else None
        if row is not None:
            self.table.selectRow(row)
        self.table.selectionModel().blockSignals(False)
        if not self._columns_fitted:      # once per registry: widths the user dragged then stay
            self.table.resizeColumnsToContents()
            self._columns_fitted = bool(items)
        self.empty.setVisible(not items)
        if not items:
            what = f" {TASK_WORDS[task]}" if task else ""
            self.empty.setText(f"Nothing waits for you{what}. Versions appear here when the next stage needs "
                               "a review, approval, signature or promotion from a role you hold.")

    def _on_task_box_current_index_changed(self, _index: int) -> None:
        if self.queue is not None:
            self._show_items()

    def _on_table_current_row_changed(self, current, _previous) -> None:
        item = self.model.item_at(current.row())
        if item is not None:
            self.item_chosen.emit(item)
