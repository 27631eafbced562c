"""Walk a pickle opcode by opcode, never running it: what it imports and what it stores.

``pickletools.genops`` decodes opcodes without executing them. Around it this module
resolves what ``GLOBAL``, ``INST`` and ``STACK_GLOBAL`` import (``STACK_GLOBAL`` takes
its module and name from the two values pushed before it, possibly fetched from the memo),
collects the storages a ``torch.save`` archive's ``data.pkl`` refers to by persistent id,
and bounds everything a hostile file could inflate: claimed lengths never exceed the
bytes left, and protocol, opcode count and nesting depth have limits.
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass, field

#: The newest pickle protocol (Python 3.8+); a higher number is not a pickle anything reads.
MAX_PROTOCOL = 5
#: Nesting (open MARKs) no real checkpoint approaches; deeper is a recursion bomb for loaders.
MAX_DEPTH = 1_000
#: Opcodes in one pickle: a checkpoint's structure is small, its bulk lives in storages.
MAX_OPCODES = 50_000_000

_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
            "SHORT_BINSTRING"}
_INTS = {"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "INT", "LONG"}
_GETS = {"GET", "BINGET", "LONG_BINGET"}
_PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
_SILENT = {"PROTO", "FRAME", "MEMOIZE", "STOP"} | _PUTS
_POP_MARK = {"TUPLE", "LIST", "DICT", "APPENDS", "SETITEMS", "ADDITEMS", "FROZENSET", "INST", "OBJ",
             "POP_MARK"}
_UNKNOWN = object()


class _Imported(str):
    """An imported callable on the value stack: never mistaken for a module or name string."""


class PickleLimit(Exception):
    """The pickle breaks a limit or ends early; the message says which."""


class Bounded:
    """A read-only view of ``size`` bytes of a stream that never reads (or allocates) past them.

    A pickle can claim a string of 2**63 bytes; ``read(n)`` then returns what is left
    instead of asking for an n-byte buffer, and ``genops`` reports the pickle as truncated.
    """

    def __init__(self, stream, size: int) -> None:
        self._stream, self._size, self.left = stream, size, size
        self._origin = stream.tell() if hasattr(stream, "tell") else 0

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self._stream.read(n)
        self.left -= len(data)
        return data

    def readline(self, limit: int = -1) -> bytes:
        cap = min(self.left, 1 << 20) if limit is None or limit < 0 else min(limit, self.left)
        data = self._stream.readline(cap)
        self.left -= len(data)
        return data

    def tell(self) -> int:
        return self._size - self.left

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move within the view (the underlying stream must be seekable)."""
        base = {0: 0, 1: self.tell(), 2: self._size}[whence]
        target = max(0, min(base + offset, self._size))
        self._stream.seek(self._origin + target)
        self.left = self._size - target
        return target

    def peek(self) -> bytes:
        """The next byte without consuming it."""
        if self.left <= 0:
            return b""
        at = self.tell()
        byte = self.read(1)
        self.seek(at)
        return byte


@dataclass
class Walk:
    """What one or more consecutive pickles import and which storages they name."""

    imports: list[str] = field(default_factory=list)
    storages: list[tuple[str, str, int | None]] = field(default_factory=list)  # key, type, numel
    opcodes: int = 0
    protocol: int = 0


def _import_name(module, name) -> str:
    if isinstance(module, str) and isinstance(name, str) and not isinstance(module, _Imported) \
            and not isinstance(name, _Imported):
        return _Imported(f"{module}.{name}")
    return _Imported("<unresolved STACK_GLOBAL>")


def walk(stream: Bounded, *, into: Walk) -> None:
    """Walk one pickle (up to its STOP) from ``stream``, adding what it imports to ``into``.

    Raises :class:`PickleLimit` when a limit is broken or the pickle is malformed or truncated.
    """
    pushed: list = []          # the values pushed most recently (strings, ints, imports)
    memo: dict = {}
    depth = 0
    capture: list | None = None   # values pushed since a persistent id 'storage' tag
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            into.opcodes += 1
            if into.opcodes > MAX_OPCODES:
                raise PickleLimit(f"more than {MAX_OPCODES:,} opcodes")
            name = opcode.name
            if name == "PROTO":
                if arg > MAX_PROTOCOL:
                    raise PickleLimit(f"pickle protocol {arg} is not a known protocol")
                into.protocol = max(into.protocol, arg)
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                value = _import_name(module, attr)
                into.imports.append(value)
            elif name == "STACK_GLOBAL":
                module, attr = (pushed[-2], pushed[-1]) if len(pushed) >= 2 else (_UNKNOWN, _UNKNOWN)
                value = _import_name(module, attr)
                into.imports.append(value)
                del pushed[-2:]
            elif name in ("EXT1", "EXT2", "EXT4"):
                value = f"<extension registry code {arg}>"
                into.imports.append(value)
            elif name in _STRINGS:
                value = arg if isinstance(arg, str) else _UNKNOWN
            elif name in _INTS:
                value = arg
            elif name in _GETS:
                value = memo.get(arg, _UNKNOWN)
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else _UNKNOWN
                continue
            elif name in _PUTS:
                memo[arg] = pushed[-1] if pushed else _UNKNOWN
                continue
            elif name in ("BINPERSID", "PERSID"):
                _storage(capture, into)
                capture = None
                value = _UNKNOWN
            elif name in _SILENT:
                continue
            else:
                value = _UNKNOWN
            if name == "MARK":
                depth += 1
                if depth > MAX_DEPTH:
                    raise PickleLimit(f"nested more than {MAX_DEPTH} levels deep")
            elif name in _POP_MARK:
                depth = max(0, depth - 1)
            pushed.append(value)
            del pushed[:-4]
            if value == "storage":
                capture = []
            elif capture is not None and len(capture) < 8:
                capture.append(value)
    except PickleLimit:
        raise
    except (ValueError, EOFError, UnicodeDecodeError, OverflowError, MemoryError) as error:
        raise PickleLimit(f"malformed or truncated pickle ({' '.join(str(error).split())[:160]})") from None


def _storage(capture: list | None, into: Walk) -> None:
    """Record a ``('storage', type, key, location, numel)`` persistent id, as torch.save writes it."""
    if not capture:
        return
    kind = next((v for v in capture if isinstance(v, str) and "Storage" in v), "storage")
    texts = [v for v in capture if isinstance(v, str) and v != kind]
    numbers = [v for v in capture if isinstance(v, int) and not isinstance(v, bool)]
    if texts:
        into.storages.append((texts[0], kind.rsplit(".", 1)[-1], numbers[-1] if numbers else None))


def walk_all(stream: Bounded, *, into: Walk) -> int:
    """Walk consecutive pickles (legacy ``torch.save`` and joblib write several, then raw bytes).

    Returns how many bytes the pickles span; what follows is raw data, not pickle.
    """
    walk(stream, into=into)
    while stream.peek() == b"\x80":
        walk(stream, into=into)
    return stream.tell()
