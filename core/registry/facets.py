"""Tags and owners of stored versions, read from their manifests, for text search.

The registry's tables hold names, versions and submitters; a bundle's tags and its
owners (names and e-mail addresses) live only in its stored ``bundle.yaml``. Stored
bundles never change, so what is read for a digest stays true: a caller keeps the
:class:`Facets` it has read and asks only for digests it has not seen
(:func:`unindexed_digests`, then :func:`read_facets`, which touches files only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from modelgate.core.manifest import entries, parse_manifest_text, section
from modelgate.core.progress import Progress

from .models import Version

#: Largest manifest read for its facets; a real one is a few kilobytes.
MAX_MANIFEST_BYTES = 1024**2


@dataclass(frozen=True)
class Facets:
    """What text search matches in one stored manifest, lower-cased."""

    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        """Whether ``text`` (lower-case) occurs in a tag, an owner's name or e-mail."""
        return any(text in value for value in (*self.tags, *self.owners))


def unindexed_digests(registry, *, known: Iterable[str] = ()) -> list[str]:
    """Digests of stored versions that are not in ``known`` (a read transaction)."""
    seen = set(known)
    with registry.session(write=False) as session:
        digests = session.execute(select(Version.digest).distinct()).scalars().all()
    return sorted(d for d in digests if d not in seen)


def _facets_of(manifest: dict | None) -> Facets:
    tags = tuple(t.lower() for t in section(manifest, "tags", list) if isinstance(t, str))
    owners = tuple(str(owner.get(key)).lower() for owner in entries(manifest, "owners")
                   for key in ("name", "email") if owner.get(key))
    return Facets(tags, owners)


def read_facets(store, digests: Iterable[str], *, progress: Progress | None = None) -> dict[str, Facets]:
    """The facets of each digest's stored manifest; a missing or unreadable one has none."""
    digests = list(digests)
    progress = progress or Progress()
    progress.start(label="indexing tags and owners", total=len(digests))
    found = {}
    for digest in digests:
        manifest = store.path_of(store.relative(digest)) / "bundle.yaml"
        try:
            with open(manifest, "rb") as handle:
                data = handle.read(MAX_MANIFEST_BYTES + 1)
        except OSError:
            data = b""
        parsed = parse_manifest_text(data).data if 0 < len(data) <= MAX_MANIFEST_BYTES else None
        found[digest] = _facets_of(parsed)
        progress.advance()
    return found


def matching(facets: Mapping[str, Facets], text: str) -> frozenset[str]:
    """The digests whose tags or owners contain ``text`` (case-insensitive)."""
    needle = text.strip().lower()
    if not needle:
        return frozenset()
    return frozenset(digest for digest, facet in facets.items() if facet.matches(needle))
