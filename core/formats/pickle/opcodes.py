"""Walk a pickle opcode by opcode, never running it: what it imports and what it stores.

One pass over the stream decodes every opcode (the table comes from ``pickletools``, so it
is the one Python's own unpickler follows) and keeps a symbolic stack: short strings, small
ints and tuples of them, the callables imported, and a placeholder for everything else. That
is enough to resolve what ``GLOBAL``, ``INST`` and ``STACK_GLOBAL`` import (``STACK_GLOBAL``
takes its module and name from the stack, possibly fetched from the memo), to collect the
storages a ``torch.save`` archive's ``data.pkl`` names by persistent id, and to follow the
raw array bytes joblib writes in the middle of its pickles (core/formats/pickle/arrays.py).
Payloads nobody needs (tensor bytes, long strings) are skipped, not read.

Everything a hostile file could inflate is bounded: claimed lengths never exceed the bytes
left, and protocol, opcode count, stack height, memo size, nesting and imports have limits.
"""

from __future__ import annotations

import codecs
import pickletools
import struct
from dataclasses import dataclass, field

from modelgate.core.formats.pickle import arrays, values
from modelgate.core.formats.pickle.source import Source, Truncated
from modelgate.core.formats.pickle.values import UNKNOWN, Imported, PickleLimit

#: The newest pickle protocol (Python 3.8+); a higher number is not a pickle anything reads.
MAX_PROTOCOL = 5
#: Nesting (open MARKs) no real checkpoint approaches; deeper is a recursion bomb for loaders.
MAX_DEPTH = 1_000
#: Opcodes in one file: a checkpoint's structure is small, its bulk lives in storages.
MAX_OPCODES = 50_000_000
#: Values waiting on the stack: pickle batches containers by 1,000, so only a tuple of a
#: million items (or a hostile file) gets here.
MAX_STACK = 1_000_000
#: Memo entries remembered; past this, later ones read back as unknown (an import built from
#: one is then unresolved, an error), so a hostile memo cannot grow memory.
MAX_MEMO = 1_000_000
#: Distinct callables one file may import; a state dict needs a dozen.
MAX_IMPORTS = 10_000
#: Strings longer than this are never a module or callable name: skipped, kept as unknown.
MAX_NAME = 256
#: A newline-terminated argument (protocol 0) longer than this is not read into memory.
MAX_LINE = 64 * 1024
__all__ = ["PickleLimit", "Walk", "is_opcode", "walk", "walk_all"]


@dataclass
class Walk:
    """What one or more consecutive pickles import and which storages they name."""

    imports: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # name -> (module, attr)
    storages: list[tuple[str, str, int | None]] = field(default_factory=list)  # key, type, numel
    opcodes: int = 0
    protocol: int = 0
    arrays: int = 0             # joblib arrays stepped over

    def add_import(self, module, name) -> Imported:
        """Record ``module.name``; anything but two plain strings is an unresolved import."""
        if type(module) is str and type(name) is str:
            return self._add(Imported(f"{module}.{name}"), (module, name))
        return self.add_unresolved("<unresolved STACK_GLOBAL>")

    def add_unresolved(self, label: str) -> Imported:
        """Record an import nothing static names (``label`` says how it was made)."""
        return self._add(Imported(label), None)

    def _add(self, value: Imported, parts: tuple[str, str] | None) -> Imported:
        if value not in self.imports:
            if len(self.imports) >= MAX_IMPORTS:
                raise PickleLimit(f"imports more than {MAX_IMPORTS:,} different callables")
            self.imports[value] = parts
        return value


def _table() -> list:
    """Per opcode byte: (name, how its argument is read, its fixed width or length prefix)."""
    table: list = [None] * 256
    for op in pickletools.opcodes:
        n = op.arg.n if op.arg is not None else 0
        if n == pickletools.UP_TO_NEWLINE:
            how = "line"
        elif n in (pickletools.TAKEN_FROM_ARGUMENT1, pickletools.TAKEN_FROM_ARGUMENT4,
                   pickletools.TAKEN_FROM_ARGUMENT4U, pickletools.TAKEN_FROM_ARGUMENT8U):
            how = "sized"
        else:
            how = "fixed"
        table[op.code.encode("latin-1")[0]] = (op.name, how, n)
    return table


_OPS = _table()
_PREFIX = {pickletools.TAKEN_FROM_ARGUMENT1: (1, "<B"), pickletools.TAKEN_FROM_ARGUMENT4: (4, "<i"),
           pickletools.TAKEN_FROM_ARGUMENT4U: (4, "<I"), pickletools.TAKEN_FROM_ARGUMENT8U: (8, "<Q")}
_FIXED = {"BININT": "<i", "BININT1": "<B", "BININT2": "<H", "BINGET": "<B", "LONG_BINGET": "<I",
          "BINPUT": "<B", "LONG_BINPUT": "<I", "EXT1": "<B", "EXT2": "<H", "EXT4": "<i", "PROTO": "<B"}
_TEXT = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "SHORT_BINSTRING", "BINSTRING"}
_POP_MARK = {"TUPLE", "LIST", "DICT", "APPENDS", "SETITEMS", "ADDITEMS", "FROZENSET", "INST", "OBJ",
             "POP_MARK"}
_NOTHING = {"FRAME", "READONLY_BUFFER", "APPEND", "SETITEM", "BINPERSID"}
_TUPLE_KEEP = 32     # tuples up to this length keep their items (shapes, persistent ids)


def is_opcode(byte: int) -> bool:
    """Whether ``byte`` is a pickle opcode (what a protocol 0 or 1 pickle may open with)."""
    return _OPS[byte] is not None


def _line(src: Source, buf: bytes, i: int) -> tuple[bytes | None, bytes, int]:
    """A newline-terminated argument from ``buf[i]``; ``None`` when longer than :data:`MAX_LINE`."""
    end = buf.find(b"\n", i, i + MAX_LINE + 1)
    if end < 0 and len(buf) - i <= MAX_LINE:
        buf, i = src.refill(i, MAX_LINE + 1)
        end = buf.find(b"\n", i, i + MAX_LINE + 1)
    if end >= 0:
        return buf[i:end], buf, end + 1
    while True:  # far too long to be a name: step over it a chunk at a time
        end = buf.find(b"\n", i)
        if end >= 0:
            return None, buf, end + 1
        buf, i = src.refill(len(buf), 1)
        if not buf:
            raise Truncated("a line argument has no end")


def walk(src: Source, *, into: Walk, nested: int = 0):
    """Walk one pickle (up to its STOP) from ``src``, adding what it imports to ``into``.

    Returns what it would load, as far as the walk keeps values (an int, a short string, a
    tuple of them, an import), else :data:`UNKNOWN`. Raises :class:`PickleLimit` when a limit
    is broken or the pickle is malformed or truncated.
    """
    try:
        return _walk(src, into, nested)
    except PickleLimit:
        raise
    except Truncated as error:
        raise PickleLimit(f"malformed or truncated pickle ({error})") from None
    except (ValueError, IndexError, UnicodeDecodeError, OverflowError, struct.error) as error:
        raise PickleLimit(f"malformed or truncated pickle ({' '.join(str(error).split())[:160]})") from None


def _walk(src: Source, into: Walk, nested: int):  # noqa: C901 - one loop is what makes it fast
    ops, unpack_from = _OPS, struct.unpack_from
    stack: list = []
    memo: dict = {}
    marks: list[int] = []   # stack heights at each open MARK
    overflow = False        # the memo passed MAX_MEMO: nothing read back from it can be trusted
    count = into.opcodes
    buf, i = src.buf, src.rest
    while True:
        if len(buf) - i < 9:
            buf, i = src.refill(i)
            if i >= len(buf):
                raise Truncated("the pickle ends before its STOP")
        entry = ops[buf[i]]
        if entry is None:
            raise PickleLimit(f"malformed pickle: byte 0x{buf[i]:02x} at offset {src.position(i):,} "
                              "is not an opcode")
        name, how, n = entry
        i += 1
        count += 1
        if count > MAX_OPCODES:
            raise PickleLimit(f"more than {MAX_OPCODES:,} opcodes")
        if how == "fixed":
            if n == 0:
                if name == "MEMOIZE":  # the unpickler's index: how many entries its memo holds
                    if len(memo) < MAX_MEMO:
                        memo[len(memo)] = stack[-1] if stack else UNKNOWN
                    else:
                        overflow = True
                elif name == "MARK":
                    marks.append(len(stack))
                    if len(marks) > MAX_DEPTH:
                        raise PickleLimit(f"nested more than {MAX_DEPTH} levels deep")
                elif name in _POP_MARK:
                    if not marks:
                        raise PickleLimit("malformed pickle: a MARK is closed that was never opened")
                    at = marks.pop()
                    items = stack[at:]
                    del stack[at:]
                    if name == "TUPLE":
                        stack.append(tuple(items) if len(items) <= _TUPLE_KEEP else UNKNOWN)
                    elif name in ("OBJ", "LIST", "FROZENSET"):
                        stack.append(UNKNOWN)
                    elif name == "DICT":
                        stack.append(values.state_from_items(items, below=stack[-1] if stack else None))
                    elif name == "SETITEMS" and stack:
                        values.add_items(stack[-1], items)
                elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                    k = 1 if name == "TUPLE1" else 2 if name == "TUPLE2" else 3
                    items = tuple(stack[-k:])
                    if len(items) < k:
                        raise PickleLimit("malformed pickle: a tuple takes more values than the stack has")
                    del stack[-k:]
                    stack.append(items)
                elif name in _NOTHING:
                    if name == "APPEND":
                        stack.pop()
                    elif name == "SETITEM":
                        value, key = stack.pop(), stack.pop()
                        values.add_items(stack[-1] if stack else None, [key, value])
                    elif name == "BINPERSID":
                        _storage(stack.pop(), into)
                        stack.append(UNKNOWN)
                elif name == "STACK_GLOBAL":
                    attr, module = stack.pop(), stack.pop()
                    stack.append(into.add_import(module, attr))
                elif name == "REDUCE":
                    args, func = stack.pop(), stack.pop()
                    stack.append(values.reduced(func, args))
                elif name == "BUILD":
                    state = stack.pop()
                    if stack and isinstance(stack[-1], values.Wrapper):
                        buf, i = arrays.step_over(state, src, i, into=into, nested=nested, walk=walk)
                elif name in ("NEWOBJ", "NEWOBJ_EX"):
                    if name == "NEWOBJ_EX":
                        stack.pop()
                    stack.pop()
                    stack.append(values.instance(stack.pop()))
                elif name == "EMPTY_DICT":
                    stack.append(values.state_for(stack[-1] if stack else None))
                elif name == "EMPTY_TUPLE":
                    stack.append(())
                elif name in ("NEWTRUE", "NEWFALSE"):
                    stack.append(name == "NEWTRUE")
                elif name == "DUP":
                    stack.append(stack[-1])
                elif name == "POP":
                    if stack and (not marks or len(stack) > marks[-1]):
                        stack.pop()
                    elif marks:
                        marks.pop()
                elif name == "STOP":
                    if not stack:
                        raise PickleLimit("malformed pickle: STOP with nothing on the stack")
                    into.opcodes = count
                    src.rest = i
                    return stack[-1]
                else:
                    stack.append(UNKNOWN)
            else:
                value = unpack_from(_FIXED.get(name, "<Q"), buf, i)[0] if name != "BINFLOAT" else None
                i += n
                if name in ("BINPUT", "LONG_BINPUT"):
                    if len(memo) < MAX_MEMO or value in memo:
                        memo[value] = stack[-1] if stack else UNKNOWN
                    else:
                        overflow = True
                elif name in ("BINGET", "LONG_BINGET"):
                    stack.append(UNKNOWN if overflow else memo.get(value, UNKNOWN))
                elif name in ("BININT", "BININT1", "BININT2"):
                    stack.append(value)
                elif name == "PROTO":
                    if value > MAX_PROTOCOL:
                        raise PickleLimit(f"pickle protocol {value} is not a known protocol")
                    into.protocol = max(into.protocol, value)
                elif name in ("EXT1", "EXT2", "EXT4"):
                    stack.append(into.add_unresolved(f"<extension registry code {value}>"))
                elif name != "FRAME":
                    stack.append(UNKNOWN)
        elif how == "sized":
            width, fmt = _PREFIX[n]
            if len(buf) - i < width:
                buf, i = src.refill(i, width)
            length = unpack_from(fmt, buf, i)[0]
            i += width
            if length < 0:
                raise PickleLimit(f"malformed pickle: {name} with a negative length")
            if length <= MAX_NAME and name in _TEXT:
                if len(buf) - i < length:
                    buf, i = src.refill(i, length)
                    if len(buf) - i < length:
                        raise Truncated(f"{name} claims {length} bytes")
                raw = buf[i:i + length]
                i += length
                stack.append(raw.decode("utf-8", "surrogatepass") if name[-7:] == "UNICODE"
                             else raw.decode("latin-1"))
            elif name in ("LONG1", "LONG4") and length <= 16:
                if len(buf) - i < length:
                    buf, i = src.refill(i, length)
                stack.append(pickletools.decode_long(buf[i:i + length]))
                i += length
            else:
                buf, i = src.skip(i, length)
                stack.append(UNKNOWN)
        else:
            line, buf, i = _line(src, buf, i)
            if name in ("GLOBAL", "INST"):
                second, buf, i = _line(src, buf, i)
                if line is None or second is None:
                    raise PickleLimit(f"a {name} name longer than {MAX_LINE:,} bytes")
                imported = into.add_import(line.decode("utf-8"), second.decode("utf-8"))
                if name == "INST":
                    if not marks:
                        raise PickleLimit("malformed pickle: INST without a MARK")
                    del stack[marks.pop():]
                    stack.append(UNKNOWN)
                else:
                    stack.append(imported)
            elif name in ("GET", "PUT"):
                key = int(line) if line is not None else -1
                if name == "GET":
                    stack.append(UNKNOWN if overflow else memo.get(key, UNKNOWN))
                elif len(memo) < MAX_MEMO or key in memo:
                    memo[key] = stack[-1] if stack else UNKNOWN
                else:
                    overflow = True
            elif name in ("INT", "LONG") and line is not None and len(line) <= 24:
                stack.append(int(line.rstrip(b"L")) if line not in (b"00", b"01") else line == b"01")
            elif name == "UNICODE" and line is not None and len(line) <= MAX_NAME:
                stack.append(line.decode("raw-unicode-escape"))
            elif name == "STRING" and line is not None and len(line) <= MAX_NAME:
                stack.append(_quoted(line))
            else:
                stack.append(UNKNOWN)
        if len(stack) > MAX_STACK:
            raise PickleLimit(f"more than {MAX_STACK:,} values wait on its stack")


def _quoted(line: bytes):
    """A protocol 0 ``STRING`` argument (a quoted, escaped repr) as the text it stands for."""
    if len(line) >= 2 and line[:1] == line[-1:] and line[:1] in (b"'", b'"'):
        return codecs.escape_decode(line[1:-1])[0].decode("latin-1")
    raise PickleLimit("malformed pickle: a STRING argument is not quoted")


def _storage(pid, into: Walk) -> None:
    """Record a ``('storage', type, key, location, numel)`` persistent id, as torch.save writes it."""
    if not isinstance(pid, tuple) or len(pid) < 3 or pid[0] != "storage":
        return
    kind = pid[1] if isinstance(pid[1], str) else "storage"
    numel = pid[4] if len(pid) > 4 and type(pid[4]) is int else None
    into.storages.append((str(pid[2]), kind.rsplit(".", 1)[-1], numel))


def walk_all(src: Source, *, into: Walk) -> int:
    """Walk consecutive pickles (legacy ``torch.save`` and joblib write several, then raw bytes).

    Returns where the last pickle ended; what follows, if anything, is raw data, not pickle.
    """
    walk(src, into=into)
    while True:
        if len(src.buf) - src.rest < 2:
            src.refill(src.rest, 2)
            src.rest = 0
        buf, i = src.buf, src.rest
        if len(buf) - i < 2 or buf[i] != 0x80:
            return src.position(i)
        walk(src, into=into)
