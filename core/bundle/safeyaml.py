"""YAML loading that hostile files cannot abuse.

PyYAML's safe loader builds no arbitrary objects, but it still expands
aliases, accepts duplicate keys silently and turns dates and ``1.10`` into
non-strings. This loader counts nodes, aliases and nesting depth before
composing (a "billion laughs" or a deeply nested file is refused after a
bounded amount of work), refuses duplicate keys, and keeps timestamps as
strings so the JSON Schema sees what was written. Every exception the
parser or constructor raises becomes a :class:`YamlProblem` with the line:
numbers beyond ``max_number_digits``, strings beyond ``max_string_chars``,
nesting beyond ``max_nesting_depth``, aliases that refer to the collection
they sit in, and plain scalars YAML 1.1 calls numbers but cannot read
(``0x_``) are refused before or while the document is built.

:func:`load_document` also returns where each value sits (its line and, for
an unquoted scalar, the text as written), so that a finding about a value of
the wrong type names its line and can say "quote it" where YAML 1.1 silently
turned ``no`` into ``false`` or ``1.10`` into ``1.1``.

With libyaml available (PyYAML's wheels ship it), the limits are enforced on
libyaml's event stream and the document is then composed by libyaml; without
it, the pure-Python parser counts as it composes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from modelgate.core import settings
class YamlProblem(Exception):
    """A YAML document that cannot be accepted; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class YamlTooDeep(YamlProblem):
    """Lists and mappings nest deeper than ``max_nesting_depth``."""


class YamlTooLarge(YamlProblem):
    """The document, a value in it, or its expansion through aliases is over a limit."""


class YamlCyclic(YamlProblem):
    """An alias refers to a collection that contains it: the data would be infinite."""


@dataclass(frozen=True)
class Source:
    """Where one value sits in the text: its 1-based line and, if unquoted, how it was written.

    For a mapping's value, ``line`` and ``column`` (1-based) are those of its key: a
    block value starts on the line after its key, and the key is what a reader looks for.
    """

    line: int
    plain: str | None = None
    column: int | None = None


@dataclass(frozen=True)
class Document:
    """A parsed document and, per path (a tuple of keys and indexes), where each value sits."""

    data: object
    sources: dict

    def line(self, path) -> int | None:
        """The line of the value at ``path``, or of its nearest enclosing value."""
        found = self.source(path)
        return found.line if found else None

    def source(self, path) -> Source | None:
        """Where the value at ``path`` sits, or its nearest enclosing value; ``None`` for an
        empty document."""
        path = tuple(path)
        while path:
            found = self.sources.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.sources.get(())


class _Resolver(Resolver):
    pass


# Same implicit resolvers as the safe loader, minus timestamps: dates stay strings.
_Resolver.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in Resolver.yaml_implicit_resolvers.items()
}


class _StrictConstructor(SafeConstructor):
    """Refuses duplicate mapping keys (YAML would silently keep the last one).

    Every value the constructor cannot build (an integer over Python's digit
    limit, ``0x_``) becomes a :class:`YamlProblem` at that value's line.
    """

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, ArithmeticError):
            written = node.value if isinstance(node, ScalarNode) else None
            kind = node.tag.rsplit(":", 1)[-1]
            what = f"{written[:40]!r} is not a valid {kind}" if written is not None else f"a {kind} cannot be built"
            raise YamlProblem(f"{what}; quote it if it is text", node.start_mark.line + 1) from None

    def construct_yaml_int(self, node):
        _check_number(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        _check_number(node)
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            # .inf, .nan and overflowing literals have no JSON form: no schema, report or
            # JSON output could carry them faithfully.
            raise YamlProblem(f"{node.value[:40]!r} is not a finite number; write a finite number, "
                              "or quote it if it is text", node.start_mark.line + 1)
        return value

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise YamlProblem(
                        "a mapping key must be a plain value", key_node.start_mark.line + 1
                    ) from None
                if duplicate:
                    raise YamlProblem(
                        f"duplicate key {key!r}; each key may appear once in a mapping",
                        key_node.start_mark.line + 1,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictConstructor.add_constructor("tag:yaml.org,2002:int", _StrictConstructor.construct_yaml_int)
_StrictConstructor.add_constructor("tag:yaml.org,2002:float", _StrictConstructor.construct_yaml_float)


def _check_number(node) -> None:
    limit = settings.get(settings.MAX_NUMBER_DIGITS)
    if isinstance(node.value, str) and len(node.value) > limit:
        raise YamlTooLarge(f"a number written with more than {limit} characters",
                           node.start_mark.line + 1)


class _PyParser(Reader, Scanner, Parser):
    """The pure-Python event parser, for the limits walk when libyaml is missing."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)

    def dispose(self) -> None:
        self.states = []
        self.state = None


class _PyLoader(Reader, Scanner, Parser, Composer, _StrictConstructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _StrictConstructor.__init__(self)
        _Resolver.__init__(self)


try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

if CParser is not None:

    class _CLoader(CParser, _StrictConstructor, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _StrictConstructor.__init__(self)
            _Resolver.__init__(self)
    _EventParser, _DocumentLoader = CParser, _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _EventParser, _DocumentLoader = _PyParser, _PyLoader


@dataclass(frozen=True)
class _Limits:
    nodes: int
    aliases: int
    depth: int
    string: int

    @classmethod
    def from_settings(cls) -> _Limits:
        return cls(settings.get(settings.MAX_YAML_NODES), settings.get(settings.MAX_YAML_ALIASES),
                   settings.get(settings.MAX_NESTING_DEPTH), settings.get(settings.MAX_STRING_CHARS))


def _check_events(text: str, limits: _Limits) -> None:
    """Walk the event stream; refuse documents over the limits before composing.

    ``limits.nodes`` bounds the document as it would be once every alias is
    expanded, which is what a "billion laughs" file inflates: each alias adds
    the size of the subtree its anchor names. An alias to a collection that is
    still open is a cycle, which no walk over the data could finish.
    """
    expanded = aliases = 0
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    parser = _EventParser(text)
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.aliases:
                    raise YamlTooLarge(f"more than {limits.aliases} YAML aliases (*name)",
                                       event.start_mark.line + 1)
                if any(anchor == event.anchor for anchor, _ in open_nodes):
                    raise YamlCyclic(f"the alias *{event.anchor} refers to a list or mapping that "
                                     "contains it, which would make it endless",
                                     event.start_mark.line + 1)
                expanded += sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                expanded += 1
                if len(event.value) > limits.string:
                    raise YamlTooLarge(f"a value longer than {limits.string} characters",
                                       event.start_mark.line + 1)
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                expanded += 1
                open_nodes.append((event.anchor, expanded))
                if len(open_nodes) > limits.depth:
                    raise _too_deep(limits.depth, event.start_mark.line + 1)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, start = open_nodes.pop()
                if anchor:
                    sizes[anchor] = expanded - start + 1
            else:
                continue
            if expanded > limits.nodes:
                raise YamlTooLarge(
                    f"the document expands to more than {limits.nodes} YAML nodes; refusing "
                    "a file whose aliases could expand without bound",
                    event.start_mark.line + 1)
    finally:
        parser.dispose()


def _too_deep(depth: int, line: int | None) -> YamlTooDeep:
    return YamlTooDeep(f"YAML nesting is deeper than {depth} levels", line)


def _flow_depth(text: str) -> int:
    """The deepest run of open brackets, ignoring quoting: only to name a parser's refusal.

    libyaml scans a whole flow collection before it hands over its first event
    and refuses deep ones with its own words; this tells that refusal apart
    from other syntax errors so it is reported as what it is.
    """
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}" and depth:
            depth -= 1
    return deepest


def _sources(node, data, limit: int) -> dict:
    """Map each path in ``data`` to where its node sits; aliases are followed (cycles are refused)."""
    found: dict = {}
    stack = [((), node, node.start_mark, data)]
    while stack and len(found) < limit:
        path, node, mark, value = stack.pop()
        # A plain scalar has no style: None from the Python composer, "" from libyaml.
        plain = node.value if isinstance(node, ScalarNode) and not node.style else None
        found[path] = Source(mark.line + 1, plain, mark.column + 1)
        if isinstance(node, MappingNode) and isinstance(value, dict) and len(node.value) == len(value):
            for (key_node, value_node), (key, item) in zip(node.value, value.items()):
                stack.append((path + (key,), value_node, key_node.start_mark, item))
        elif isinstance(node, SequenceNode) and isinstance(value, list) and len(node.value) == len(value):
            for index, (item_node, item) in enumerate(zip(node.value, value)):
                stack.append((path + (index,), item_node, item_node.start_mark, item))
    return found


def load(text: str):
    """Parse one YAML document from ``text``; raise :class:`YamlProblem` if unacceptable."""
    return load_document(text).data


def load_document(text: str) -> Document:
    """Parse one YAML document and note where each value sits; raise :class:`YamlProblem`.

    Every exception PyYAML or libyaml raises on any input becomes a
    :class:`YamlProblem` (a subclass says which limit was met), with its line.
    """
    limits = _Limits.from_settings()
    size_limit = settings.get(settings.MAX_MANIFEST_BYTES)
    if len(text) > size_limit:
        raise YamlTooLarge(f"the document is longer than {size_limit} characters")
    loader = None
    try:
        _check_events(text, limits)
        loader = _DocumentLoader(text)
        node = loader.get_single_node()
        if node is None:
            return Document(None, {})
        data = loader.construct_document(node)
        return Document(data, _sources(node, data, limits.nodes))
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if _flow_depth(text) > limits.depth:
            raise _too_deep(limits.depth, line) from None
        raise YamlProblem(f"not valid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise _too_deep(limits.depth, None) from None
    except (ValueError, TypeError, OverflowError, ArithmeticError, MemoryError) as exc:
        # Anything a future PyYAML raises outside a node's construction: never a traceback.
        raise YamlProblem(f"not valid YAML: {exc.__class__.__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()


def decode_utf8(data: bytes, *, what: str) -> str:
    """Decode strict UTF-8 (a leading BOM is allowed); raise :class:`YamlProblem` otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblem(
            f"{what} is not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})",
            line,
        ) from None
