"""Terminal output: the progress renderer, colour, and byte formatting."""

from __future__ import annotations

import os
import re
import secrets
import sys
import time

from modelgate.core.outputs import printable
from modelgate.core.progress import Progress

#: Our own terminal sequences (colour, clearing the progress line) travel through the
#: escaping streams wrapped in this per-process random mark, which text from a bundle cannot
#: know, so they are the only sequences that reach the terminal.
_MARK = secrets.token_hex(16)
_MARKED = re.compile("\ue000" + _MARK + "([0-9a-f]+)\ue001")


def control(sequence: str) -> str:
    """A terminal control ``sequence`` of our own, let through by :class:`EscapingStream`."""
    return "\ue000" + _MARK + sequence.encode().hex() + "\ue001"


def _shown(text: str) -> str:
    pieces, last = [], 0
    for match in _MARKED.finditer(text):
        pieces.append(printable(text[last:match.start()]))
        pieces.append(bytes.fromhex(match.group(1)).decode())
        last = match.end()
    pieces.append(printable(text[last:]))
    return "".join(pieces)


class EscapingStream:
    """A text stream that shows every control character written to it as text.

    The CLI wraps stdout and stderr in it, so nothing a bundle, the registry or an
    error message carries (an ESC sequence, a bidi override) is interpreted by the
    terminal, whichever command prints it.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_shown(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


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


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


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
