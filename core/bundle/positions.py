"""Lines and columns for findings about bundle.yaml, so code-scanning UIs point at the key.

Checks name what they are about by manifest path (``artifacts[0].sha256``); the YAML
parser noted where each key sits. Here the two meet: a finding about bundle.yaml that
has no line yet gets the line and column of the key its path names, or of the nearest
enclosing key the manifest has (a missing ``sha256`` points at its artifact), or of the
manifest's first key when the finding names no path.
"""

from __future__ import annotations

import dataclasses

from modelgate.core.bundle.reader import MANIFEST
from modelgate.core.findings import Finding, manifest_path


def _prefixes(path: str):
    """``path`` and each shorter manifest path it lies under, longest first.

    Keys may hold dots (``files.model/net.onnx``), so every cut at a ``.`` or ``[`` is
    tried and the index decides which one names a key.
    """
    yield path
    for end in range(len(path) - 1, 0, -1):
        if path[end] in ".[":
            yield path[:end]


class ManifestPositions:
    """Where each manifest path sits in bundle.yaml, from the parsed document's sources."""

    def __init__(self, document) -> None:
        self._sources = document.sources if document is not None else {}
        self._index: dict | None = None

    def _lookup(self) -> dict:
        if self._index is None:  # built on first use: a clean bundle has no finding to place
            self._index = {manifest_path(path): source for path, source in self._sources.items() if path}
        return self._index

    def find(self, path: str | None):
        """The :class:`~modelgate.core.bundle.safeyaml.Source` for ``path`` (or its nearest
        enclosing key, or the document's first key); ``None`` for an empty document."""
        if path:
            index = self._lookup()
            for prefix in _prefixes(path):
                if prefix in index:
                    return index[prefix]
        return self._sources.get(())


def place(findings, *, document) -> list[Finding]:
    """``findings`` with every bundle.yaml finding that lacks a line given one from ``document``
    (the manifest's :class:`~modelgate.core.bundle.safeyaml.Document`; ``None`` when it could not
    be parsed, and then the findings are returned as they are), and a column where its line is
    that of its key."""
    if document is None:
        return list(findings)
    positions = ManifestPositions(document)
    placed = []
    for finding in findings:
        where = finding.location
        if where.file == MANIFEST and where.column is None:
            source = positions.find(where.path)
            if source is not None and where.line in (None, source.line):
                where = dataclasses.replace(where, line=source.line, column=source.column)
                finding = dataclasses.replace(finding, location=where)
        placed.append(finding)
    return placed
