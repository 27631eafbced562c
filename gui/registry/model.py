"""The registry listing as a Qt table model that fetches its rows a page at a time.

The model only adapts the core's :class:`~modelgate.core.registry.VersionInfo` rows. It
asks its ``source`` for pages as the view scrolls (``canFetchMore``/``fetchMore``), and
the source answers later, on the UI thread; answers to an older query (the filter or
sort changed meanwhile) are dropped by their generation number.

The "Next stage" column says where each version stands for its next stage, by the
promotion's own gates (:mod:`~modelgate.core.registry.standing`); it is asked for each page
once the page is shown, and fills in when the answer comes.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush

from modelgate.gui.app.theme import BAD, OUTCOME_INKS
from modelgate.gui.ops.registry import VersionInfo, VersionQuery
from modelgate.gui.app.table_model import RecordTableModel

#: (sort key, header) of each column, in order.
COLUMNS = (("name", "Name"), ("version", "Version"), ("next", "Next stage"), ("stage", "Stage"),
           ("signatures", "Signatures"), ("updated", "Updated"))
#: Columns the registry can sort by (the next stage's standing is judged after the page is read).
SORTABLE = ("name", "version", "stage", "signatures", "updated")
#: Rows asked for first under a new query: a screenful on a large monitor. Each row costs
#: its aggregates (validation, approvals, signatures), so a key typed in the filter is
#: answered by the rows it shows, not by the pages behind them.
FIRST_PAGE = 60
#: Rows asked for at a time as the view scrolls on.
PAGE_SIZE = 200
ALERT_COLOUR = BAD


def stage_text(row: VersionInfo) -> str:
    """The stage, flagged when the stored copy is damaged or a break-glass rollback put it there."""
    flags = (["⚠ break-glass"] if row.break_glass else []) + (["⚠ damaged"] if row.damaged else [])
    return "  ".join([row.stage, *flags])


def alerts(row: VersionInfo) -> list[str]:
    """Sentences for what must not be missed about ``row`` (tooltips, the inspector)."""
    found = []
    if row.break_glass:
        found.append(f"Restored to production by break-glass: {row.break_glass_by} on "
                     f"{updated_text(row.break_glass_at)}, why: {row.break_glass_reason}. Its production "
                     "gates did not hold; shown until a normal promotion replaces it.")
    if row.damaged:
        found.append("The stored copy is damaged (registry fsck): promotion, rollback, signing and reports "
                     f"refuse it until `modelgate registry repair {row.ref} BUNDLE`.")
    return found


@dataclasses.dataclass(frozen=True)
class NotJudged:
    """What the "Next stage" cell says when the judging itself failed (the worker process
    stopped, the database went away): the reason on hover, never a verdict."""

    reason: str
    headline: str = "⚠ not judged"
    outcome: str = "unjudged"


def updated_text(moment: datetime) -> str:
    """A timestamp in the viewer's local time, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


#: Each column's text of a version (but the next stage's): a cell makes only its own.
TEXT_OF = {"name": lambda row: row.name, "version": lambda row: row.version, "stage": stage_text,
           "signatures": lambda row: str(row.signatures), "updated": lambda row: updated_text(row.updated_at)}


class RegistryTableModel(RecordTableModel):
    """Versions matching a :class:`VersionQuery`, loaded lazily from ``source``.

    ``source.request_page(query=, offset=, limit=, deliver=)`` and
    ``source.request_count(query=, deliver=)`` run the query in the background and call
    ``deliver(result)`` on the UI thread.
    """

    page_loaded = Signal(int)        # rows held after a page arrived
    total_counted = Signal(int)      # versions matching the query

    COLUMNS = COLUMNS

    def __init__(self, *, source, parent=None) -> None:
        super().__init__(parent)
        self._source = source
        self._query = VersionQuery()
        self._rows: list[VersionInfo] = []
        self._standing: dict[tuple[str, str], object] = {}     # (name, version) -> Standing
        self._generation = 0
        self._loading = False
        self._exhausted = True

    # ------------------------------------------------------------------ the query
    @property
    def query(self) -> VersionQuery:
        return self._query

    def set_query(self, *, query: VersionQuery) -> None:
        """Show the versions ``query`` selects, from the first page."""
        self._generation += 1
        self.beginResetModel()
        self._query = query
        self._rows = []
        self._standing = {}
        self._loading = False
        self._exhausted = False
        self.endResetModel()
        self.fetchMore(QModelIndex())
        generation = self._generation
        self._source.request_count(query=query, deliver=lambda total: self._on_source_counted(generation, total))

    def refresh(self) -> None:
        """Ask again for the current query (after the registry changed)."""
        self.set_query(query=self._query)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][0]
        if key not in SORTABLE:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) != (self._query.sort, self._query.descending):
            self.set_query(query=dataclasses.replace(self._query, sort=key, descending=descending))

    # ------------------------------------------------------------------ lazy rows
    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent=QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self._loading = True
        generation = self._generation
        limit = PAGE_SIZE if self._rows else FIRST_PAGE
        self._source.request_page(query=self._query, offset=len(self._rows), limit=limit,
                                  deliver=lambda rows: self._on_source_page(generation, rows, limit))

    def _on_source_page(self, generation: int, rows: list[VersionInfo], limit: int) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = len(rows) < limit
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
            request = getattr(self._source, "request_standing", None)
            if request is not None:
                request(refs=[(r.name, r.version) for r in rows],
                        deliver=lambda found: self._on_source_standing(generation, found))
        self.page_loaded.emit(len(self._rows))

    def standing_failed(self, *, refs: list[tuple[str, str]], reason: str) -> None:
        """Say in the "Next stage" cells of ``refs`` that they could not be judged, and why."""
        missing = {ref: NotJudged(reason) for ref in refs if ref not in self._standing}
        self._on_source_standing(self._generation, missing)

    def _on_source_standing(self, generation: int, found: dict) -> None:
        if generation != self._generation or not found:
            return
        self._standing.update(found)
        column = [key for key, _ in COLUMNS].index("next")
        self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    def standing_of(self, row: int):
        """The standing of the version at ``row`` for its next stage, once it is known."""
        info = self.record_at(row)
        return self._standing.get((info.name, info.version)) if info is not None else None

    def _on_source_counted(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.total_counted.emit(total)

    @property
    def loading(self) -> bool:
        """Whether a page is on its way."""
        return self._loading

    def version_at(self, row: int) -> VersionInfo | None:
        return self.record_at(row)

    # ------------------------------------------------------------------ Qt model
    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, key = self._rows[index.row()], COLUMNS[index.column()][0]
        standing = self._standing.get((row.name, row.version))
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "next":
                return standing.headline if standing is not None else "…"
            return TEXT_OF[key](row)
        if role == Qt.ItemDataRole.ForegroundRole and key == "next":
            return QBrush(OUTCOME_INKS[standing.outcome if standing is not None else "unjudged"].qcolor())
        if role == Qt.ItemDataRole.ToolTipRole and key == "next":
            # The headline first: a narrow column shows it shortened.
            return f"{standing.headline}\n{standing.reason}" if standing is not None else \
                "Judging the gates for the next stage…"
        if role == Qt.ItemDataRole.ForegroundRole and key == "stage" and (row.break_glass or row.damaged):
            return QBrush(ALERT_COLOUR.qcolor())
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "signatures":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join([f"{row.ref}: {row.stage}, submitted by {row.submitter}, license "
                              f"{row.license or '—'}, {row.approvals} approval(s) at this stage, digest "
                              f"{row.digest[:16]}…", *alerts(row)])
        return None
