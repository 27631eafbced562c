"""The main window's menus and shortcuts: what a desktop user expects to find, where they expect it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QAction, QKeySequence


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry: its text, shortcut (Ctrl is Command on macOS), what it does, its tooltip."""

    text: str
    shortcut: str | None
    slot: Callable[[], None]
    tip: str = ""


def build_menus(window, menus: dict[str, list[ActionSpec | None]]) -> dict[str, QAction]:
    """Add ``menus`` ({menu title: entries, None for a separator}) to ``window``'s menu bar.

    Returns the actions by their text without ellipsis or ampersands, for tests and for
    enabling them later. Every action is also added to the window, so its shortcut works
    whatever has focus.
    """
    actions = {}
    bar = window.menuBar()
    for title, entries in menus.items():
        menu = bar.addMenu(title)
        for spec in entries:
            if spec is None:
                menu.addSeparator()
                continue
            action = QAction(spec.text, window)
            if spec.shortcut is not None:
                action.setShortcut(QKeySequence(spec.shortcut))
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip)
            action.triggered.connect(lambda _checked=False, slot=spec.slot: slot())
            menu.addAction(action)
            window.addAction(action)
            actions[spec.text.replace("&", "").rstrip("…")] = action
    return actions
