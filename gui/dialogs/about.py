"""The About box: the version of ModelGate and of what it runs on."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from modelgate.core import BUNDLE_FORMAT, POLICY_FORMAT, __version__
def about_text() -> str:
    """The About box's text (rich text)."""
    return (f"<h3>ModelGate {__version__}</h3>"
            "<p>The gate trained models pass on their way to production: review bundles against the "
            "policy, follow their promotion, and keep the record.</p>"
            f"<p>Bundle format {BUNDLE_FORMAT}<br>Policy format {POLICY_FORMAT}</p>"
            f"<p>Python {platform.python_version()} · Qt {qVersion()} · PySide6 {pyside_version}</p>"
            "<p>Graphs are drawn by Netron (MIT license), served on this machine only.</p>")


def show_about(*, parent: QWidget) -> QMessageBox:
    """Open the About box (returns at once)."""
    box = QMessageBox(parent)
    box.setObjectName("about-box")
    box.setWindowTitle("About ModelGate")
    box.setText(about_text())
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box
