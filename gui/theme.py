"""Light and dark: follow the desktop's appearance unless the user picked one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from modelgate.gui.settings import THEMES

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}


def apply_theme(app: QApplication, *, theme: str) -> None:
    """Use ``theme`` (system, light or dark) for every window of ``app``."""
    if theme not in THEMES:
        theme = "system"
    hints = app.styleHints()
    if theme == "system":
        hints.unsetColorScheme()
    else:
        hints.setColorScheme(SCHEMES[theme])
