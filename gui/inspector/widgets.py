"""Small building blocks the inspector's tabs share: forms, tables, sections and notes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QFrame, QGroupBox, QHeaderView, QLabel, QLineEdit,
                               QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from modelgate.gui.app.theme import BAD, DOUBT, GOOD, MUTED, follow_theme

STATUS_COLOURS = {"allowed": GOOD, "denied": BAD, "unknown": DOUBT}
#: A run of this many characters without a space (a path, a digest) cannot wrap in a label.
UNBREAKABLE = re.compile(r"\S{40,}")


def value_label(text: str, *, rich: bool = False) -> QLabel:
    """A selectable, wrapping label for one value (plain text unless ``rich``)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard
                                  | (Qt.TextInteractionFlag.LinksAccessibleByMouse if rich else
                                     Qt.TextInteractionFlag.NoTextInteraction))
    return label


def long_value(text: str) -> QLineEdit:
    """A one-line read-only field for a value that cannot wrap (a path, a digest): it takes the
    width it is given and scrolls, instead of widening the page; selecting copies it whole, and
    the tooltip shows it all."""
    field = QLineEdit(text, objectName="long-value")
    field.setReadOnly(True)
    field.setFrame(False)
    field.setCursorPosition(0)
    field.setToolTip(text)
    palette = field.palette()
    palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
    field.setPalette(palette)
    return field


def form(rows: Iterable[tuple[str, str | QWidget]]) -> QWidget:
    """Label/value rows; a value may be text or a widget. Empty values show as a dash."""
    widget = QWidget()
    layout = QFormLayout(widget)
    layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    # In a narrow window a long name goes above its value rather than squeezing it.
    layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    layout.setContentsMargins(0, 0, 0, 0)
    for name, value in rows:
        text = str(value) if value not in (None, "") else "—"
        field = value if isinstance(value, QWidget) else (
            long_value(text) if UNBREAKABLE.search(text) else value_label(text))
        layout.addRow(QLabel(f"{name}:"), field)
    return widget


class Section(QGroupBox):
    """A group box whose title never widens the page: in a narrow window the title is shortened
    with an ellipsis (the whole of it is the tooltip) instead of pushing the page sideways."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._title = title

    def title(self) -> str:
        return self._title

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        layout = self.layout()
        if layout is None:
            return hint
        margins = self.contentsMargins()
        return QSize(layout.totalMinimumSize().width() + margins.left() + margins.right(), hint.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        room = self.width() - 2 * self.fontMetrics().averageCharWidth() - 16
        shown = self.fontMetrics().elidedText(self._title, Qt.TextElideMode.ElideRight, max(room, 0))
        if shown != super().title():
            super().setTitle(shown)
            self.setToolTip(self._title if shown != self._title else "")


def section(title: str, *widgets: QWidget) -> QGroupBox:
    """A titled group holding ``widgets`` one above the other."""
    box = Section(title)
    layout = QVBoxLayout(box)
    for widget in widgets:
        layout.addWidget(widget)
    return box


def note(text: str, *, colour: str | None = None) -> QLabel:
    """A wrapping sentence, e.g. why a list is empty."""
    label = value_label(text)
    if colour:
        follow_theme(label, lambda: label.setStyleSheet(f"color: {colour};"))
    return label


def table(headers: Sequence[str], rows: Iterable[Sequence], *, stretch: int | None = None,
          colours: Iterable | None = None, object_name: str = "", wrap: bool = True) -> QTableWidget:
    """A read-only table sized to its rows; ``colours`` tints each row's text. Without ``wrap``
    long values are shortened in the middle (the whole value is the cell's tooltip)."""
    rows = [list(row) for row in rows]
    widget = QTableWidget(len(rows), len(headers))
    widget.setObjectName(object_name)
    widget.setHorizontalHeaderLabels(list(headers))
    widget.verticalHeader().setVisible(False)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setAlternatingRowColors(True)
    widget.setWordWrap(wrap)
    if not wrap:
        widget.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    tints = list(colours) if colours is not None else [None] * len(rows)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem("—" if value in (None, "") else str(value))
            item.setToolTip(item.text())
            widget.setItem(r, c, item)

    def tint_rows() -> None:
        for r, tint in enumerate(tints):
            for c in range(widget.columnCount()) if tint else ():
                widget.item(r, c).setForeground(QBrush(QColor(str(tint))))

    if any(tints):
        follow_theme(widget, tint_rows)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        header.setStretchLastSection(True)
    widget.resizeRowsToContents()
    fit_height(widget)
    return widget


def fit_height(widget: QTableWidget, *, most_rows: int = 12) -> None:
    """Make a table as tall as its rows (up to ``most_rows``), so a page scrolls, not the table."""
    height = widget.horizontalHeader().sizeHint().height() + 2 * widget.frameWidth()
    for row in range(min(widget.rowCount(), most_rows)):
        height += widget.rowHeight(row)
    widget.setMinimumHeight(height + 2)
    widget.setMaximumHeight(height + 2 if widget.rowCount() <= most_rows else 16777215)


class Page(QScrollArea):
    """A tab's scrolling page: sections stacked from the top, replaced whole on each version."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._body = QWidget()
        QVBoxLayout(self._body)
        self.setWidget(self._body)

    def replace(self, *widgets: QWidget) -> None:
        """Show ``widgets`` instead of what was there."""
        body = QWidget()
        layout = QVBoxLayout(body)
        for widget in widgets:
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setWidget(body)   # the old body is deleted with its widgets
        self._body = body
