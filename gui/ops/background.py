"""Background operations: the one way the app runs work off the UI thread.

A small builder in the manner of Anki's ``QueryOp``::

    BackgroundOperation(parent=self, executor=workers.bundles, work=validate)
        .on_success(self._on_validation_finished)
        .with_progress(panel=self._progress, label="Validating credit-risk@1.2.0")
        .start()

``work(progress)`` runs on the executor's thread with the core's one
:class:`~modelgate.core.progress.Progress` object, which the status bar's
:class:`~modelgate.gui.app.progress_panel.ProgressPanel` draws and cancels. Its result or
exception comes back on the UI thread: the success callback gets the result; a
cancellation ends quietly; any other failure goes to the failure callback, by default
the app's one error dialog.

Who owns what, enforced here:

- Every Qt object belongs to the UI thread: it is made, signalled, read and destroyed there
  only. A worker touches one QObject, the courier, made once on the UI thread and parented to
  the application, so it outlives every window and every worker. The worker signals it plain
  values only (a number naming the operation, progress texts and counts), and Qt queues the
  call to the UI thread.
- Python's cyclic garbage collector runs on whichever thread happens to allocate; were it to
  free a cycle holding a widget on a worker, the widget's C++ destructor would run there and
  crash the app. So while any background work runs (and a moment after), or a thread of the
  app's own runs Python code beside the UI (:func:`collect_on_ui_thread`: the graph viewer's web
  server), automatic collection is off and the courier collects on the UI thread instead.
- A worker never drops the last reference to anything the UI thread made. The operation's
  record (its parent, callbacks, panel and work) stays on the UI thread until the worker has
  ended; the worker leaves its outcome with the courier and drops its own references *before*
  it says it has ended, so the record, the outcome and every Python wrapper of a Qt object they
  reach are released on the UI thread.
- A window that closes calls :func:`release` with itself: the work it (or any widget inside it)
  started is cancelled, its outcome never reaches the window, and the status bar forgets the
  work once it has stopped. Closing does not wait for the work. An operation whose parent was
  deleted meanwhile delivers nothing either.
- A :class:`~modelgate.core.registry.Registry` is used only on the thread that owns it, the
  registry worker (see :mod:`.workers` and :mod:`.registry`).
"""

from __future__ import annotations

import functools
import gc
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

from modelgate.core.errors import ModelGateError, OperationCancelled
from modelgate.core.progress import Progress

log = logging.getLogger(__name__)

#: Least time between two progress updates sent to the UI thread, in seconds.
PROGRESS_INTERVAL_S = 0.05
#: How often the UI thread collects garbage while background work may run, in milliseconds.
COLLECT_INTERVAL_MS = 100
#: How long after the last background work ended Python's own collector is switched back on,
#: in seconds: a worker's last steps after it reported must not trigger a collection.
COLLECTOR_IDLE_S = 2.0


def alive(thing) -> bool:
    """Whether ``thing`` may still be called: a QObject whose C++ side was deleted may not."""
    return not isinstance(thing, QObject) or shiboken6.isValid(thing)


class _Courier(QObject):
    """The one QObject workers signal. It lives on the UI thread, so Qt queues every call there.

    Only its own bound methods are connected: PySide6 6.12 corrupts reference counts when a
    signal emitted on another thread reaches a plain function or lambda.
    """

    progressed = Signal(int, str, object, object)   # token, phase, done, total (bytes overflow an int)
    ended = Signal(int)                              # token; the outcome waits in ``outcomes``

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        #: Operations started and not yet ended, by token (UI thread only).
        self.flights: dict[int, _Flight] = {}
        #: Outcomes left by workers, ``(succeeded, result or error)``, until the UI thread takes them.
        self.outcomes: dict[int, tuple[bool, Any]] = {}
        # Queued even when emitted on the UI thread (a pool shut down there drops unrun work): an
        # outcome is never delivered inside the executor's own bookkeeping.
        self.progressed.connect(self.deliver_progress, Qt.ConnectionType.QueuedConnection)
        self.ended.connect(self.deliver_end, Qt.ConnectionType.QueuedConnection)
        self._collector = QTimer(self, interval=COLLECT_INTERVAL_MS)
        self._collector.timeout.connect(self.collect)
        self._restore_collector = False     # whether automatic collection was on before we held it
        self._last_end = 0.0
        #: Threads of the app's own (not the workers) that run Python code now.
        self.threads_beside = 0

    def hold_collector(self) -> None:
        """Collect garbage on the UI thread only, from now until the work is over (UI thread)."""
        if not self._collector.isActive():
            self._restore_collector = gc.isenabled()
            gc.disable()
            self._collector.start()

    def collect(self) -> None:
        """What Python's collector would do by now, done here on the UI thread; once no work has
        run for a while, automatic collection is back."""
        done0, done1, done2 = gc.get_count()
        every0, every1, every2 = gc.get_threshold()
        if every0 and done0 > every0:
            gc.collect(2 if done1 >= every1 and done2 >= every2 else 1 if done1 >= every1 else 0)
        if not self.flights and not self.threads_beside and time.monotonic() - self._last_end > COLLECTOR_IDLE_S:
            self._collector.stop()
            if self._restore_collector:
                gc.enable()

    def deliver_progress(self, token: int, phase: str, done, total) -> None:
        flight = self.flights.get(token)
        if flight is not None:
            flight.operation.progressed(flight, phase, done, total)

    def deliver_end(self, token: int) -> None:
        self._last_end = time.monotonic()
        flight = self.flights.pop(token, None)
        outcome = self.outcomes.pop(token, None)
        if flight is not None and outcome is not None:
            flight.operation.ended(flight, *outcome)


_tokens = itertools.count(1)
_courier: _Courier | None = None


def _the_courier() -> _Courier:
    global _courier
    if _courier is None or not shiboken6.isValid(_courier):
        _courier = _Courier(QCoreApplication.instance())
    return _courier


def collect_on_ui_thread() -> Callable[[], None]:
    """Collect garbage on the UI thread only until the returned function is called (UI thread):
    for a thread of the app's own that runs Python code beside the UI, such as a web server."""
    courier = _the_courier()
    courier.threads_beside += 1
    courier.hold_collector()
    held = [True]

    def let_go() -> None:
        if held[0] and shiboken6.isValid(courier):
            held[0] = False
            courier.threads_beside -= 1
    return let_go


def in_flight() -> int:
    """How many operations were started and have not ended yet (UI thread)."""
    return len(_courier.flights) if _courier is not None and shiboken6.isValid(_courier) else 0


def release(*, owner: QObject) -> int:
    """Cancel the work ``owner`` and the widgets inside it started, and drop its outcomes: call
    it when ``owner`` closes. Returns how many operations were still running."""
    released = 0
    if _courier is None or not shiboken6.isValid(_courier):
        return released
    for flight in _courier.flights.values():
        if not flight.released and _inside(flight.operation.parent, owner):
            flight.released = True
            flight.handle.cancel()
            released += 1
    return released


def _inside(thing, owner: QObject) -> bool:
    while thing is not None and alive(thing):
        if thing is owner:
            return True
        thing = thing.parent()
    return False


class Newest:
    """The newest of a series of requests (a query, a generation number): set on the UI thread,
    read by queued work to skip a request overtaken meanwhile. A plain object, because work on
    a worker never reads a widget or a model."""

    def __init__(self) -> None:
        self._value = None

    def set(self, value) -> None:
        self._value = value

    def overtook(self, value) -> bool:
        """Whether a request other than ``value`` was made since."""
        return self._value != value


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


class _Flight:
    """An operation between start and end, as the UI thread keeps it."""

    def __init__(self, *, operation: BackgroundOperation, handle: OperationHandle) -> None:
        self.operation = operation
        self.handle = handle
        self.released = False


def _report_to(courier: _Courier, token: int) -> Callable[[str, int, int], None]:
    """The progress callback a worker calls: it holds the courier and a number, nothing of the UI."""
    last = [0.0, ""]

    def report(label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if label != last[1] or done >= total or now - last[0] >= PROGRESS_INTERVAL_S:
            last[0], last[1] = now, label
            _emit(courier.progressed, token, label, done, total)
    return report


def _run(courier: _Courier, token: int, job: list) -> None:
    """The worker's side: run the work, leave the outcome, drop every reference, then say so."""
    work, progress = job
    job.clear()
    try:
        outcome = (True, work(progress))
    except BaseException as error:  # delivered to the UI thread, never lost in the pool
        outcome = (False, error)
    del work, progress
    courier.outcomes[token] = outcome
    del outcome
    _emit(courier.ended, token)


def _never_ran(courier: _Courier, token: int, future) -> None:
    # Called on the worker when the work ran (nothing to do), or on the thread that shut the
    # pool down when it dropped the work unrun: that ends the operation as cancelled.
    if future.cancelled():
        courier.outcomes[token] = (False, OperationCancelled("the app is closing"))
        _emit(courier.ended, token)


def _emit(signal, *values) -> None:
    try:
        signal.emit(*values)
    except RuntimeError:  # the application itself is gone: nobody is waiting
        pass


class BackgroundOperation:
    """Builder: run ``work`` on ``executor``, then call back on the UI thread."""

    def __init__(self, *, parent: QObject, executor, work: Callable[[Progress], Any]) -> None:
        self.parent = parent
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
        """Queue the work; return its handle at once (UI thread)."""
        courier = _the_courier()
        courier.hold_collector()
        token = next(_tokens)
        progress = Progress(callback=_report_to(courier, token) if self._panel is not None else None)
        handle = OperationHandle(progress=progress, label=self._label)
        if self._panel is not None:
            self._panel.begin(handle=handle, cancellable=self._cancellable)
        courier.flights[token] = _Flight(operation=self, handle=handle)
        try:
            future = self._executor.submit(_run, courier, token, [self._work, progress])
        except RuntimeError:  # the window is closing and its workers are gone: nothing to run it
            del courier.flights[token]
            self._end_progress(handle)
        else:
            future.add_done_callback(functools.partial(_never_ran, courier, token))
        return handle

    # ------------------------------------------------------------------ on the UI thread
    def progressed(self, flight: _Flight, phase: str, done: int, total: int) -> None:
        if self._panel is not None and alive(self._panel) and not flight.handle.finished:
            self._panel.show_progress(handle=flight.handle, phase=phase, done=done, total=total)

    def ended(self, flight: _Flight, succeeded: bool, outcome) -> None:
        self._end_progress(flight.handle)
        if flight.released or not alive(self.parent):
            return                      # its window closed: nobody may be called
        if succeeded:
            self._guarded(self._success, outcome)
            return
        if isinstance(outcome, OperationCancelled):
            if self._panel is not None and alive(self._panel):
                self._panel.announce(f"Cancelled: {self._label}")
            self._guarded(self._cancelled)
            return
        if not isinstance(outcome, ModelGateError):
            log.error("%s failed", self._label or "background work", exc_info=outcome)
        if self._failure is not None:
            self._guarded(self._failure, outcome)
        else:
            from modelgate.gui.dialogs.error import show_error

            show_error(parent=self.parent, error=outcome, action=self._label)

    def _end_progress(self, handle: OperationHandle) -> None:
        handle.finished = True
        if self._panel is not None and alive(self._panel):
            self._panel.end(handle=handle)

    def _guarded(self, callback, *args) -> None:
        # An exception escaping a slot would only reach the terminal and leave the window
        # waiting forever; a defect in a callback is shown like any other failure instead.
        try:
            callback(*args)
        except Exception as error:
            from modelgate.gui.dialogs.error import show_error

            log.error("a background operation's callback failed", exc_info=error)
            show_error(parent=self.parent, error=error)
