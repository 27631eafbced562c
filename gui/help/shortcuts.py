"""Help › Keyboard shortcuts: read from the actions the window actually has, never a list kept by hand.

Every menu entry is a QAction of the window (see :func:`modelgate.gui.app.actions.build_menus`
and the Version menu's workflow actions); whatever has a shortcut is listed under its menu,
in the platform's own notation (Ctrl on Linux and Windows, ⌘ on macOS).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QMainWindow, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)


def shortcuts(window: QMainWindow) -> dict[str, list[tuple[str, str, str]]]:
    """{menu title: [(action text, shortcut, what it does)]} of every action with a shortcut, in menu
    order; actions the window has outside its menus are listed under "Other"."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    listed: set[int] = set()

    def add(menu: str, action: QAction) -> None:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if keys and id(action) not in listed:
            listed.add(id(action))
            text = action.text().replace("&", "").rstrip("…")
            # Qt makes the tooltip the text when none was set: that says nothing more.
            tip = action.statusTip() or (action.toolTip() if action.toolTip() != action.text().replace("&", "") else "")
            found.setdefault(menu, []).append((text, ", ".join(keys), tip))

    for entry in window.menuBar().actions():
        menu = entry.menu()
        if menu is not None:
            for action in menu.actions():
                add(entry.text().replace("&", ""), action)
    for action in window.actions():
        add("Other", action)
    return found


class ShortcutsDialog(QDialog):
    """The shortcuts of ``window``, by menu."""

    def __init__(self, *, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("shortcuts-dialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(640, 560)
        self.tree = QTreeWidget(objectName="shortcuts-tree")
        self.tree.setHeaderLabels(["Action", "Shortcut", "What it does"])
        self.tree.setRootIsDecorated(False)
        for menu, rows in shortcuts(window).items():
            group = QTreeWidgetItem([menu])
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self.tree.addTopLevelItem(group)
            for text, keys, tip in rows:
                group.addChild(QTreeWidgetItem([text, keys, tip]))
            group.setExpanded(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)


def show_shortcuts(*, window: QMainWindow) -> ShortcutsDialog:
    """Open the shortcuts list for ``window`` (non-modal; returns at once)."""
    dialog = ShortcutsDialog(window=window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
