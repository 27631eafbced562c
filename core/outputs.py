"""Writing files a user named: reports and manifests, safely.

A regular file (or a link to one) is replaced atomically, so a crash leaves the
old or the new content; a device or a pipe (``/dev/stdout``, a FIFO) is written
through, never replaced. New files get the user's umask, not mkstemp's 0600.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

from modelgate.core.errors import UsageError

#: Characters a terminal, log viewer or editor would act on instead of showing: C0 controls
#: but newline and tab (ESC starts sequences that clear the screen or set the window title),
#: DEL, C1 controls (0x9b is a one-byte CSI), bidirectional overrides, isolates and marks
#: (which reorder what is shown), line/paragraph separators and the byte-order mark.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                         "\u202a-\u202e\u2066-\u2069\ufeff]")


def unshowable(char: str) -> bool:
    """Whether a terminal or viewer would act on ``char`` rather than show it."""
    return _UNSHOWABLE.match(char) is not None


def printable(text: str) -> str:
    """``text`` with every character a terminal would interpret written out as ``\\uXXXX``.

    The escape is visible and, inside a JSON string, the same character again, so JSON
    output stays valid and means what it meant.
    """
    return _UNSHOWABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


#: Our own terminal sequences (colour, clearing the progress line) travel through the
#: escaping streams wrapped in this per-process random mark, which text from a bundle cannot
#: know, so they are the only sequences that reach the terminal.
_MARK = secrets.token_hex(16)
_MARKED = re.compile("\ue000" + _MARK + "([0-9a-f]+)\ue001")


def control(sequence: str) -> str:
    """A terminal control ``sequence`` of our own, let through by :class:`EscapingStream`."""
    return "\ue000" + _MARK + sequence.encode().hex() + "\ue001"


def for_terminal(text: str) -> str:
    """``text`` as a terminal receives it: our marked sequences live, everything else shown."""
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
        self._stream.write(for_terminal(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _opened(fd: int, data: str | bytes):
    if isinstance(data, bytes):
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def write_atomically(path: Path, text: str | bytes) -> None:
    """Replace the regular file at ``path`` (following links) with ``text`` (UTF-8, or bytes) atomically."""
    import tempfile

    target = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with _opened(fd, text) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(path: Path, text: str | bytes, *, create_folders: bool = True) -> None:
    """Write a report or other output the user named; errors become :class:`UsageError`.

    With ``create_folders`` false a missing folder is refused (:class:`MissingFolder`)
    rather than made: a mistyped folder name then surfaces instead of a report filed
    somewhere nobody will look."""
    if not create_folders:
        _require_folder(Path(path))
    try:
        info = os.stat(path) if os.path.lexists(path) else None
        if info is not None and not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise UsageError(f"cannot write {path}: it is a folder")
            with _opened(os.open(path, os.O_WRONLY), text) as handle:  # device or pipe
                handle.write(text)
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(Path(path), text)
    except UsageError:
        raise
    except FileNotFoundError as exc:  # a dangling link, or a parent that cannot exist
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_outputs(outputs: list[Path], *, inputs: list[Path]) -> None:
    """Refuse two outputs to one file, and outputs that would overwrite an input."""
    seen: dict[str, Path] = {}
    guarded = [Path(os.path.realpath(p)) for p in inputs]
    for output in outputs:
        real = os.path.realpath(output)
        if real in seen:
            raise UsageError(f"{output} is named twice as an output",
                             hint="Give every --output and --report its own file.")
        seen[real] = output
        for guard in guarded:
            if Path(real) == guard or Path(real).is_relative_to(guard) and guard.is_dir():
                raise UsageError(f"refusing to write {output}: it would overwrite the input {guard}",
                                 hint="Write reports outside the bundle and the policy file.")


class MissingFolder(UsageError):
    """The folder an output was to be written in does not exist (``folder`` names it)."""

    def __init__(self, path: Path, folder: Path) -> None:
        super().__init__(f"cannot write {path}: the folder {folder} does not exist",
                         hint="Create the folder first, or choose one that exists.")
        self.folder = folder


def _require_folder(path: Path) -> None:
    parent = path.absolute().parent
    if not parent.exists() and not parent.is_symlink():
        raise MissingFolder(path, parent)


def check_writable(path: Path, *, create_folders: bool = True) -> None:
    """Refuse, before any long work, an output that cannot be written: a folder, a path
    below a file, or a folder the user may not write in (:class:`UsageError`); with
    ``create_folders`` false, a missing folder too (:class:`MissingFolder`)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder", hint="Name a file, e.g. report.pdf.")
    if not create_folders:
        _require_folder(path)
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: no permission to write in {parent}",
                         hint="Choose a folder you can write in.")


def human_bytes(count: float) -> str:
    """A byte count as people read it: ``512 B``, ``1.5 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"
