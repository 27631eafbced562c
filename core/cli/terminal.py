"""Terminal output: the progress renderer, colour, and byte formatting."""

from __future__ import annotations

import os
import sys
import time

from modelgate.core.outputs import EscapingStream, control, human_bytes  # noqa: F401  (the CLI's streams)
from modelgate.core.progress import Progress


def use_colour(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, colour: str, *, stream=None) -> str:
    """``text`` in ``colour`` when ``stream`` (default: stdout) is a terminal."""
    stream = sys.stdout if stream is None else stream
    codes = {"red": "31", "yellow": "33", "green": "32", "blue": "34", "bold": "1", "dim": "2"}
    if not use_colour(stream):
        return text
    return control(f"\033[{codes[colour]}m") + text + control("\033[0m")


class TerminalProgress:
    """Draws a :class:`Progress` on stderr, at most ten times a second, only on a terminal."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._drawn = False

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        if total:
            line = f"{label} {human_bytes(done)} / {human_bytes(total)} ({100 * done // total}%)"
        else:
            line = f"{label} {human_bytes(done)}" if done else f"{label}…"
        self.stream.write(control("\r\033[K") + line)
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write(control("\r\033[K"))
            self.stream.flush()
            self._drawn = False

    def progress(self) -> Progress:
        return Progress(callback=self)
