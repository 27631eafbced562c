"""Browsing the registry page by page: filters, every sort, tags and owners (both back ends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from modelgate.core.registry import RegistryError, browse, facets
from modelgate.core.registry.models import Model, Signature, TrustedKey, ValidationRun, Version
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
        # Only signatures by trusted keys count; "bad" stays untrusted.
        session.execute(insert(TrustedKey), [
            {"name": "eve", "fingerprint": f"k{i}", "public_key": "-", "added_by": "admin",
             "created_at": start} for i in range(max(row[4] for row in ROWS))])
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


def test_text_matches_name_and_submitter_case_blind_and_literally_and_the_ids_given(listed):
    def matched(text, ids=frozenset(), submitters=frozenset()):
        query = browse.VersionQuery(text=text, version_ids=ids, submitters=submitters)
        return sorted(refs(browse.page(listed, query=query)))

    assert matched("ALP") == ["alpha@1.10.0", "alpha@1.10.0-rc.1", "alpha@1.2.0"]
    assert matched("a_x") == ["gamma_x@1.0.0"]          # '_' is a character, not a LIKE wildcard
    assert matched("%") == []
    assert matched("OTTO", submitters=frozenset({"otto"})) == ["beta@0.9.0", "beta@2.0.0", "gamma_x@1.0.0"]
    with listed.session(write=False) as session:
        beta = session.execute(select(Version.id).where(Version.version == "0.9.0")).scalar_one()
    assert matched("team:vision", frozenset({beta})) == ["beta@0.9.0"]
    assert browse.count(listed, query=browse.VersionQuery(text="ALP", version_ids=frozenset({beta}))) == 4


def test_walking_by_date_when_many_models_match_gives_the_same_pages(listed, monkeypatch):
    query = browse.VersionQuery(text="a")
    indexed = [refs(browse.page(listed, query=query, limit=2, offset=o)) for o in (0, 2, 4)]
    monkeypatch.setattr(browse, "WALK_ABOVE", 0)
    walked = [refs(browse.page(listed, query=query, limit=2, offset=o)) for o in (0, 2, 4)]
    assert walked == indexed and sum(map(len, walked)) == len(ROWS)


def test_the_shown_counts_are_the_listing_aggregates(listed):
    rows = {row.ref: row for row in browse.page(listed, query=browse.VersionQuery())}
    assert rows["alpha@1.2.0"].signatures == 2 and rows["alpha@1.2.0"].validation == "passed"
    assert rows["alpha@1.10.0"].validation == "failed"
    assert rows["beta@2.0.0"].validation is None


def test_unknown_sort_status_or_stage_is_refused():
    for fields in ({"sort": "size"}, {"status": "green"}, {"stage": "beta"}):
        with pytest.raises(RegistryError):
            browse.VersionQuery(**fields)


@pytest.mark.slow
def test_tags_and_owners_come_from_the_stored_manifests(admin_registry, backend, template, tmp_path):
    def tag(data):
        data["tags"] = ["Vision", "team:qa"]
        data["owners"] = [{"name": "Jonas Berger", "email": "jonas@example.com"}]

    tagged = variant(template, tmp_path / "tagged", name="tagged-model")
    edit_manifest(tagged, tag)
    admin_registry.add_user(name="sam", roles=["submitter"])
    admin_registry.import_bundle(path=template)
    with backend.open("sam") as sam:
        sam.import_bundle(path=tagged)
    rows = facets.unindexed_versions(admin_registry)
    assert len(rows) == 2
    index = facets.FacetIndex().extended(rows, facets.read_facets(admin_registry.store, (r.digest for r in rows)))
    assert facets.unindexed_versions(admin_registry, known=index.versions) == [] and len(index) == 2
    found = index.matching("VISION")
    assert len(found) == 1
    rows = browse.page(admin_registry, query=browse.VersionQuery(text="vision", version_ids=found))
    assert refs(rows) == ["tagged-model@1.0.0"]
    assert index.matching("jonas@") == found                      # an owner's e-mail
    assert index.matching("  ") == frozenset() and index.matching("nobody") == frozenset()
    assert index.matching_submitters("SA") == {"sam"} and index.matching_submitters("") == frozenset()
    query = browse.VersionQuery(text="SA", submitters=index.matching_submitters("SA"))
    assert refs(browse.page(admin_registry, query=query)) == ["tagged-model@1.0.0"]


def test_an_index_grows_without_changing_the_one_it_came_from(admin_registry):
    first = facets.FacetIndex().extended([facets.IndexedVersion(1, "a" * 64, "ana")],
                                         {"a" * 64: facets.Facets(("vision",), ("ana@example.com",))})
    second = first.extended([facets.IndexedVersion(2, "b" * 64, "Ben")], {"b" * 64: facets.Facets(("nlp",))})
    assert first.matching("ana") == {1} and second.matching("ana") == {1}
    assert second.matching("nlp") == {2} and first.matching("nlp") == frozenset()
    assert second.matching_submitters("be") == {"Ben"} and first.matching_submitters("be") == frozenset()
    assert facets.read_facets(admin_registry.store, ["f" * 64]) == {"f" * 64: facets.Facets()}
