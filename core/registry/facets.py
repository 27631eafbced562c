"""Who submitted the stored versions, and the tags and owners their manifests name, for text search.

The registry's tables hold names and submitters; a bundle's tags and owners (names and
e-mail addresses) live only in its stored ``bundle.yaml``. A :class:`FacetIndex` maps each
such value, lower-cased, to the versions that carry it, and keeps the distinct submitters,
so matching typed text means scanning a few distinct values, not the versions. Stored bundles never change, so what
is read for a version stays true: a caller asks only for versions it has not indexed
(:func:`unindexed_versions`), reads their manifests (:func:`read_facets`, files only, no
database) and makes an :meth:`extended <FacetIndex.extended>` index.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from modelgate.core.bundle import safeyaml
from modelgate.core.bundle.manifest_types import typed_manifest
from modelgate.core.progress import Progress

from modelgate.core.registry.models import Version

#: Largest manifest read for its facets; a real one is a few kilobytes.
MAX_MANIFEST_BYTES = 1024**2


@dataclass(frozen=True)
class Facets:
    """What text search matches in one stored manifest, lower-cased."""

    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexedVersion:
    """A version to index: its id, its bundle's digest and who submitted it."""

    id: int
    digest: str
    submitter: str


def unindexed_versions(registry, *, known: Collection[int] = ()) -> list[IndexedVersion]:
    """The versions whose ids are not in ``known`` (a read transaction)."""
    with registry.session(write=False) as session:
        rows = session.execute(select(Version.id, Version.digest, Version.submitter)).all()
    return [IndexedVersion(*row) for row in rows if row[0] not in known]


def _facets_of(manifest: dict | None) -> Facets:
    typed = typed_manifest(manifest)
    tags = tuple(t.lower() for t in typed.tags)
    owners = tuple(value.lower() for owner in typed.owners
                   for value in (owner.name, owner.email) if value)
    return Facets(tags, owners)


def _parsed(data: bytes) -> dict | None:
    """The manifest's mapping, or ``None``: no schema check (import checked it), just the YAML."""
    if not 0 < len(data) <= MAX_MANIFEST_BYTES:
        return None
    try:
        parsed = safeyaml.load(safeyaml.decode_utf8(data, what="bundle.yaml"))
    except safeyaml.YamlProblem:
        return None
    return parsed if isinstance(parsed, dict) else None


def _read_manifest(store, digest: str) -> bytes:
    """The stored ``bundle.yaml`` of ``digest``, checked against the digest it was imported with;
    empty when it is too large, unreadable or damaged (the version then has no facets)."""
    from modelgate.core.registry.errors import StoreDamaged

    try:
        with store.open_verified(digest, "bundle.yaml") as reader:
            data = reader.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                return b""
            reader.read()  # reaching the end is what checks the bytes
            return data
    except (OSError, StoreDamaged):
        return b""


def read_facets(store, digests: Iterable[str], *, progress: Progress | None = None) -> dict[str, Facets]:
    """The facets of each digest's stored manifest; a missing or unreadable one has none."""
    digests = sorted(set(digests))
    progress = progress or Progress()
    held = store.holds(digests)
    found = {digest: Facets() for digest in digests if digest not in held}
    digests = [digest for digest in digests if digest in held]
    progress.start(label="indexing tags and owners", total=len(digests))
    for digest in digests:
        data = _read_manifest(store, digest)
        found[digest] = _facets_of(_parsed(data))
        progress.advance()
    return found


@dataclass(frozen=True)
class FacetIndex:
    """Lower-cased tag and owner values, each with the ids of the versions that carry it, and
    the distinct submitters."""

    values: Mapping[str, frozenset[int]] = field(default_factory=dict)
    versions: frozenset[int] = frozenset()
    submitters: frozenset[str] = frozenset()

    def extended(self, rows: Iterable[IndexedVersion], facets: Mapping[str, Facets]) -> FacetIndex:
        """A new index that also holds ``rows``, with the facets read for their digests."""
        grown: dict[str, set[int]] = {value: set(ids) for value, ids in self.values.items()}
        added, submitters = set(), set(self.submitters)
        for row in rows:
            found = facets.get(row.digest, Facets())
            for value in {*found.tags, *found.owners}:
                grown.setdefault(value, set()).add(row.id)
            added.add(row.id)
            submitters.add(row.submitter)
        return FacetIndex({value: frozenset(ids) for value, ids in grown.items()}, self.versions | added,
                          frozenset(submitters))

    def matching(self, text: str) -> frozenset[int]:
        """The versions with a tag or owner containing ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return frozenset()
        hits = [ids for value, ids in self.values.items() if needle in value]
        return frozenset().union(*hits) if hits else frozenset()

    def matching_submitters(self, text: str) -> frozenset[str]:
        """The submitters whose names contain ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        return frozenset(name for name in self.submitters if needle and needle in name.lower())

    def __len__(self) -> int:
        return len(self.versions)
