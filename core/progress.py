"""One progress object for the terminal and the GUI.

Long work (hashing, extraction, validation) reports ``done``/``total`` units to
a :class:`Progress` and checks its cancel flag. The CLI attaches a renderer
that draws on stderr; the desktop app attaches one that emits a Qt signal. The
object is thread-safe: several hashing threads advance it at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from modelgate.core.errors import OperationCancelled

#: Called as ``callback(label, done, total)``; ``total`` is 0 when unknown.
ProgressCallback = Callable[[str, int, int], None]


class Progress:
    """Thread-safe progress counter with a cancel flag."""

    def __init__(self, *, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self.label = ""
        self.done = 0
        self.total = 0

    def start(self, *, label: str, total: int) -> None:
        """Begin a new phase of work of ``total`` units (bytes, files, rules)."""
        with self._lock:
            self.label, self.done, self.total = label, 0, total
        self._notify()

    def advance(self, amount: int = 1) -> None:
        """Record ``amount`` more units done; raises if cancellation was asked."""
        with self._lock:
            self.done += amount
        self._notify()
        self.check()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`OperationCancelled` if cancellation was asked."""
        if self._cancel.is_set():
            raise OperationCancelled()

    def _notify(self) -> None:
        if self._callback is not None:
            self._callback(self.label, self.done, self.total)

