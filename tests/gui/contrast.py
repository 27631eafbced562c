"""WCAG 2.1 contrast, and a walk over a rendered window's text widgets that measures it.

Shared by the palette test and the layout tests: the palette must give every text role
AA contrast on its background, and every label and button a screen shows must keep it,
style-sheet colours and colours inside rich text included.
"""

from __future__ import annotations

import re

#: WCAG AA for normal text.
AA = 4.5
#: Colours written into a widget's rich text (``<span style='color:#b3261e'>``).
_CSS_COLOUR = re.compile(r"color\s*:\s*(#[0-9a-fA-F]{6})")


def luminance(colour: str) -> float:
    """The relative luminance of ``#rrggbb`` (WCAG 2.1)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _tree(root, kinds: tuple) -> list:
    """``root`` and its descendants that are one of ``kinds``."""
    found = [root] if isinstance(root, kinds) else []
    for kind in kinds:
        found += root.findChildren(kind)
    return found


def _background(widget) -> str:
    """The colour behind ``widget``: its own if it fills its background, else its nearest
    ancestor's that does (a label on a table cell, a group box, the window)."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea

    current = widget
    while current is not None:
        if isinstance(current, QAbstractButton) and current is widget:
            return current.palette().color(QPalette.ColorRole.Button).name()
        if current.autoFillBackground() or current.parentWidget() is None:
            return current.palette().color(current.backgroundRole()).name()
        viewport = current.parentWidget()
        if isinstance(viewport, QAbstractScrollArea) and viewport.viewport() is current:
            return current.palette().color(current.backgroundRole()).name()
        current = current.parentWidget()
    return widget.palette().color(widget.backgroundRole()).name()


def low_contrast(window) -> list[str]:
    """Every visible label and button of ``window`` whose text (palette, style sheet or rich
    text colour) falls below :data:`AA` against its background, described."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QAbstractButton, QLabel

    found = []
    for widget in _tree(window, (QLabel, QAbstractButton)):
        if not widget.isVisible() or not widget.text().strip() or not widget.isEnabled():
            continue
        widget.ensurePolished()
        role = QPalette.ColorRole.ButtonText if isinstance(widget, QAbstractButton) else widget.foregroundRole()
        colours = {widget.palette().color(role).name()}
        if isinstance(widget, QLabel):
            colours |= {c.lower() for c in _CSS_COLOUR.findall(widget.text())}
        behind = _background(widget)
        for colour in colours:
            ratio = contrast(colour, behind)
            if ratio < AA:
                found.append(f"{type(widget).__name__} {widget.objectName() or widget.text()[:40]!r}: "
                             f"{colour} on {behind} is {ratio:.2f}:1")
    return found


def clipped(window) -> list[str]:
    """Every visible label of ``window`` too small for its text, described: a one-line label
    narrower or lower than its text, a wrapping one shorter than its lines or narrower than
    its longest word, a label cut at the side by what holds it (a page that scrolls sideways);
    and every scrolling page that scrolls sideways at all (its labels are cut at the right)."""
    from PySide6.QtWidgets import QAbstractItemView, QAbstractScrollArea, QLabel

    found = []
    for area in _tree(window, (QAbstractScrollArea,)):
        if isinstance(area, QAbstractItemView) or not area.isVisible():
            continue
        if area.horizontalScrollBar().isVisible():
            found.append(f"{type(area).__name__} {area.objectName()!r} scrolls sideways: "
                         f"{area.widget().minimumSizeHint().width() if hasattr(area, 'widget') and area.widget() else '?'}"
                         f" px wide content in {area.viewport().width()} px")
    for label in _tree(window, (QLabel,)):
        if not label.isVisible() or not label.text().strip():
            continue
        shown = label.visibleRegion().boundingRect()
        if not shown.isValid():
            continue        # scrolled out of view: its page scrolls to it
        name = label.objectName() or label.text()[:40]
        size = label.size()
        if shown.width() < size.width() - 1 and shown.height() > 0:
            found.append(f"{name!r}: {size.width()} px wide, {shown.width()} px shown")
        if label.wordWrap():
            needed = label.heightForWidth(size.width())
            if needed > size.height() + 1:
                found.append(f"{name!r}: needs {needed} px high, has {size.height()}")
            if label.minimumSizeHint().width() > size.width() + 1:
                found.append(f"{name!r}: a word needs {label.minimumSizeHint().width()} px, has {size.width()}")
        elif label.sizeHint().width() > size.width() + 1 or label.sizeHint().height() > size.height() + 1:
            found.append(f"{name!r}: needs {label.sizeHint().width()}x{label.sizeHint().height()} px, "
                         f"has {size.width()}x{size.height()}")
    return found
