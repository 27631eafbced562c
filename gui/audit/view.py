"""The audit view: the whole registry's event log, filtered, with the chain verified on demand.

The table fills a page at a time as it scrolls (the registry worker runs every query, in
order; one overtaken by a newer filter is skipped). **Verify chain** recomputes every
event's hash in the background, with progress and Cancel in the status bar, then says in
a banner whether the chain holds and, when it breaks, clears the filters, opens the log
at the first broken event, selects it and paints it red.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QIntValidator, QPalette, QTextOption
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QSplitter, QStyledItemDelegate, QTableView, QVBoxLayout,
                               QWidget)

from modelgate.gui.ops.audit import AuditCount, AuditQuery, AuditValues, ChainCheck
from modelgate.gui.audit.filters import AuditFilterBar
from modelgate.gui.audit.model import BROKEN_ROLE, COLUMNS, AuditTableModel, local_time
from modelgate.gui.dialogs.error import explain, show_error
from modelgate.gui.audit.chain_banner import ChainBanner
from modelgate.gui.app import theme
from modelgate.gui.inspector.widgets import MUTED
from modelgate.gui.ops.background import BackgroundOperation, Newest


class BrokenRowDelegate(QStyledItemDelegate):
    """Keeps the broken event red when it is selected, in a dark red instead of the highlight."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if index.data(BROKEN_ROLE):
            fill, text = theme.SELECTED_BAD[theme.current_theme()]
            option.palette.setColor(QPalette.ColorRole.Highlight, QColor(fill))
            option.palette.setColor(QPalette.ColorRole.HighlightedText, QColor(text))


def event_text(event, *, broken_reason: str | None = None) -> str:
    """Everything about one event, for the details pane."""
    lines = [f"⚠ The chain breaks here: {broken_reason}", ""] if broken_reason else []
    # Hashes get lines of their own: 64 characters fit a narrow pane only unindented.
    lines += [f"Event {event.seq}",
              f"Time:     {local_time(event.created_at)} (local)", f"          {event.created_at} (UTC, as hashed)",
              f"Actor:    {event.actor}", f"Action:   {event.action}", f"Subject:  {event.subject}", "",
              "Previous event's hash:", event.prev_hash, "This event's hash:", event.hash, "", "Payload:",
              json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False, default=str)]
    return "\n".join(lines)


class AuditView(QWidget):
    """Filters, the lazily filled event table, the selected event's details and Verify chain."""

    chain_verified = Signal(object)      # ChainCheck
    event_selected = Signal(object)      # AuditEvent

    def __init__(self, *, workers, progress_panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit-view")
        self._workers = workers
        self._progress_panel = progress_panel
        self.connection = None
        self.values: AuditValues | None = None
        self.last_check: ChainCheck | None = None
        self._verifying = None
        self._pending: tuple[int, bool] | None = None    # (event to select, or the nearest one?)
        # Queued reads ask this, never the model, whether a newer query overtook them.
        self._newest_generation = Newest()
        self.model = AuditTableModel(source=self, parent=self)

        title = QLabel("Audit log", objectName="audit-title")
        title.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.source_label = QLabel("No registry open", objectName="audit-source")
        theme.follow_theme(self.source_label, lambda: self.source_label.setStyleSheet(f"color: {MUTED};"))
        self.verify_button = QPushButton("Ve&rify chain", objectName="audit-verify")
        self.verify_button.setToolTip("Recompute every event's hash and check that each follows the one "
                                      "before it (Alt+R)")
        self.verify_button.setEnabled(False)
        self.filters = AuditFilterBar()
        self.banner = ChainBanner()
        self.table = QTableView(objectName="audit-table")
        self.table.setModel(self.model)
        self.table.setItemDelegate(BrokenRowDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        self._columns_fitted = False
        self.details = QPlainTextEdit(objectName="audit-details", readOnly=True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText("Select an event to see its whole payload and hashes.")
        self.details.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, objectName="audit-splitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.count_label = QLabel(objectName="audit-count")
        self.goto_edit = QLineEdit(objectName="audit-goto", placeholderText="event number")
        self.goto_edit.setValidator(QIntValidator(1, 2**31 - 1, self.goto_edit))
        self.goto_edit.setMaximumWidth(130)
        goto_label = QLabel("&Go to #")
        goto_label.setBuddy(self.goto_edit)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.source_label, 1)
        top.addWidget(self.verify_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(goto_label)
        bottom.addWidget(self.goto_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)
        self.setTabOrder(self.filters.clear_button, self.table)
        self.setTabOrder(self.table, self.details)

        self.filters.filters_changed.connect(self._on_filters_filters_changed)
        self.verify_button.clicked.connect(self.verify_chain)
        self.goto_edit.returnPressed.connect(self._on_goto_edit_return_pressed)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.table.verticalScrollBar().valueChanged.connect(self._on_table_scrolled)
        self.model.page_loaded.connect(self._on_model_page_loaded)
        self.model.total_counted.connect(self._on_model_total_counted)
        self.model.rowsInserted.connect(self._on_model_rows_inserted)

    # ------------------------------------------------------------- the connection
    def set_connection(self, connection) -> None:
        """Show the audit log of ``connection`` (a RegistryConnection), or nothing when ``None``."""
        if self._verifying is not None and self._verifying.running:
            self._verifying.cancel()        # its verdict would be about the registry left behind
        self.connection = connection
        self.values = None
        self.last_check = None
        self._pending = None
        self.banner.setVisible(False)
        self.model.mark_broken(seq=None)
        self.source_label.setText(connection.label if connection else "No registry open")
        self.source_label.setToolTip(connection.label if connection else "")
        self.verify_button.setEnabled(connection is not None)
        self.details.clear()
        self._apply_filters()
        if connection is not None:
            self._load_values()

    def refresh(self) -> None:
        """Read the log again from the newest event (new actors, actions and subjects included)."""
        current = self.model.event_at(self.table.currentIndex().row())
        self._pending = (current.seq, False) if current is not None else None
        self._apply_filters()
        if self.connection is not None:
            self._load_values()

    def focus_filter(self) -> None:
        """Put the keyboard in the subject filter."""
        self.filters.focus_subject()

    def go_to_event(self, *, seq: int) -> None:
        """Clear the filters and open the log at event ``seq`` (or the nearest one), selected."""
        self._pending = (seq, True)
        self.filters.set_filters(announce=False)
        self.model.set_query(query=self.filters.query(), values=self.values, anchor=seq)

    def verify_chain(self) -> None:
        """Verify the whole chain in the background; the banner and ``chain_verified`` tell the outcome."""
        if self.connection is None or (self._verifying is not None and self._verifying.running):
            return
        connection = self.connection
        self.verify_button.setEnabled(False)
        self.banner.show_verifying()

        def current(callback):
            # Outcomes for a registry the view no longer shows are dropped.
            def deliver(*args):
                self.verify_button.setEnabled(self.connection is not None)
                if connection is self.connection:
                    callback(*args)
            return deliver

        self._verifying = BackgroundOperation(
            parent=self, executor=self._workers.registry,
            work=lambda progress: connection.check_audit_chain(progress=progress)) \
            .with_progress(panel=self._progress_panel, label="Verifying the audit chain") \
            .on_success(current(self._on_chain_checked)).on_cancelled(current(self._on_chain_cancelled)) \
            .on_failure(current(self._on_chain_failed)).start()

    # ------------------------------------------------------------- the model's source
    def request_page(self, *, query: AuditQuery, values, after, before, limit: int, generation: int,
                     deliver) -> None:
        self._ask(generation=generation, deliver=deliver, nothing=[], work=lambda connection: connection.audit_page(
            query=query, values=values, limit=limit, after=after, before=before))

    def request_count(self, *, query: AuditQuery, values, generation: int, deliver) -> None:
        self._ask(generation=generation, deliver=deliver, nothing=AuditCount(0),
                  work=lambda connection: connection.audit_count(query=query, values=values))

    def _ask(self, *, generation: int, deliver, nothing, work) -> None:
        """Run ``work(connection)`` on the registry worker unless a newer query overtook it."""
        connection = self.connection
        if connection is None:
            deliver(nothing)
            return

        newest = self._newest_generation
        newest.set(generation)

        def run(progress):
            return nothing if newest.overtook(generation) else work(connection)

        BackgroundOperation(parent=self, executor=self._workers.registry, work=run).on_success(deliver).start()

    # ------------------------------------------------------------- helpers
    def _apply_filters(self) -> None:
        self.model.set_query(query=self.filters.query(), values=self.values)

    def _load_values(self) -> None:
        connection, known = self.connection, self.values

        def loaded(values: AuditValues) -> None:
            if connection is self.connection:
                self.values = values
                self.filters.set_values(values)

        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda progress: connection.audit_values(known=known)).on_success(loaded).start()

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _show_details(self, event) -> None:
        broken = self.model.broken_reason if event is not None and event.seq == self.model.broken else None
        self.details.setPlainText(event_text(event, broken_reason=broken) if event is not None else "")

    # ------------------------------------------------------------- slots
    def _on_filters_filters_changed(self) -> None:
        self._pending = None
        self._apply_filters()

    def _on_goto_edit_return_pressed(self) -> None:
        if self.goto_edit.text():
            self.go_to_event(seq=int(self.goto_edit.text()))
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_table_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.event_at(current.row())
        self._show_details(event)
        if event is not None:
            self.event_selected.emit(event)
        if current.row() == 0:
            self.model.fetch_newer()

    def _on_table_scrolled(self, value: int) -> None:
        if value == self.table.verticalScrollBar().minimum():
            self.model.fetch_newer()

    def _on_model_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if first == 0 and last + 1 < self.model.rowCount():
            # Newer events went in above: keep the rows in view where they were.
            bar = self.table.verticalScrollBar()
            step = 1 if self.table.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem \
                else self.table.rowHeight(0)
            bar.setValue(bar.value() + (last + 1) * step)

    def _on_model_page_loaded(self, rows: int) -> None:
        if rows and not self._columns_fitted:
            self._columns_fitted = True         # fitted once to the first rows; then the user's to drag
            for column in range(len(COLUMNS) - 1):
                self.table.resizeColumnToContents(column)
        if self._pending is not None and rows:
            target, nearest = self._pending
            row = self.model.row_of_event(seq=target)
            if row is None and not nearest:
                return                          # not loaded (yet): nothing to select
            if row is None:                     # the event itself is gone: the nearest one
                row = min(range(rows), key=lambda r: abs(self.model.event_at(r).seq - target))
            self._pending = None
            self._select_row(row)
        elif rows and not self.table.currentIndex().isValid():
            self._select_row(0)                 # the details pane shows the newest event, not nothing

    def _on_model_total_counted(self, count: AuditCount) -> None:
        one = count.total == 1 and count.exact
        number = f"{count.total:,}" if count.exact else f"more than {count.total:,}"
        matching = (" matches" if one else " match") + " the filters" if self.model.query.filtered else ""
        self.count_label.setText(f"{number} {'event' if one else 'events'}{matching}")

    def _on_chain_checked(self, check: ChainCheck) -> None:
        self.last_check = check
        self.banner.show_check(check)
        if check.verdict.ok:
            self.model.mark_broken(seq=None)
        else:
            shown = check.shown.seq if check.shown is not None else None
            self.model.mark_broken(seq=shown, reason=check.verdict.reason or "")
            if shown is not None:
                self.go_to_event(seq=shown)
                self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show_details(self.model.event_at(self.table.currentIndex().row()))
        self.chain_verified.emit(check)

    def _on_chain_cancelled(self) -> None:
        self.banner.show_cancelled()

    def _on_chain_failed(self, error: BaseException) -> None:
        message, hint = explain(error)
        self.banner.show_failure(message=message + (f" {hint}" if hint else ""))
        show_error(parent=self, error=error, action="Verifying the audit chain")
