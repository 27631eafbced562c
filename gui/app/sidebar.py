"""The narrow column on the far left: the main views, with the counts a user watches."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem

#: (key, title, tooltip) of each view, in order.
VIEWS = (
    ("registry", "Registry", "Every version in the registry, filtered and sorted as you like"),
    ("queue", "My queue", "Versions waiting for you to review, approve, sign or promote, oldest first"),
    ("audit", "Audit log", "The registry's tamper-evident event log, filtered as you like, and Verify chain"),
)
KEY_ROLE = Qt.ItemDataRole.UserRole


class Sidebar(QListWidget):
    """The views of the main window; :meth:`set_count` puts a number beside a title."""

    view_chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self._titles = {key: title for key, title, _tip in VIEWS}
        for key, title, tip in VIEWS:
            item = QListWidgetItem(title)
            item.setData(KEY_ROLE, key)
            item.setToolTip(tip)
            item.setSizeHint(QSize(0, 30))
            self.addItem(item)
        self.setCurrentRow(0)
        # Wide enough for the longest title with a four-digit count beside it.
        widest = max(self.fontMetrics().horizontalAdvance(f"{title}  (8888)") for _key, title, _tip in VIEWS)
        self.setFixedWidth(widest + 28)
        self.currentItemChanged.connect(self._on_current_item_changed)

    def _item(self, key: str) -> QListWidgetItem:
        return next(self.item(i) for i in range(self.count()) if self.item(i).data(KEY_ROLE) == key)

    def choose(self, key: str) -> None:
        """Show view ``key`` as chosen (emits :attr:`view_chosen` when it changes)."""
        self.setCurrentItem(self._item(key))

    def set_count(self, key: str, count: int | None, *, more: bool = False) -> None:
        """Show ``count`` beside the view's title (``None`` hides it; ``more``: at least that many)."""
        title = self._titles[key]
        self._item(key).setText(title if count is None else f"{title}  ({count}{'+' if more else ''})")

    def title_of(self, key: str) -> str:
        return self._item(key).text()

    def _on_current_item_changed(self, current, _previous) -> None:
        if current is not None:
            self.view_chosen.emit(current.data(KEY_ROLE))
