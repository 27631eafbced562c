"""Light and dark, from one palette: follow the desktop's appearance unless the user picked one.

Every colour the app paints comes from here: the window's roles (:data:`ROLES`) and the
inks that say good, bad, doubtful or neutral (:data:`INKS`), each given for both themes
and chosen so that text reaches WCAG AA contrast (4.5:1) on every background role of its
theme (a test computes it). Widgets ask :func:`ink` for a colour by name when they paint,
so the same code reads right on either theme.

Qt asks the platform for the chosen colour scheme; the app then sets the palette itself
from :data:`ROLES`, so the colours are the same on every platform (and offscreen).

The theme can change while windows are open (Settings). Palette roles follow by themselves,
and so does an ink a model's ``data()`` or a delegate reads as it paints; a colour a widget
takes once (a style sheet, rich text, a table item's brush) is set through
:func:`follow_theme`, which sets it again in the new theme's inks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from modelgate.gui.app.settings import THEMES

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}
Role = QPalette.ColorRole
#: The palette's colours by role, for each theme.
ROLES = {
    "light": {
        Role.Window: "#efefef", Role.WindowText: "#1d1d1d", Role.Base: "#ffffff", Role.AlternateBase: "#f7f7f7",
        Role.Text: "#1d1d1d", Role.Button: "#e4e4e4", Role.ButtonText: "#1d1d1d", Role.ToolTipBase: "#ffffdc",
        Role.ToolTipText: "#1d1d1d", Role.Highlight: "#2a5db0", Role.HighlightedText: "#ffffff",
        Role.Link: "#1a57b5", Role.LinkVisited: "#6a1b9a", Role.PlaceholderText: "#5c5f66", Role.Mid: "#b8b8b8",
        Role.Dark: "#9f9f9f", Role.Light: "#ffffff", Role.Midlight: "#cacaca", Role.Shadow: "#767676",
        Role.BrightText: "#ffffff",
    },
    "dark": {
        Role.Window: "#2b2b2b", Role.WindowText: "#e6e6e6", Role.Base: "#1f1f1f", Role.AlternateBase: "#2a2a2a",
        Role.Text: "#e6e6e6", Role.Button: "#353535", Role.ButtonText: "#e6e6e6", Role.ToolTipBase: "#353535",
        Role.ToolTipText: "#e6e6e6", Role.Highlight: "#2a5db0", Role.HighlightedText: "#ffffff",
        Role.Link: "#8ab4f8", Role.LinkVisited: "#d7aefb", Role.PlaceholderText: "#aaaaaa", Role.Mid: "#555555",
        Role.Dark: "#1a1a1a", Role.Light: "#505050", Role.Midlight: "#404040", Role.Shadow: "#000000",
        Role.BrightText: "#ffffff",
    },
}
#: Text of disabled widgets (WCAG asks no contrast of them; still kept legible).
DISABLED = {"light": "#6a6a6a", "dark": "#9a9a9a"}
#: Text pairs every theme must keep readable: (text role, background role).
TEXT_ON = ((Role.WindowText, Role.Window), (Role.Text, Role.Base), (Role.Text, Role.AlternateBase),
           (Role.ButtonText, Role.Button), (Role.ToolTipText, Role.ToolTipBase),
           (Role.HighlightedText, Role.Highlight), (Role.Link, Role.Base), (Role.Link, Role.Window),
           (Role.PlaceholderText, Role.Base), (Role.PlaceholderText, Role.Window))
#: The backgrounds an ink may be drawn on: labels on the window, table cells on base rows,
#: buttons on the button colour.
INK_BACKGROUNDS = (Role.Window, Role.Base, Role.AlternateBase, Role.Button)
#: Named colours with a meaning, for each theme.
INKS = {
    "light": {"good": "#1b6e20", "bad": "#b3261e", "doubt": "#8a5300", "muted": "#5c5f66",
              "champion": "#1f5fbf", "task.review": "#0d47a1", "task.approve": "#6a1b9a",
              "task.sign": "#8a5300", "task.promote": "#1b6e20"},
    "dark": {"good": "#7fd08a", "bad": "#ff8f85", "doubt": "#f6c55a", "muted": "#aaaaaa",
             "champion": "#7fb2ff", "task.review": "#8ab4f8", "task.approve": "#d7aefb",
             "task.sign": "#f6c55a", "task.promote": "#7fd08a"},
}
#: Translucent fills behind text (a broken audit event, a mismatched port): the text keeps
#: its own colour, so the fill stays light enough to read through on either theme.
TINTS = {"bad": (198, 40, 40, 45), "code": (127, 127, 127, 31)}
#: The fill of a selected row that is also broken, with the text drawn on it.
SELECTED_BAD = {"light": ("#8e1b1b", "#ffffff"), "dark": ("#8e1b1b", "#ffffff")}


def current_theme() -> str:
    """'dark' when the application's window colour is dark, else 'light'."""
    app = QGuiApplication.instance()
    if app is None:
        return "light"
    return "dark" if QGuiApplication.palette().color(Role.Window).lightness() < 128 else "light"


def ink(name: str, *, theme: str | None = None) -> str:
    """The colour (``#rrggbb``) of ink ``name`` ('good', 'bad', 'doubt', 'muted', ...) on ``theme``
    (default: the one in force)."""
    return INKS[theme or current_theme()][name]


@dataclass(frozen=True)
class Ink:
    """A colour by its meaning ('good', 'bad', ...): it reads as the colour of the theme in force
    when it is formatted (``f"color: {GOOD}"``), so a label styled after a theme change, or
    painted by a model's ``data()``, takes the new theme's shade."""

    name: str

    def __str__(self) -> str:
        return ink(self.name)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def qcolor(self) -> QColor:
        return QColor(str(self))


#: The inks most screens use.
GOOD, BAD, DOUBT, MUTED = Ink("good"), Ink("bad"), Ink("doubt"), Ink("muted")
#: The ink of each standing for the next stage (:mod:`modelgate.core.registry.standing`): only
#: a gate that fails is red; waiting for people is not a failure.
OUTCOME_INKS = {"ready": GOOD, "blocked": BAD, "waiting": DOUBT, "unjudged": MUTED, "final": MUTED}


def tint(name: str) -> QColor:
    """The translucent fill ``name`` ('bad') behind text."""
    return QColor(*TINTS[name])


def tint_css(name: str) -> str:
    """The translucent fill ``name`` as a style sheet colour."""
    red, green, blue, alpha = TINTS[name]
    return f"rgba({red}, {green}, {blue}, {alpha / 255:.2f})"


class _ThemeFollower(QObject):
    """Holds a widget's latest colouring and the theme it was last run in."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.setObjectName(_FOLLOWER)
        self.colour: Callable[[], None] = lambda: None
        self.theme = ""

    def apply(self) -> None:
        self.theme = current_theme()
        self.colour()


_FOLLOWER = "theme-follower"


def _recolour_widgets() -> None:
    """After a change of palette: run again every widget's colouring that was run in another
    theme, and polish again every widget with a style sheet of its own. (Such a widget keeps
    the palette it was polished with and hears nothing of the application's new one: its
    text, and any ``palette(...)`` its style sheet names, would stay in the old theme.)"""
    theme = current_theme()
    for widget in QApplication.allWidgets():
        follower = widget.findChild(_ThemeFollower, _FOLLOWER, Qt.FindChildOption.FindDirectChildrenOnly)
        if follower is not None and follower.theme != theme:
            follower.apply()
        if widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())


def follow_theme(widget: QWidget, colour: Callable[[], None]) -> None:
    """Call ``colour()`` now, and again whenever :func:`apply_theme` changes the theme while
    ``widget`` lives.

    ``colour`` sets what ``widget`` paints in an ink (its style sheet, its rich text, its
    items' brushes), formatting the :class:`Ink` objects when it runs, so each call takes the
    theme in force. A later call for the same widget replaces the earlier ``colour``."""
    follower = widget.findChild(_ThemeFollower, _FOLLOWER, Qt.FindChildOption.FindDirectChildrenOnly)
    if follower is None:
        follower = _ThemeFollower(widget)
    follower.colour = colour
    follower.apply()


def palette_of(theme: str) -> QPalette:
    """The whole :class:`QPalette` of ``theme`` ('light' or 'dark')."""
    palette = QPalette()
    for role, colour in ROLES[theme].items():
        palette.setColor(role, QColor(colour))
    for role in (Role.Text, Role.WindowText, Role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED[theme]))
    return palette


def apply_theme(app: QApplication, *, theme: str) -> str:
    """Use ``theme`` (system, light or dark) for every window of ``app``; return the one in force."""
    if theme not in THEMES:
        theme = "system"
    hints = app.styleHints()
    if theme == "system":
        hints.unsetColorScheme()
        painted = "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"
    else:
        hints.setColorScheme(SCHEMES[theme])
        painted = theme
    app.setPalette(palette_of(painted))
    _recolour_widgets()
    return theme
