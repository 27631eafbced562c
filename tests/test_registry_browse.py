"""Browsing the registry page by page: filters, every sort, tags and owners (both back ends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from modelgate.core.registry import RegistryError, browse, facets
from modelgate.core.registry.models import Model, Signature, ValidationRun, Version
from tests.factory import edit_manifest
from tests.registry_support import variant

#: (model, version, stage, latest validation passed or None, verified signatures)
ROWS = [
    ("alpha", "1.2.0", "production", True, 2),
    ("alpha", "1.10.0", "candidate", False, 0),
    ("alpha", "1.10.0-rc.1", "draft", None, 0),
    ("beta", "0.9.0", "staging", True, 1),
    ("beta", "2.0.0", "draft", None, 0),
    ("gamma_x", "1.0.0", "archived", False, 0),
]


@pytest.fixture
def listed(admin_registry):
    """:data:`ROWS` written straight into the tables, updated one minute apart in that order."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with admin_registry.session() as session:
        for name in sorted({row[0] for row in ROWS}):
            session.add(Model(name=name))
        session.flush()
        ids = dict(session.execute(select(Model.name, Model.id)).all())
        for n, (name, version, stage, passed, signatures) in enumerate(ROWS):
            moment = start + timedelta(minutes=n)
            row = Version(model_id=ids[name], version=version, digest=f"{n:064d}", stage=stage,
                          submitter="sam" if name == "alpha" else "otto", store_path=f"{n}",
                          created_at=moment, updated_at=moment)
            session.add(row)
            session.flush()
            if passed is not None:
                for outcome in (not passed, passed):  # only the latest run counts
                    session.add(ValidationRun(version_id=row.id, stage=stage, policy_digest="p" * 64,
                                              passed=outcome, errors=0, warnings=0, report="{}", actor="x"))
            session.execute(insert(Signature), [
                {"version_id": row.id, "signer": "eve", "key_fingerprint": f"k{i}",
                 "bundle_digest": row.digest, "verified": True} for i in range(signatures)]
                + [{"version_id": row.id, "signer": "mal", "key_fingerprint": "bad",
                    "bundle_digest": row.digest, "verified": False}])
    return admin_registry


def refs(rows) -> list[str]:
    return [row.ref for row in rows]


def test_the_default_order_is_most_recently_updated_first(listed):
    rows = browse.page(listed, query=browse.VersionQuery())
    assert refs(rows) == [f"{n}@{v}" for n, v, *_ in reversed(ROWS)]
    assert browse.count(listed, query=browse.VersionQuery()) == len(ROWS)


@pytest.mark.parametrize("sort, ascending", [
    ("name", ["alpha@1.2.0", "alpha@1.10.0-rc.1", "alpha@1.10.0", "beta@0.9.0", "beta@2.0.0", "gamma_x@1.0.0"]),
    ("version", ["beta@0.9.0", "gamma_x@1.0.0", "alpha@1.2.0", "alpha@1.10.0-rc.1", "alpha@1.10.0", "beta@2.0.0"]),
    ("stage", ["alpha@1.10.0-rc.1", "beta@2.0.0", "alpha@1.10.0", "beta@0.9.0", "alpha@1.2.0", "gamma_x@1.0.0"]),
    ("validation", ["alpha@1.10.0", "gamma_x@1.0.0", "alpha@1.10.0-rc.1", "beta@2.0.0", "alpha@1.2.0", "beta@0.9.0"]),
    ("signatures", ["alpha@1.10.0", "alpha@1.10.0-rc.1", "beta@2.0.0", "gamma_x@1.0.0", "beta@0.9.0", "alpha@1.2.0"]),
])
def test_every_column_sorts_both_ways(listed, sort, ascending):
    up = refs(browse.page(listed, query=browse.VersionQuery(sort=sort, descending=False)))
    down = refs(browse.page(listed, query=browse.VersionQuery(sort=sort, descending=True)))
    assert up == ascending
    # Descending reverses the key, not the tie-break: rows with equal keys keep their name order.
    assert sorted(down) == sorted(up) and down != up


def test_pages_follow_the_sort_without_gaps_or_overlaps(listed):
    query = browse.VersionQuery(sort="version", descending=True)
    whole = refs(browse.page(listed, query=query))
    paged = [ref for offset in range(0, len(ROWS), 2)
             for ref in refs(browse.page(listed, query=query, limit=2, offset=offset))]
    assert paged == whole


def test_filters_by_stage_and_validation_status(listed):
    def chosen(**fields):
        query = browse.VersionQuery(**fields)
        rows = refs(browse.page(listed, query=query))
        assert browse.count(listed, query=query) == len(rows)
        return sorted(rows)

    assert chosen(stage="draft") == ["alpha@1.10.0-rc.1", "beta@2.0.0"]
    assert chosen(status="passed") == ["alpha@1.2.0", "beta@0.9.0"]
    assert chosen(status="failed") == ["alpha@1.10.0", "gamma_x@1.0.0"]
    assert chosen(status="unvalidated") == ["alpha@1.10.0-rc.1", "beta@2.0.0"]
    assert chosen(status="failed", stage="archived") == ["gamma_x@1.0.0"]


def test_text_matches_name_version_and_submitter_case_blind_and_literally(listed):
    def matched(text, digests=frozenset()):
        return sorted(refs(browse.page(listed, query=browse.VersionQuery(text=text, digests=digests))))

    assert matched("ALP") == ["alpha@1.10.0", "alpha@1.10.0-rc.1", "alpha@1.2.0"]
    assert matched("rc.") == ["alpha@1.10.0-rc.1"]
    assert matched("otto") == ["beta@0.9.0", "beta@2.0.0", "gamma_x@1.0.0"]
    assert matched("a_x") == ["gamma_x@1.0.0"]          # '_' is a character, not a LIKE wildcard
    assert matched("%") == []
    assert matched("team:vision", frozenset({f"{3:064d}"})) == ["beta@0.9.0"]


def test_the_shown_counts_are_the_listing_aggregates(listed):
    rows = {row.ref: row for row in browse.page(listed, query=browse.VersionQuery())}
    assert rows["alpha@1.2.0"].signatures == 2 and rows["alpha@1.2.0"].validation == "passed"
    assert rows["alpha@1.10.0"].validation == "failed"
    assert rows["beta@2.0.0"].validation is None


def test_unknown_sort_status_or_stage_is_refused():
    for fields in ({"sort": "size"}, {"status": "green"}, {"stage": "beta"}):
        with pytest.raises(RegistryError):
            browse.VersionQuery(**fields)


def test_tags_and_owners_come_from_the_stored_manifests(admin_registry, backend, template, tmp_path):
    def tag(data):
        data["tags"] = ["Vision", "team:qa"]
        data["owners"] = [{"name": "Jonas Berger", "email": "jonas@example.com"}]

    tagged = variant(template, tmp_path / "tagged", name="tagged-model")
    edit_manifest(tagged, tag)
    admin_registry.import_bundle(path=template)
    admin_registry.import_bundle(path=tagged)
    digests = facets.unindexed_digests(admin_registry)
    assert len(digests) == 2
    index = facets.read_facets(admin_registry.store, digests)
    assert facets.unindexed_digests(admin_registry, known=index) == []
    found = facets.matching(index, "VISION")
    assert len(found) == 1
    rows = browse.page(admin_registry, query=browse.VersionQuery(text="vision", digests=found))
    assert refs(rows) == ["tagged-model@1.0.0"]
    assert facets.matching(index, "jonas@") == found
    assert facets.matching(index, "  ") == frozenset()


def test_a_digest_without_a_stored_manifest_has_no_facets(admin_registry):
    index = facets.read_facets(admin_registry.store, ["f" * 64])
    assert index == {"f" * 64: facets.Facets()}
