"""Background operations: the one way the app runs work off the UI thread.

A small builder in the manner of Anki's ``QueryOp``::

    BackgroundOperation(parent=self, executor=workers.bundles, work=validate)
        .on_success(self._on_validation_finished)
        .with_progress(panel=self._progress, label="Validating credit-risk@1.2.0")
        .start()

``work(progress)`` runs on the executor's thread with the core's one
:class:`~modelgate.core.progress.Progress` object, which the status bar's
:class:`~modelgate.gui.progress_panel.ProgressPanel` draws and cancels. Its result or
exception comes back on the UI thread: the success callback gets the result; a
cancellation ends quietly; any other failure goes to the failure callback, by default
the app's one error dialog. When ``parent`` is gone by then, nothing is delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from modelgate.core.errors import ModelGateError, OperationCancelled
from modelgate.core.progress import Progress

log = logging.getLogger(__name__)

#: Least time between two progress updates sent to the UI thread, in seconds.
PROGRESS_INTERVAL_S = 0.05


class _Relay(QObject):
    """Carries a worker's news to the UI thread: its signals are connected to its own methods,
    and it lives on the UI thread, so Qt queues every call there.

    Only bound methods of a QObject are connected: PySide6 6.12 corrupts reference counts
    when a signal emitted on another thread reaches a plain function or lambda.
    """

    progressed = Signal(str, int, int)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject, *, on_progress, on_success, on_failure) -> None:
        super().__init__(parent)
        self._on_progress, self._on_success, self._on_failure = on_progress, on_success, on_failure
        self.progressed.connect(self.deliver_progress)
        self.succeeded.connect(self.deliver_success)
        self.failed.connect(self.deliver_failure)

    def deliver_progress(self, label: str, done: int, total: int) -> None:
        self._guarded(self._on_progress, label, done, total)

    def deliver_success(self, result) -> None:
        self._guarded(self._on_success, result)

    def deliver_failure(self, error) -> None:
        self._guarded(self._on_failure, error)

    def _guarded(self, callback, *args) -> None:
        # An exception escaping a slot would only reach the terminal and leave the window
        # waiting forever; a defect in a callback is shown like any other failure instead.
        try:
            callback(*args)
        except Exception as error:
            from modelgate.gui.dialogs.error import show_error

            log.error("a background operation's callback failed", exc_info=error)
            show_error(parent=self.parent(), error=error)


def _emit(signal, *values) -> None:
    try:
        signal.emit(*values)
    except RuntimeError:  # the receiving widget was closed meanwhile: nobody is waiting
        pass


class OperationHandle:
    """A started operation: ask it to stop, or see whether it is still running."""

    def __init__(self, *, progress: Progress, label: str) -> None:
        self.progress = progress
        self.label = label
        self.finished = False

    def cancel(self) -> None:
        """Ask the work to stop at its next progress check."""
        self.progress.cancel()

    @property
    def running(self) -> bool:
        return not self.finished


class BackgroundOperation:
    """Builder: run ``work`` on ``executor``, then call back on the UI thread."""

    def __init__(self, *, parent: QObject, executor, work: Callable[[Progress], Any]) -> None:
        self._parent = parent
        self._executor = executor
        self._work = work
        self._success: Callable[[Any], None] = lambda result: None
        self._failure: Callable[[BaseException], None] | None = None
        self._cancelled: Callable[[], None] = lambda: None
        self._panel = None
        self._label = ""
        self._cancellable = True

    def on_success(self, callback: Callable[[Any], None]) -> BackgroundOperation:
        """Call ``callback(result)`` on the UI thread when the work returns."""
        self._success = callback
        return self

    def on_failure(self, callback: Callable[[BaseException], None]) -> BackgroundOperation:
        """Call ``callback(error)`` instead of showing the error dialog (not on cancellation)."""
        self._failure = callback
        return self

    def on_cancelled(self, callback: Callable[[], None]) -> BackgroundOperation:
        """Call ``callback()`` on the UI thread when the work stopped because it was cancelled."""
        self._cancelled = callback
        return self

    def with_progress(self, *, panel, label: str, cancellable: bool = True) -> BackgroundOperation:
        """Show the work in ``panel`` (a ProgressPanel) under ``label``, with a Cancel button."""
        self._panel, self._label, self._cancellable = panel, label, cancellable
        return self

    def start(self) -> OperationHandle:
        """Queue the work; return its handle at once."""
        last = [0.0, ""]

        def report(label: str, done: int, total: int) -> None:
            now = time.monotonic()
            if label != last[1] or done >= total or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0], last[1] = now, label
                _emit(relay.progressed, label, done, total)

        progress = Progress(callback=report if self._panel is not None else None)
        handle = OperationHandle(progress=progress, label=self._label)
        if self._panel is not None:
            self._panel.begin(handle=handle, cancellable=self._cancellable)

        def progressed(label: str, done: int, total: int) -> None:
            if self._panel is not None:
                self._panel.show_progress(handle=handle, phase=label, done=done, total=total)

        def finish() -> None:
            handle.finished = True
            if self._panel is not None:
                self._panel.end(handle=handle)
            relay.deleteLater()

        def succeeded(result) -> None:
            finish()
            self._success(result)

        def failed(error: BaseException) -> None:
            finish()
            if isinstance(error, OperationCancelled):
                if self._panel is not None:
                    self._panel.announce(f"Cancelled: {self._label}")
                self._cancelled()
                return
            if not isinstance(error, ModelGateError):
                log.error("%s failed", self._label or "background work", exc_info=error)
            if self._failure is not None:
                self._failure(error)
            else:
                from modelgate.gui.dialogs.error import show_error

                show_error(parent=self._parent, error=error, action=self._label)

        relay = _Relay(self._parent, on_progress=progressed, on_success=succeeded, on_failure=failed)

        def run() -> None:
            try:
                result = self._work(progress)
            except BaseException as error:  # delivered to the UI thread, never lost in the pool
                _emit(relay.failed, error)
            else:
                _emit(relay.succeeded, result)

        try:
            self._executor.submit(run)
        except RuntimeError:  # the window is closing and its workers are gone: nothing to run it
            handle.finished = True
            if self._panel is not None:
                self._panel.end(handle=handle)
            relay.deleteLater()
        return handle
