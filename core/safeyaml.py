"""YAML loading that hostile files cannot abuse.

PyYAML's safe loader builds no arbitrary objects, but it still expands
aliases, accepts duplicate keys silently and turns dates and ``1.10`` into
non-strings. This loader counts nodes and aliases as it composes (a "billion
laughs" file is refused after a bounded amount of work), refuses duplicate
keys, and keeps timestamps as strings so the JSON Schema sees what was written.
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


class _Loader(Reader, Scanner, Parser, Composer, SafeConstructor, _Resolver):
    def __init__(self, stream: str, max_nodes: int, max_aliases: int) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self._nodes = 0
        self._aliases = 0
        self._max_nodes = max_nodes
        self._max_aliases = max_aliases

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._max_aliases:
                mark = self.peek_event().start_mark
                raise YamlProblem(
                    f"more than {self._max_aliases} YAML aliases (*name); "
                    "refusing a document that could expand without bound",
                    mark.line + 1,
                )
        else:
            self._nodes += 1
            if self._nodes > self._max_nodes:
                mark = self.peek_event().start_mark
                raise YamlProblem(f"more than {self._max_nodes} YAML nodes", mark.line + 1)
        return super().compose_node(parent, index)

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


def load(text: str):
    """Parse one YAML document from ``text``; raise :class:`YamlProblem` if unacceptable."""
    loader = _Loader(
        text,
        max_nodes=settings.get("max_yaml_nodes"),
        max_aliases=settings.get("max_yaml_aliases"),
    )
    try:
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
