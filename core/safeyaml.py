"""YAML loading that hostile files cannot abuse.

PyYAML's safe loader builds no arbitrary objects, but it still expands
aliases, accepts duplicate keys silently and turns dates and ``1.10`` into
non-strings. This loader counts nodes, aliases and nesting depth before
composing (a "billion laughs" or a deeply nested file is refused after a
bounded amount of work), refuses duplicate keys, and keeps timestamps as
strings so the JSON Schema sees what was written.

With libyaml available (PyYAML's wheels ship it), the limits are enforced on
libyaml's event stream and the document is then composed by libyaml; without
it, the pure-Python parser counts as it composes.
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode
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


class _Resolver(Resolver):
    pass


# Same implicit resolvers as the safe loader, minus timestamps: dates stay strings.
_Resolver.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in Resolver.yaml_implicit_resolvers.items()
}


MAX_DEPTH = 200  # far beyond any manifest; keeps recursive composers off the C stack's edge


class _StrictConstructor(SafeConstructor):
    """Refuses duplicate mapping keys (YAML would silently keep the last one)."""

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


def _check_events(text: str, max_nodes: int, max_aliases: int) -> None:
    """Walk libyaml's event stream; refuse documents over the limits before composing.

    ``max_nodes`` bounds the document as it would be once every alias is
    expanded, which is what a "billion laughs" file inflates: each alias adds
    the size of the subtree its anchor names.
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
                if aliases > max_aliases:
                    raise YamlProblem(f"more than {max_aliases} YAML aliases (*name)",
                                      event.start_mark.line + 1)
                expanded += sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                expanded += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                expanded += 1
                open_nodes.append((event.anchor, expanded))
                if len(open_nodes) > MAX_DEPTH:
                    raise YamlProblem(f"YAML nesting is deeper than {MAX_DEPTH} levels",
                                      event.start_mark.line + 1)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, start = open_nodes.pop()
                if anchor:
                    sizes[anchor] = expanded - start + 1
            else:
                continue
            if expanded > max_nodes:
                raise YamlProblem(
                    f"the document expands to more than {max_nodes} YAML nodes; refusing "
                    "a file whose aliases could expand without bound",
                    event.start_mark.line + 1)
    finally:
        parser.dispose()


def load(text: str):
    """Parse one YAML document from ``text``; raise :class:`YamlProblem` if unacceptable."""
    max_nodes, max_aliases = settings.get("max_yaml_nodes"), settings.get("max_yaml_aliases")
    loader = None
    try:
        _check_events(text, max_nodes, max_aliases)
        loader = _DocumentLoader(text)
        return loader.get_single_data()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlProblem(f"not valid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem("YAML nesting is too deep") from None
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
