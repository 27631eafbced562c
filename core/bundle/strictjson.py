"""One strict reader for every JSON document a bundle carries.

Python's ``json`` accepts what a bundle author would not mean and fails on
what a hostile file can hold: duplicate keys (the last one silently wins),
numbers beyond the integer digit limit (``ValueError``), ``NaN`` and
``Infinity`` (not JSON), nesting deep enough to exhaust the stack. This
reader refuses each of them with a :class:`JsonProblem` that names the line,
and bounds numbers, strings and nesting by the same settings as YAML.

The C scanner reads valid documents at full speed; only when it refuses one
is the document read again by the pure-Python scanner, which knows where each
value starts, to name the line.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner

from modelgate.core import settings
class JsonProblem(Exception):
    """A JSON document that cannot be accepted; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Refused(Exception):
    """Raised inside the decoder's hooks; carries the reason without a position."""

    def __init__(self, message: str, pair: int | None = None, path: tuple | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pair = pair  # for a duplicate key: the index of the second occurrence in its object
        self.path = path  # for a value over a limit, when asked for: where it sits


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


class _Reader:
    """The decoder's hooks with the current limits."""

    def __init__(self) -> None:
        self.digits = settings.get(settings.MAX_NUMBER_DIGITS)
        self.string = settings.get(settings.MAX_STRING_CHARS)
        self.depth = settings.get(settings.MAX_NESTING_DEPTH)

    def number(self, written: str, convert):
        if len(written) > self.digits:
            raise _Refused(f"a number written with more than {self.digits} digits")
        return convert(written)

    def parse_int(self, written: str) -> int:
        return self.number(written, int)

    def parse_float(self, written: str) -> float:
        return self.number(written, float)

    @staticmethod
    def parse_constant(written: str):
        raise _Refused(f"{written} is not a JSON number; write a finite number or null")

    def pairs(self, pairs: list) -> dict:
        data = dict(pairs)
        if len(data) != len(pairs):
            seen: set[str] = set()
            for index, (key, _) in enumerate(pairs):
                if key in seen:
                    raise _Refused(f"duplicate key {key[:80]!r}; each key may appear once in an object",
                                   pair=index)
                seen.add(key)
        return data

    def decoder(self) -> json.JSONDecoder:
        return json.JSONDecoder(object_pairs_hook=self.pairs, parse_int=self.parse_int,
                                parse_float=self.parse_float, parse_constant=self.parse_constant)

    def check_sizes(self, value, *, paths: bool = False) -> None:
        """Strings and nesting within bounds (the C scanner checks neither).

        With ``paths`` the refusal says where the value sits (a second, slower
        walk that only a refused document pays for).
        """
        stack = [(value, 1, ())]
        while stack:
            node, depth, path = stack.pop()
            if isinstance(node, str):
                if len(node) > self.string:
                    raise _Refused(f"a string longer than {self.string} characters", path=path)
            elif isinstance(node, (dict, list)):
                if depth > self.depth:
                    raise _Refused(f"JSON nesting is deeper than {self.depth} levels", path=path)
                items = node.items() if isinstance(node, dict) else enumerate(node)
                for key, item in items:
                    if isinstance(key, str) and len(key) > self.string:
                        raise _Refused(f"a key longer than {self.string} characters", path=path + (key,))
                    stack.append((item, depth + 1, path + (key,) if paths else ()))


def _locate(reader: _Reader, text: str) -> tuple[str, int | None]:
    """Read ``text`` again with a scanner that tracks positions: why and where it is refused."""
    decoder = reader.decoder()
    last = [0]      # where the value being read starts
    open_depth = [0]
    starts: list[list[int]] = []  # per open object: where each of its values starts

    def tracked(scan_once, keep: list | None):
        def scan(string, index):
            last[0] = index
            if keep is not None:
                keep.append(index)
            return scan_once(string, index)
        return scan

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None, _w=None):
        open_depth[0] += 1
        if open_depth[0] > reader.depth:
            raise _Refused(f"JSON nesting is deeper than {reader.depth} levels")
        values: list[int] = []
        starts.append(values)
        try:
            return json.decoder.JSONObject(s_and_end, strict, tracked(scan_once, values), object_hook,
                                           object_pairs_hook, memo)
        except _Refused as refused:
            if refused.pair is not None and refused.pair < len(values):
                last[0] = values[refused.pair]
                refused.pair = None
            raise
        finally:
            starts.pop()
            open_depth[0] -= 1

    def parse_array(s_and_end, scan_once, _w=None):
        open_depth[0] += 1
        if open_depth[0] > reader.depth:
            raise _Refused(f"JSON nesting is deeper than {reader.depth} levels")
        try:
            return json.decoder.JSONArray(s_and_end, tracked(scan_once, None))
        finally:
            open_depth[0] -= 1

    decoder.parse_object = parse_object
    decoder.parse_array = parse_array
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        value = decoder.decode(text)
        reader.check_sizes(value)
    except _Refused as refused:
        return refused.message, _line(text, last[0])
    except json.JSONDecodeError as error:
        return error.msg, error.lineno
    except (ValueError, RecursionError) as error:
        return f"it cannot be read ({error.__class__.__name__})", _line(text, last[0])
    # The fast reader refused what the careful one accepts: say so without a line.
    return "it cannot be read", None


def loads(text: str):
    """Parse one JSON document from ``text``; raise :class:`JsonProblem` if unacceptable."""
    reader = _Reader()
    try:
        value = reader.decoder().decode(text)
    except json.JSONDecodeError as error:
        raise JsonProblem(f"not valid JSON: {error.msg}", error.lineno) from None
    except (_Refused, ValueError, RecursionError):
        message, line = _locate(reader, text)
        raise JsonProblem(message, line) from None
    try:
        reader.check_sizes(value)
    except _Refused:
        try:
            reader.check_sizes(value, paths=True)
        except _Refused as refused:
            raise JsonProblem(refused.message, ValueLines(text).line(refused.path or ())) from None
    return value


def load_bytes(data: bytes, *, what: str):
    """Decode strict UTF-8 (a leading BOM is allowed) and parse; raise :class:`JsonProblem`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonProblem(f"{what} is not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start})", data[: exc.start].count(b"\n") + 1) from None
    return loads(text)


class ValueLines:
    """Where each value of a JSON text starts, by path; read again only when first asked.

    A valid document is read once, by the C scanner. Only when a finding needs
    a line (a schema problem) is the text read a second time by the Python
    scanner, which knows where each value starts; the cost is linear in the
    text and is paid by failing documents only.
    """

    #: JSON has no unquoted text a parser types by guessing (YAML's "quote it" traps).
    sources: dict = {}

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: dict | None = None

    def line(self, path) -> int | None:
        """The line of the value at ``path``, or of its nearest enclosing value."""
        if self._starts is None:
            self._starts = _value_starts(self._text)
        path = tuple(path)
        while True:
            found = self._starts.get(path)
            if found is not None:
                return _line(self._text, found)
            if not path:
                return None
            path = path[:-1]


def _value_starts(text: str) -> dict:
    """Path -> the offset where that value starts, for every value of ``text``."""
    starts: dict[int, list[int]] = {}  # id(container) -> where each of its values starts
    keep: list = []  # the containers, alive until the walk is done so their ids stay theirs
    decoder = json.JSONDecoder()

    def tracked(scan_once, into: list):
        def scan(string, index):
            into.append(index)
            return scan_once(string, index)
        return scan

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None, _w=None):
        values: list[int] = []
        result = json.decoder.JSONObject(s_and_end, strict, tracked(scan_once, values), object_hook,
                                         object_pairs_hook, memo)
        starts[id(result[0])] = values
        keep.append(result[0])
        return result

    def parse_array(s_and_end, scan_once, _w=None):
        values: list[int] = []
        result = json.decoder.JSONArray(s_and_end, tracked(scan_once, values))
        starts[id(result[0])] = values
        keep.append(result[0])
        return result

    decoder.parse_object = parse_object
    decoder.parse_array = parse_array
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        data = decoder.decode(text)
    except (ValueError, RecursionError):
        return {}
    found = {(): len(text) - len(text.lstrip())}
    stack = [((), data)]
    while stack:
        path, node = stack.pop()
        positions = starts.get(id(node))
        if positions is None:
            continue
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for (key, child), position in zip(children, positions):
            found[path + (key,)] = position
            stack.append((path + (key,), child))
    return found
