"""Asking before a link from a bundle leaves the app for the system browser.

A link's text can say anything; the address it leads to is what matters, so the
dialog shows the full address and opens nothing unless the user says so.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

#: Schemes a confirmed link may open; anything else is refused outright.
OPENABLE = ("http", "https", "mailto")


def confirm_and_open(*, parent: QWidget, url: QUrl) -> bool:
    """Show ``url`` in full and open it in the system browser if the user agrees; whether it was."""
    address = url.toString(QUrl.ComponentFormattingOption.FullyEncoded)
    if url.scheme().lower() not in OPENABLE:
        QMessageBox.warning(parent, "ModelGate", f"This link is not opened: {address}\n\n"
                            f"Only {', '.join(OPENABLE)} addresses can be opened from a bundle.")
        return False
    box = QMessageBox(QMessageBox.Icon.Question, "Open link in your browser?",
                      "The model card links to this address. Open it in your web browser?",
                      QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("link-confirm")
    box.setInformativeText(address)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    if box.exec() != QMessageBox.StandardButton.Open:
        return False
    return QDesktopServices.openUrl(url)
