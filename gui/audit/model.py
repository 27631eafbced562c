"""The audit log as a Qt table model that fetches its events a page at a time, in both directions.

The model only adapts the core's :class:`~modelgate.core.registry.AuditEvent` rows. It
asks its ``source`` for older events as the view scrolls down (``canFetchMore`` /
``fetchMore``) and, when it was opened at an event deep in the log (:meth:`set_query`
with ``anchor``), for newer ones as the view reaches the top (:meth:`fetch_newer`).
Pages continue from the first or last event held, so a page costs the same a million
events deep. Answers to an older query are dropped by their generation number.
"""

from __future__ import annotations

import json
from datetime import datetime

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush

from modelgate.gui.app import theme
from modelgate.gui.ops.audit import AuditEvent, AuditQuery, AuditValues
from modelgate.gui.inspector.history import KEYS
from modelgate.gui.app.table_model import RecordTableModel

#: (key, header) of each column, in order.
COLUMNS = (("seq", "#"), ("time", "Time"), ("actor", "Actor"), ("action", "Action"), ("subject", "Subject"),
           ("summary", "Details"))
#: Events asked for at a time.
PAGE_SIZE = 200
#: Newer events loaded above an anchor, so the event jumped to is seen in its context.
CONTEXT = 20
#: The data role that says whether a row is the event where the chain breaks.
BROKEN_ROLE = Qt.ItemDataRole.UserRole + 1
#: Values longer than this are shortened in the one-line summary (digests, hashes).
SHORT = 16


def local_time(created_at: str) -> str:
    """The stored UTC time in the viewer's local time, to the second (the text itself if unreadable)."""
    try:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return created_at
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment.tzinfo else created_at


def payload_summary(payload: dict) -> str:
    """The payload on one line: the telling keys first, long values shortened."""
    ordered = [k for k in KEYS if k in payload] + sorted(k for k in payload if k not in KEYS)
    parts = []
    for key in ordered:
        value = payload[key]
        if value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > SHORT * 4 or (len(text) > SHORT and " " not in text):
            text = text[:SHORT] + "…"
        parts.append(f"{key}: {text}")
    return "; ".join(parts)


#: Each column's text of an event: a cell makes only its own (the view asks for cells often).
TEXT_OF = {"seq": lambda event: str(event.seq), "time": lambda event: local_time(event.created_at),
           "actor": lambda event: event.actor, "action": lambda event: event.action,
           "subject": lambda event: event.subject, "summary": lambda event: payload_summary(event.payload)}


class AuditTableModel(RecordTableModel):
    """Events matching an :class:`AuditQuery`, loaded lazily from ``source``.

    ``source.request_page(query=, values=, after=, before=, limit=, generation=, deliver=)``
    and ``source.request_count(query=, values=, generation=, deliver=)`` run in the
    background and call ``deliver(result)`` on the UI thread; ``generation`` lets the
    source skip work that a newer query overtook while it waited.
    """

    page_loaded = Signal(int)            # events held after a page arrived
    total_counted = Signal(object)       # AuditCount of the query

    COLUMNS = COLUMNS

    def __init__(self, *, source, parent=None) -> None:
        super().__init__(parent)
        self._source = source
        self._query = AuditQuery()
        self._values: AuditValues | None = None
        self._rows: list[AuditEvent] = []
        self.generation = 0
        self._loading = False
        self._older_exhausted = True
        self._newer_exhausted = True
        self.broken: int | None = None
        self.broken_reason = ""

    # ------------------------------------------------------------------ the query
    @property
    def query(self) -> AuditQuery:
        return self._query

    def set_query(self, *, query: AuditQuery, values: AuditValues | None = None, anchor: int | None = None) -> None:
        """Show the events ``query`` selects: from the newest, or around event ``anchor``."""
        self.generation += 1
        self.beginResetModel()
        self._query, self._values = query, values
        self._rows = []
        self._loading = False
        self._older_exhausted = False
        self._newer_exhausted = anchor is None
        self.endResetModel()
        if anchor is None:
            self.fetchMore(QModelIndex())
        else:
            self._request(after=anchor + CONTEXT + 1 if query.newest_first else max(0, anchor - CONTEXT - 1),
                          newer=False)
        generation = self.generation
        self._source.request_count(query=query, values=values, generation=generation,
                                   deliver=lambda total: self._on_source_counted(generation, total))

    def mark_broken(self, *, seq: int | None, reason: str = "") -> None:
        """Paint event ``seq`` as the one where the chain breaks (``None``: no event)."""
        self.broken, self.broken_reason = seq, reason
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    # ------------------------------------------------------------------ lazy rows
    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and not self._older_exhausted and not self._loading

    def fetchMore(self, parent=QModelIndex()) -> None:
        if self.canFetchMore(parent):
            self._request(after=self._rows[-1].seq if self._rows else None, newer=False)

    def can_fetch_newer(self) -> bool:
        """Whether events newer than the first one held may exist and none are on their way."""
        return not self._newer_exhausted and not self._loading and bool(self._rows)

    def fetch_newer(self) -> None:
        """Ask for the page of events just above the first one held."""
        if self.can_fetch_newer():
            self._request(before=self._rows[0].seq, newer=True)

    def _request(self, *, after: int | None = None, before: int | None = None, newer: bool) -> None:
        self._loading = True
        generation = self.generation
        self._source.request_page(query=self._query, values=self._values, after=after, before=before,
                                  limit=PAGE_SIZE, generation=generation,
                                  deliver=lambda rows: self._on_source_page(generation, rows, newer))

    def _on_source_page(self, generation: int, rows: list[AuditEvent], newer: bool) -> None:
        if generation != self.generation:
            return
        self._loading = False
        if newer:
            self._newer_exhausted = len(rows) < PAGE_SIZE
            if rows:
                self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
                self._rows[:0] = rows
                self.endInsertRows()
        else:
            self._older_exhausted = len(rows) < PAGE_SIZE
            if rows:
                start = len(self._rows)
                self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
        self.page_loaded.emit(len(self._rows))

    def _on_source_counted(self, generation: int, total) -> None:
        if generation == self.generation and total is not None:
            self.total_counted.emit(total)

    @property
    def loading(self) -> bool:
        """Whether a page is on its way."""
        return self._loading

    def event_at(self, row: int) -> AuditEvent | None:
        return self.record_at(row)

    def row_of_event(self, *, seq: int) -> int | None:
        """The row of event ``seq`` among the events loaded so far."""
        return next((i for i, event in enumerate(self._rows) if event.seq == seq), None)

    # ------------------------------------------------------------------ Qt model
    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        event, key = self._rows[index.row()], COLUMNS[index.column()][0]
        broken = event.seq == self.broken
        if role == Qt.ItemDataRole.DisplayRole:
            return TEXT_OF[key](event)
        if role == BROKEN_ROLE:
            return broken
        if role == Qt.ItemDataRole.BackgroundRole and broken:
            return QBrush(theme.tint("bad"))
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "seq":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if broken:
                return f"The chain breaks here: {self.broken_reason}"
            return f"{event.created_at} (UTC) · event hash {event.hash[:16]}…"
        return None
