"""The status bar's progress: what runs, how far it got, and a button to cancel it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

#: The bar's resolution: byte counts overflow a QProgressBar's int range, so it shows parts of this.
STEPS = 1000


class ProgressPanel(QWidget):
    """Shows the most recent running operation; hides when none runs."""

    message_announced = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._running: list = []
        self.label = QLabel()
        # A fixed width: a label that grew and shrank with each phase would lay the status bar
        # (and the window) out again on every report.
        self.label.setFixedWidth(420)
        self.bar = QProgressBar()
        self.bar.setRange(0, STEPS)
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop this work (Esc)")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def begin(self, *, handle, cancellable: bool) -> None:
        """Show ``handle``'s operation, at 0 until its first report."""
        handle.cancellable = cancellable
        self._running.append(handle)
        self._show(handle, phase="", done=0, total=0)

    def show_progress(self, *, handle, phase: str, done: int, total: int) -> None:
        """Draw a report of ``handle`` when it is the operation shown."""
        if self._running and self._running[-1] is handle:
            self._show(handle, phase=phase, done=done, total=total)

    def end(self, *, handle) -> None:
        """Forget ``handle``; show the previous running operation, or hide."""
        if handle in self._running:
            self._running.remove(handle)
        if self._running:
            self._show(self._running[-1], phase="", done=0, total=0)
        else:
            self.setVisible(False)

    def announce(self, text: str) -> None:
        """A one-line message for the status bar (e.g. that something was cancelled)."""
        self.message_announced.emit(text)

    def cancel_current(self) -> bool:
        """Cancel the operation shown, if it may be cancelled; whether one was."""
        if self._running and self._running[-1].cancellable:
            self._running[-1].cancel()
            self.label.setText(f"{self._running[-1].label}: cancelling…")
            return True
        return False

    @property
    def running(self) -> list:
        """The handles of the operations shown here that still run, oldest first."""
        return list(self._running)

    def _show(self, handle, *, phase: str, done: int, total: int) -> None:
        self.label.setText(f"{handle.label}: {phase}" if phase else handle.label)
        if total > 0:
            self.bar.setRange(0, STEPS)
            self.bar.setValue(min(STEPS, done * STEPS // total))
        else:
            self.bar.setRange(0, 0)  # busy: nothing to count yet
        self.cancel_button.setVisible(handle.cancellable)
        self.setVisible(True)

    def _on_cancel_button_clicked(self) -> None:
        self.cancel_current()
