"""The one error dialog: what went wrong and what to do, in the core's own words.

Every failure the user sees passes through :func:`show_error`. A core error
(:class:`~modelgate.core.errors.ModelGateError`) shows its message and hint, as the
command line prints them; anything else is a defect, shown as one plain line and
logged with its traceback for the developers, never shown to the user.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from modelgate.core.errors import ModelGateError


def explain(error: BaseException) -> tuple[str, str | None]:
    """``(message, hint)`` for ``error``, ready to show."""
    if isinstance(error, ModelGateError):
        message = f"{error.rule}: {error.message}" if error.rule else error.message
        return message, error.hint
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{where}", "Check the path and your permissions."
    return (f"internal error: {error.__class__.__name__}: {error}",
            "This is a defect in ModelGate; the log on the terminal says where it happened.")


def show_error(*, parent: QWidget | None, error: BaseException, action: str = "") -> QMessageBox:
    """Open the error dialog for ``error`` (window-modal, returns at once)."""
    message, hint = explain(error)
    box = QMessageBox(parent if isinstance(parent, QWidget) else None)
    box.setObjectName("error-dialog")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("ModelGate")
    box.setText(f"{action} failed" if action else "ModelGate could not do that")
    box.setInformativeText(message + (f"\n\n{hint}" if hint else ""))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
    return box
