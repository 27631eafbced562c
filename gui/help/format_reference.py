"""Help › Bundle format reference: the bundle standard as shipped with ModelGate, readable offline.

The text is ``BUNDLE_SPEC.md`` from modelgate.resources, the document the checks cite in
their hints, rendered with markdown and cleaned with nh3 exactly as a model card is
(:func:`modelgate.gui.inspector.card_html.render_card`); the browser loads nothing else.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from modelgate.core import resources
from modelgate.gui.inspector.card_html import render_card
from modelgate.gui.inspector.model_card import CardBrowser

#: The standard's text among the shipped resources.
SPEC = "BUNDLE_SPEC.md"


class FormatReferenceDialog(QDialog):
    """The bundle standard, with a find box (Enter finds the next match, from the top again at the end)."""

    def __init__(self, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("format-reference")
        self.setWindowTitle("Bundle format reference")
        self.resize(860, 680)
        self.browser = CardBrowser()
        self.browser.setObjectName("format-text")
        self.browser.show_html(render_card(resources.text(SPEC)).html)
        self.find = QLineEdit(objectName="format-find", placeholderText="Find in the reference (Enter: next)")
        self.find.setClearButtonEnabled(True)
        self.found = QLabel(objectName="format-found")
        find_row = QHBoxLayout()
        find_row.addWidget(self.find, 1)
        find_row.addWidget(self.found)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(find_row)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.find.returnPressed.connect(self.find_next)

    def find_next(self) -> bool:
        """Select the next occurrence of the find box's text; whether there is one."""
        text = self.find.text().strip()
        if not text:
            self.found.clear()
            return False
        if not self.browser.find(text):
            cursor = self.browser.textCursor()      # past the last match: on from the top
            cursor.movePosition(cursor.MoveOperation.Start)
            self.browser.setTextCursor(cursor)
            if not self.browser.find(text):
                self.found.setText(f"'{text}' is not in the reference")
                return False
        self.found.clear()
        return True

    def keyPressEvent(self, event) -> None:
        # Enter belongs to the find box, not to the dialog's default button.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.find.hasFocus():
            return
        super().keyPressEvent(event)


def show_format_reference(*, parent: QWidget) -> FormatReferenceDialog:
    """Open the bundle format reference (non-modal; returns at once)."""
    dialog = FormatReferenceDialog(parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
