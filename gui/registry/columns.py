"""The registry listing's column widths: the version's name, number and standing for its next
stage stay in view however narrow the listing is; the other columns scroll sideways.

The columns are fitted to the rows shown (the next stage once its standings arrive); when
that is wider than the view, the name gives way first (down to a few letters), then the next
stage's headline, which the view then shortens with an ellipsis, its whole text on hover,
rather than letting the view's edge cut it through a letter. Once the user drags a column the
widths are theirs.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHeaderView, QTableView

from modelgate.gui.registry.model import COLUMNS

_KEYS = [key for key, _ in COLUMNS]
NAME, VERSION, NEXT = _KEYS.index("name"), _KEYS.index("version"), _KEYS.index("next")
#: Rows measured when the columns are fitted (those in view, then this many).
MEASURED_ROWS = 200
#: The fewest characters the name and the next stage's headline keep before the ellipsis.
NAME_LETTERS, NEXT_LETTERS = 5, 9


class ListingColumns(QObject):
    """Fits ``table``'s columns, and keeps the leading ones in view as its width changes."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table
        self._natural: dict[int, int] = {}
        self._fitting = False
        self.user_sized = False
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(MEASURED_ROWS)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(24)
        header.sectionResized.connect(self._on_header_section_resized)
        self._header_pressed = False      # a mouse button went down in the header, not elsewhere
        # Kept, not asked of the table in eventFilter: that also sees the events of the table's
        # destruction, when asking a half-destroyed table would crash.
        self._rows_viewport, self._header_viewport = table.viewport(), header.viewport()
        self._rows_viewport.installEventFilter(self)
        self._header_viewport.installEventFilter(self)

    def fit(self, *columns: int) -> None:
        """Fit ``columns`` (default: every one) to the rows shown, then keep the leading ones in view."""
        if self.user_sized:
            return
        for column in columns or range(len(COLUMNS)):
            self._natural[column] = max(self._table.sizeHintForColumn(column),
                                        self._table.horizontalHeader().sectionSizeHint(column))
        self._lay_out()

    def _lay_out(self) -> None:
        if not self._natural or self.user_sized:
            return
        metrics, table = self._table.fontMetrics(), self._table
        room = table.viewport().width()
        natural = {c: self._natural.get(c, table.columnWidth(c)) for c in range(len(COLUMNS))}
        padding = 2 * table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 8
        floor_name = min(natural[NAME], metrics.averageCharWidth() * NAME_LETTERS + padding)
        floor_next = min(natural[NEXT], metrics.averageCharWidth() * NEXT_LETTERS + padding)
        # What the name and the headline may take beside the version number, name first to give way.
        spare = room - natural[VERSION]
        next_width = max(floor_next, min(natural[NEXT], spare - floor_name))
        name_width = max(floor_name, min(natural[NAME], spare - next_width))
        widths = {**natural, NAME: name_width, NEXT: next_width}
        self._fitting = True
        try:
            for column, width in widths.items():
                table.setColumnWidth(column, width)
        finally:
            self._fitting = False

    def _on_header_section_resized(self, column: int, _old: int, _new: int) -> None:
        # Only a drag that began in the header is the user's: the view resizes the stretched last
        # section itself, also while a splitter beside the listing is dragged.
        if not self._fitting and self._header_pressed and column != len(COLUMNS) - 1:
            self.user_sized = True

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if watched is self._rows_viewport:
            if kind == QEvent.Type.Resize:
                self._lay_out()
        elif watched is self._header_viewport:
            if kind == QEvent.Type.MouseButtonPress:
                self._header_pressed = True
            elif kind == QEvent.Type.MouseButtonRelease:
                self._header_pressed = False
        return False
