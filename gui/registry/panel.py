"""The left side of the main window: the registry listing with its filter, stage and status.

Typing in the filter asks for a new first page straight away; queries run on the
registry worker in order, a query already overtaken by a newer one is skipped, and one
still running when the next key arrives is stopped in the database. The "Next stage" of a
page's versions is judged in a worker process once the typing pauses
(:data:`STANDING_SETTLE_MS`), never for rows a newer key has already replaced.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QTableView, QVBoxLayout, QWidget)

from modelgate.gui.ops.registry import STATUSES, VersionQuery
from modelgate.core.policy.stages import STAGES
from modelgate.gui.ops.background import BackgroundOperation, Newest
from modelgate.gui.registry.columns import NEXT, ListingColumns
from modelgate.gui.registry.empty_state import empty_text, filters_in
from modelgate.gui.registry.model import COLUMNS, RegistryTableModel

#: How long a page's rows stay on screen before their next stage is judged: a key typed
#: meanwhile replaces them, and their judging (a worker process's time) is never started.
STANDING_SETTLE_MS = 150


class RegistryPanel(QWidget):
    """Filter box, stage and status filters, and the sortable, lazily filled table."""

    version_selected = Signal(object)      # VersionInfo
    facets_indexed = Signal(int)           # versions whose tags and owners are now searchable

    def __init__(self, *, workers, progress_panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        self._progress_panel = progress_panel
        self.connection = None
        self._pending_selection: tuple[str, str] | None = None
        # Queued reads ask this, never the model, whether a newer query overtook them.
        self._newest_query = Newest()
        # (connection, query, refs, deliver) of each page waiting to be judged
        self._standing_asked: list[tuple[object, VersionQuery, list, object]] = []
        self._standing_timer = QTimer(self, singleShot=True, interval=STANDING_SETTLE_MS)
        self._standing_timer.timeout.connect(self._on_standing_timer_timeout)
        self.model = RegistryTableModel(source=self, parent=self)

        self.filter_edit = QLineEdit(placeholderText="Filter by name, tag or owner  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setObjectName("registry-filter")
        self.stage_box = QComboBox(objectName="stage-filter")
        self.stage_box.addItem("All stages", None)
        for stage in STAGES:
            self.stage_box.addItem(stage, stage)
        self.status_box = QComboBox(objectName="status-filter")
        self.status_box.addItem("Any validation", None)
        for status in STATUSES:
            self.status_box.addItem(status, status)
        self.table = QTableView(objectName="registry-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(
            [key for key, _ in COLUMNS].index("updated"), Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setWordWrap(False)
        self.columns = ListingColumns(self.table)
        self._columns_fitted = False
        self.count_label = QLabel(objectName="registry-count")
        self.source_label = QLabel(objectName="registry-source")
        self.source_label.setWordWrap(True)
        self.empty = QLabel(objectName="registry-empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()

        filters = QHBoxLayout()
        filters.addWidget(self.stage_box)
        filters.addWidget(self.status_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.source_label)
        layout.addWidget(self.filter_edit)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.count_label)

        self.filter_edit.textChanged.connect(self._on_filter_edit_text_changed)
        self.stage_box.currentIndexChanged.connect(self._on_filters_changed)
        self.status_box.currentIndexChanged.connect(self._on_filters_changed)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.model.total_counted.connect(self._on_model_total_counted)
        self.model.page_loaded.connect(self._on_model_page_loaded)
        self.model.dataChanged.connect(self._on_model_data_changed)

    # ------------------------------------------------------------- the connection
    def set_connection(self, connection) -> None:
        """Browse ``connection`` (a RegistryConnection), or nothing when ``None``."""
        self.connection = connection
        self._standing_asked.clear()
        self.source_label.setText(f"Registry: {connection.label}" if connection else "No registry open")
        self.source_label.setToolTip(connection.label if connection else "")
        self._apply_filters()
        if connection is not None:
            self._index_facets(connection)

    def refresh(self) -> None:
        """Reload the listing, keeping the selected version selected."""
        current = self.model.version_at(self.table.currentIndex().row())
        if current is not None:
            self._pending_selection = (current.name, current.version)
        self.model.refresh()

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def select_version(self, *, name: str, version: str) -> None:
        """Select ``name@version``, narrowing the filter to its model if it is not loaded."""
        row = self.model.row_of(name=name, version=version)
        if row is not None:
            self._select_row(row)
            return
        self._pending_selection = (name, version)
        self.stage_box.setCurrentIndex(0)
        self.status_box.setCurrentIndex(0)
        self.filter_edit.setText(name)

    # ------------------------------------------------------------- the model's source
    def request_page(self, *, query: VersionQuery, offset: int, limit: int, deliver) -> None:
        connection = self.connection
        if connection is None:
            deliver([])
            return

        newest = self._newest_query
        if newest.overtook(query):
            connection.stop_listing()   # the query running now answers an older key: stop it
        newest.set(query)

        def work(progress):
            if newest.overtook(query):  # overtaken by a newer query while queued
                return []
            return connection.page(query=query, offset=offset, limit=limit)

        BackgroundOperation(parent=self, executor=self._workers.listing, work=work).on_success(deliver).start()

    def request_standing(self, *, refs: list[tuple[str, str]], deliver) -> None:
        if self.connection is None:
            return
        self._standing_asked.append((self.connection, self.model.query, refs, deliver))
        self._standing_timer.start()     # restarted by each page: judged once the pages settle

    def _on_standing_timer_timeout(self) -> None:
        asked, self._standing_asked = self._standing_asked, []
        connection, newest, processes = self.connection, self._newest_query, self._workers.processes
        for asked_of, query, refs, deliver in asked:
            if asked_of is not connection or newest.overtook(query):
                continue     # another registry's rows, or rows a newer key replaced

            def work(progress, query=query, refs=refs):
                if newest.overtook(query):   # overtaken while waiting for a worker
                    return {}
                return connection.standings(refs=refs, processes=processes, progress=progress)

            BackgroundOperation(parent=self, executor=self._workers.bundles, work=work).on_success(deliver) \
                .on_failure(lambda error, query=query, refs=refs: self._on_standing_failed(connection, query, refs,
                                                                                          error)).start()

    def _on_standing_failed(self, connection, query, refs, error) -> None:
        """Said in the cells themselves, not in a dialog that would come back with every page."""
        from modelgate.gui.dialogs.error import explain

        if connection is self.connection and not self._newest_query.overtook(query):
            self.model.standing_failed(refs=refs, reason=f"The next stage could not be judged: {explain(error)[0]}")

    def request_count(self, *, query: VersionQuery, deliver) -> None:
        connection = self.connection
        if connection is None:
            deliver(0)
            return

        newest = self._newest_query
        newest.set(query)

        def work(progress):
            return -1 if newest.overtook(query) else connection.count(query=query)

        BackgroundOperation(parent=self, executor=self._workers.listing, work=work).on_success(deliver).start()

    # ------------------------------------------------------------- slots
    def _apply_filters(self) -> None:
        query = dataclasses.replace(self.model.query, text=self.filter_edit.text(),
                                    stage=self.stage_box.currentData(), status=self.status_box.currentData())
        self.model.set_query(query=query)

    def _on_filter_edit_text_changed(self, _text: str) -> None:
        self._apply_filters()

    def _on_filters_changed(self, _index: int) -> None:
        self._apply_filters()

    def _on_table_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        info = self.model.version_at(current.row())
        if info is not None:
            self.version_selected.emit(info)

    def _on_model_total_counted(self, total: int) -> None:
        if total < 0:
            return
        filtered = bool(self.model.query.text.strip() or self.model.query.stage or self.model.query.status)
        noun = "version" if total == 1 else "versions"
        self.count_label.setText(f"{total:,} {noun}" + (" match the filters" if filtered else ""))
        self._show_empty(total == 0)

    def _show_empty(self, empty: bool) -> None:
        """Say why no row is shown instead of an empty table: what the filters hide, or how to import."""
        self.table.setVisible(not empty)
        self.empty.setVisible(empty)
        if not empty:
            return
        query, connection = self.model.query, self.connection
        self.empty.setText(empty_text(query=query, hidden=None))
        if not filters_in(query) or connection is None:
            return
        everything = dataclasses.replace(query, text="", stage=None, status=None)

        def shown(total: int) -> None:
            if self.model.query == query and self.empty.isVisible():   # not a later filter's answer
                self.empty.setText(empty_text(query=query, hidden=total))

        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _progress: connection.count(query=everything)).on_success(shown).start()

    def _on_model_page_loaded(self, rows: int) -> None:
        if rows and not self._columns_fitted:
            # Fit the columns to the first rows once; after that they are the user's to drag.
            self._columns_fitted = True
            self.columns.fit()
        if self._pending_selection is not None:
            row = self.model.row_of(name=self._pending_selection[0], version=self._pending_selection[1])
            if row is not None:
                self._pending_selection = None
                self._select_row(row)

    def _on_model_data_changed(self, top_left: QModelIndex, _bottom_right: QModelIndex, _roles=()) -> None:
        if top_left.column() == NEXT:       # standings arrived: their headlines replace "…"
            self.columns.fit(NEXT)

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def _index_facets(self, connection) -> None:
        """Index submitters and the stored manifests' tags and owners, so the filter matches them
        too: the rows come from the registry thread, the manifests are read on the bundle pool."""
        def read(rows):
            if not rows:
                return
            BackgroundOperation(parent=self, executor=self._workers.bundles,
                                work=lambda progress: connection.index_facets(rows, progress=progress)) \
                .on_success(lambda index: self._on_facets_indexed(connection, index)).start()

        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda progress: connection.unindexed_versions()).on_success(read).start()

    def _on_facets_indexed(self, connection, index) -> None:
        connection.facets = index
        self.facets_indexed.emit(len(index))
        if connection is self.connection and self.model.query.text.strip():
            self.refresh()
