"""The one error dialog: what went wrong and what to do, in the core's own words.

Every failure the user sees passes through :func:`show_error`. A core error
(:class:`~modelgate.core.errors.ModelGateError`) shows its message and hint, as the
command line prints them; anything else is a defect, shown as one plain sentence (the
background work that met it logs its traceback for the developers, and Help › Report a
problem collects the log); no Python detail is ever shown to the user.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from modelgate.core.errors import ModelGateError

#: What the user reads about a defect: its Python details go to the log, never on screen.
DEFECT = ("ModelGate ran into an unexpected problem and stopped this (a defect in ModelGate, not "
          "something you did).")
DEFECT_HINT = ("The details were logged. Help › Report a problem writes them into a report you can "
               "send to whoever looks after ModelGate.")


def explain(error: BaseException) -> tuple[str, str | None]:
    """``(message, hint)`` for ``error``, ready to show: the core's own words for its errors, the
    system's for a file that could not be read or written, and for anything else (a defect) a
    plain sentence, since its text is a Python detail that would only confuse."""
    if isinstance(error, ModelGateError):
        message = f"{error.rule}: {error.message}" if error.rule else error.message
        return message, error.hint
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{where}", "Check the path and your permissions."
    return DEFECT, DEFECT_HINT


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
