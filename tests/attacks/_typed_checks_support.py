"""Helpers for the typed-checks attacks: every place of a manifest, and a scan for raw reads."""

from __future__ import annotations

import re
from pathlib import Path

from modelgate.core import settings
#: Where the package's sources live (the repository root holds core/ and gui/).
ROOT = Path(__file__).resolve().parents[2]


def wrong_values() -> dict[str, object]:
    """One value of each kind a YAML document can hold, the integer as large as the parser allows."""
    return {
        "list": [1, "two", None],
        "mapping": {"key": "value", "nested": {"n": 1}},
        "number": 3.5,
        "bool": True,
        "null": None,
        "huge-int": 10 ** (settings.get("max_number_digits") - 1),
        "string": "not-the-right-kind",
    }


def full_manifest() -> dict:
    """The test-suite's clean manifest with every optional part of the standard filled in too."""
    from tests.factory import clean_manifest

    data = clean_manifest()
    data["dependencies"] = [{"name": "tokenizer", "version": "1.2.0", "sha256": "b" * 64}]
    data["provenance"]["parent"] = "tiny-classifier@0.9.0"
    data["lifecycle"] = {"deprecation": {"after": "2099-01-01", "replacement": "tiny-classifier@2.0.0"}}
    data["files"] = {"LICENSE": "c" * 64}
    data["bundle_format"] = "modelgate.bundle/v1.1"     # samples came with v1.1
    data["samples"] = {"sets": ["samples/set_0"], "rtol": 0.001, "atol": 0.0001}
    return data


def places(node, path: tuple = ()) -> list[tuple]:
    """The path of every value in ``node``: mappings, lists and leaves, parents before children."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(places(value, path + (key,)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(places(value, path + (index,)))
    return found


def replace(data: dict, path: tuple, value) -> None:
    """Put ``value`` at ``path`` in ``data`` (in place)."""
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


# Raw reads of a parsed manifest: subscripts and .get() on anything named manifest, and the
# section()/entries() helpers handed a manifest. Checks and renderers read the typed manifest.
RAW_PATTERNS = (
    re.compile(r"\bmanifest\s*\["),
    re.compile(r"\bmanifest\s*\.\s*get\s*\("),
    re.compile(r"\bmanifest\s*\)\s*\.\s*get\s*\("),
    re.compile(r"\bmanifest\s+or\s+\{\}\s*\)\s*\.\s*get\s*\("),
    re.compile(r"\b(?:section|entries|manifest_section)\s*\(\s*[\w.]*manifest\b"),
    # The policy's stage gates as raw mappings: read through Policy.gates() instead.
    re.compile(r"\bgates\s*\.\s*get\s*\(|\.stage\([^)]*\)\s*(?:\.\s*get\s*\(|\[)"),
    # The card's parsed front matter: read through ModelCard.front instead.
    re.compile(r"\bfront(?:_matter)?\s*(?:\[|\.\s*(?:get|items|keys|values)\s*\()"),
)


def raw_reads(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` for each raw manifest read in source ``text``."""
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
            if any(pattern.search(line) for pattern in RAW_PATTERNS)]
