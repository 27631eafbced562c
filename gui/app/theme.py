"""Light and dark: follow the desktop's appearance unless the user picked one.

Qt asks the platform for the chosen colour scheme; a platform that cannot switch (some
Linux desktops, the offscreen platform) keeps its own, so the app then sets the palette
itself, from the Fusion style's light palette or a dark one made to match it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from modelgate.gui.app.settings import THEMES

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}
#: The dark palette's colours by role.
DARK = {
    QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1f1f1f", QPalette.ColorRole.AlternateBase: "#2a2a2a",
    QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.ToolTipBase: "#353535",
    QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#7fb2ff",
    QPalette.ColorRole.PlaceholderText: "#9a9a9a", QPalette.ColorRole.Mid: "#555555",
    QPalette.ColorRole.BrightText: "#ff6b6b",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def apply_theme(app: QApplication, *, theme: str) -> str:
    """Use ``theme`` (system, light or dark) for every window of ``app``; return the one in force."""
    if theme not in THEMES:
        theme = "system"
    hints = app.styleHints()
    if theme == "system":
        hints.unsetColorScheme()
        app.setPalette(app.style().standardPalette())
        return theme
    hints.setColorScheme(SCHEMES[theme])
    if hints.colorScheme() != SCHEMES[theme]:       # the platform could not switch: paint it ourselves
        app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
    return theme
