"""From changed files to the bundles that hold them, for pre-commit hooks and CI diffs.

A hook gets the paths of the files a commit changes, not bundles. Each path belongs to the
nearest folder at or above it that holds a ``bundle.yaml``; a bundle archive is a bundle by
itself. Paths in no bundle (a README, a script) are nobody's concern here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from modelgate.core.bundle.archive import is_archive
from modelgate.core.bundle.reader import MANIFEST


def bundle_root(path: Path) -> Path | None:
    """The bundle ``path`` belongs to: an archive itself, else the nearest folder at or above it
    holding ``bundle.yaml``; ``None`` when there is none.

    A relative path is looked up no higher than the working directory (``a/b/c`` tries
    ``a/b/c``, ``a/b``, ``a`` and ``.``), as a hook runs from the repository's top. The path
    itself need not exist any more: a deleted file still names its bundle.
    """
    path = Path(path)
    if is_archive(path) and path.is_file():
        return path
    for folder in (path, *path.parents):
        if (folder / MANIFEST).is_file():
            return folder
    return None


def bundle_roots(*, paths: Iterable[Path]) -> list[Path]:
    """The distinct bundles holding ``paths``, in the order they are first named."""
    roots: dict[Path, None] = {}
    for path in paths:
        root = bundle_root(Path(path))
        if root is not None:
            roots.setdefault(root, None)
    return list(roots)
