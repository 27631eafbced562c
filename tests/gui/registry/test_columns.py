"""The listing's columns keep the name, the version and the next stage's headline in view: the
name gives way first, then the headline (shortened with an ellipsis), never cut by the edge."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView

from modelgate.gui.registry.columns import NAME, NEXT, VERSION, ListingColumns
from modelgate.gui.registry.model import COLUMNS

ROW = {"name": "support-embedder-multilingual", "version": "2.1.0-rc.1", "next": "✖ staging: benchmarks fails",
       "stage": "candidate", "signatures": "0", "updated": "2026-12-08 00:11"}


@pytest.fixture
def listing(qtbot):
    model = QStandardItemModel(0, len(COLUMNS))
    model.setHorizontalHeaderLabels([title for _, title in COLUMNS])
    for _ in range(5):
        model.appendRow([QStandardItem(ROW[key]) for key, _ in COLUMNS])
    table = QTableView()
    table.setModel(model)
    table.setWordWrap(False)
    qtbot.addWidget(table)
    columns = ListingColumns(table)
    table.show()
    return table, columns


def text_width(table, column: int) -> int:
    return table.fontMetrics().horizontalAdvance(ROW[COLUMNS[column][0]])


@pytest.mark.parametrize("width", [260, 330, 420])
def test_the_next_stage_stays_in_view_and_the_name_gives_way_first(qtbot, listing, width):
    table, columns = listing
    table.resize(width, 300)
    columns.fit()
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    right = table.columnViewportPosition(NEXT) + table.columnWidth(NEXT)
    assert right <= table.viewport().width()
    assert table.columnWidth(VERSION) >= text_width(table, VERSION)
    if table.columnWidth(NEXT) < text_width(table, NEXT):       # the headline gave way only once the name had
        assert table.columnWidth(NAME) < text_width(table, NAME)


def test_a_wide_listing_shows_every_leading_column_whole(qtbot, listing):
    table, columns = listing
    table.resize(1000, 300)
    columns.fit()
    for column in (NAME, VERSION, NEXT):
        assert table.columnWidth(column) >= text_width(table, column)


def test_widths_follow_the_view_until_the_user_sets_them(qtbot, listing):
    table, columns = listing
    table.resize(1000, 300)
    columns.fit()
    wide = table.columnWidth(NAME)
    table.resize(280, 300)
    qtbot.waitUntil(lambda: table.columnWidth(NAME) < wide)
    columns.user_sized = True          # as a drag in the header sets it
    table.resize(1000, 300)
    columns.fit()
    assert table.columnWidth(NAME) < wide


def test_only_a_drag_begun_in_the_header_makes_the_widths_the_users(qtbot, listing):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    table, columns = listing
    table.resize(1000, 300)
    columns.fit()
    header = table.horizontalHeader()
    # The view resizing its stretched last section, with a button held elsewhere (a splitter drag).
    QTest.mousePress(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    table.resize(900, 300)
    header.resizeSection(NAME, header.sectionSize(NAME) + 1)   # as the view's own fitting might
    assert not columns.user_sized
    QTest.mouseRelease(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    # A press in the header, then a section resized: the user's drag.
    QTest.mousePress(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    header.resizeSection(NAME, header.sectionSize(NAME) + 20)
    QTest.mouseRelease(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert columns.user_sized
