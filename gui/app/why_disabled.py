"""A disabled button says why in the status bar too, not only in its tooltip.

Qt sends no status tip for a disabled widget (it gets no mouse moves), so a user who reads
the status bar would see nothing. :func:`say_why_on_hover` watches a button: when the
pointer enters it while it is disabled, its tooltip (which says why) goes to the window's
status bar; when the pointer leaves, the message goes away.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QStatusTipEvent
from PySide6.QtWidgets import QApplication, QWidget


class _WhyOnHover(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(watched, QWidget) and not watched.isEnabled():
            if event.type() == QEvent.Type.Enter and watched.toolTip():
                QApplication.sendEvent(watched.window(), QStatusTipEvent(watched.toolTip()))
            elif event.type() == QEvent.Type.Leave:
                QApplication.sendEvent(watched.window(), QStatusTipEvent(""))
        return False


def say_why_on_hover(*widgets: QWidget) -> None:
    """Show each of ``widgets``' tooltip in its window's status bar while the pointer is over
    it and it is disabled."""
    for widget in widgets:
        watcher = _WhyOnHover(widget)
        widget.installEventFilter(watcher)
