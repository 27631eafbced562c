"""The registry facade: opening, listing, filtering, showing, and concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from modelgate.core.registry import NotFound, PermissionDenied, RegistryError, database, open_registry
from modelgate.core.registry.models import Promotion, Review, Signature, TrustedKey, ValidationRun, Version, utcnow
from tests.registry_support import variant


@pytest.fixture
def filled(admin_registry, backend, template, tmp_path):
    """Three versions of two models, imported by ``sam``; 1.1.0 of the classifier at candidate."""
    admin_registry.add_user(name="sam", roles=["submitter"])
    with backend.open("sam") as sam:
        sam.import_bundle(path=template)
        sam.import_bundle(path=variant(template, tmp_path / "b", version="1.1.0"))
        sam.import_bundle(path=variant(template, tmp_path / "c", name="fraud-score_v2"))
    with admin_registry.session() as session:
        newer = session.execute(select(Version).where(Version.version == "1.1.0")).scalar_one()
        newer.stage = "candidate"
        session.add_all([
            Review(version_id=newer.id, stage="candidate", reviewer="rita", roles="reviewer",
                   decision="approve", comment="fine"),
            Review(version_id=newer.id, stage="candidate", reviewer="rita", roles="reviewer",
                   decision="approve", comment="still fine"),
            Review(version_id=newer.id, stage="candidate", reviewer="sam", roles="submitter",
                   decision="approve", comment="my own"),
            Review(version_id=newer.id, stage="draft", reviewer="otto", roles="approver",
                   decision="approve", comment="an earlier stage"),
            ValidationRun(version_id=newer.id, stage="candidate", policy_digest="a" * 64, passed=False,
                          errors=2, warnings=0, report="{}", actor="x"),
            ValidationRun(version_id=newer.id, stage="candidate", policy_digest="b" * 64, passed=True,
                          errors=0, warnings=1, report="{}", actor="x", policy_name="default"),
            Signature(version_id=newer.id, signer="sig", key_fingerprint="k1", bundle_digest=newer.digest,
                      verified=True),
            Signature(version_id=newer.id, signer="sig", key_fingerprint="k2", bundle_digest=newer.digest,
                      verified=False),
            # The same key once more, and a revoked key: neither adds to the count.
            Signature(version_id=newer.id, signer="sig2", key_fingerprint="k1", bundle_digest=newer.digest,
                      verified=True),
            Signature(version_id=newer.id, signer="sig", key_fingerprint="k3", bundle_digest=newer.digest,
                      verified=True),
            TrustedKey(name="sig", fingerprint="k1", public_key="-", added_by="x"),
            TrustedKey(name="sig", fingerprint="k2", public_key="-", added_by="x"),
            TrustedKey(name="sig", fingerprint="k3", public_key="-", added_by="x", revoked_at=utcnow()),
            Promotion(version_id=newer.id, from_stage="draft", to_stage="candidate", kind="promote",
                      actor="otto", reason="ready"),
        ])
    return admin_registry


def test_listing_is_newest_first_with_summaries(filled):
    rows = filled.list_versions()
    assert [r.ref for r in rows] == ["tiny-classifier@1.1.0", "fraud-score_v2@1.0.0", "tiny-classifier@1.0.0"]
    top = rows[0]
    assert (top.stage, top.submitter, top.license) == ("candidate", "sam", "Apache-2.0")
    assert (top.validation, top.approvals, top.signatures) == ("passed", 1, 1)
    assert (rows[2].validation, rows[2].approvals, rows[2].signatures) == (None, 0, 0)
    assert top.created_at.tzinfo is not None
    assert filled.count_versions() == 3


def test_filters_pages_and_orders(filled):
    def refs(**kw):
        return [r.ref for r in filled.list_versions(**kw)]

    assert refs(name="tiny-classifier") == ["tiny-classifier@1.1.0", "tiny-classifier@1.0.0"]
    assert refs(stage="candidate") == ["tiny-classifier@1.1.0"]
    assert refs(text="SCORE_") == ["fraud-score_v2@1.0.0"]
    assert refs(text="sc_re") == [] and refs(text="e%v") == []  # LIKE wildcards are plain text
    assert refs(limit=1, offset=1) == ["fraud-score_v2@1.0.0"]
    assert refs(order="name") == ["fraud-score_v2@1.0.0", "tiny-classifier@1.0.0", "tiny-classifier@1.1.0"]
    assert refs(order="created")[0] == "fraud-score_v2@1.0.0"
    assert filled.count_versions(name="tiny-classifier", stage="draft") == 1
    assert filled.count_versions(text="nothing") == 0
    with pytest.raises(RegistryError, match="unknown order"):
        filled.list_versions(order="size")


def test_show_tells_the_whole_story(filled):
    detail = filled.show(name="tiny-classifier", version="1.1.0")
    assert detail.info.ref == "tiny-classifier@1.1.0" and detail.info.stage == "candidate"
    assert detail.store_path == filled.bundle_path(name="tiny-classifier", version="1.1.0")
    assert (detail.store_path / "bundle.yaml").is_file()
    assert [(r.reviewer, r.stage, r.comment) for r in detail.reviews][:2] == [
        ("rita", "candidate", "fine"), ("rita", "candidate", "still fine")]
    assert [(v.passed, v.errors, v.policy_name) for v in detail.validations] == [
        (False, 2, None), (True, 0, "default")]
    assert [(p.from_stage, p.to_stage, p.kind, p.reason) for p in detail.promotions] == [
        ("draft", "candidate", "promote", "ready")]
    assert [s.verified for s in detail.signatures] == [True, False, True, True]
    assert [s.standing.split()[0] for s in detail.signatures] == ["verified", "unverified", "verified", "revoked"]
    assert [(e.action, e.actor) for e in detail.events] == [("version.imported", "sam")]


def test_unknown_versions_are_not_found(filled):
    with pytest.raises(NotFound, match=r"no version tiny-classifier@9\.9\.9 in the registry") as caught:
        filled.show(name="tiny-classifier", version="9.9.9")
    assert caught.value.exit_code == 2 and "--name tiny-classifier" in caught.value.hint
    with pytest.raises(NotFound, match="no version nothing@1 in the registry"):
        filled.bundle_path(name="nothing", version="1")


def test_importing_needs_the_submitter_role(admin_registry, backend, template):
    admin_registry.add_user(name="rita", roles=["reviewer"])
    with backend.open("rita") as rita:
        with pytest.raises(PermissionDenied) as caught:
            rita.import_bundle(path=template)
    assert caught.value.exit_code == 1
    assert admin_registry.count_versions() == 0
    assert admin_registry.audit_log()[-1].action == "denied"
    assert not list(admin_registry.store_root.glob("??/*"))


def test_a_crash_while_adding_a_user_leaves_no_trace(admin_registry, monkeypatch):
    from modelgate.core.registry import audit, identity

    real_append = audit.append

    def append_then_crash(session, **event):
        real_append(session, **event)
        raise MemoryError("crash after the change and its event, before COMMIT")

    monkeypatch.setattr(identity.audit, "append", append_then_crash)
    with pytest.raises(MemoryError):
        admin_registry.add_user(name="bob", roles=["reviewer"])
    monkeypatch.undo()
    assert [u.name for u in admin_registry.users()] == [admin_registry.actor]
    assert len(admin_registry.audit_log()) == 1 and admin_registry.verify_audit().ok


@pytest.mark.slow
def test_concurrent_writers_all_succeed_with_an_unbroken_chain(admin_registry, backend):
    failures, per_thread, threads = [], 4, 6

    def work(n: int) -> None:
        try:
            with backend.open() as registry:
                for i in range(per_thread):
                    registry.add_user(name=f"user-{n}-{i}", roles=["reviewer"])
        except Exception as error:  # collected, reported below
            failures.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert len(admin_registry.users()) == 1 + threads * per_thread
    verdict = admin_registry.verify_audit()
    assert verdict.ok and verdict.checked == 1 + threads * per_thread


def test_the_default_location_is_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MODELGATE_REGISTRY", raising=False)
    monkeypatch.setattr(database, "data_dir", lambda: tmp_path / "data")
    assert database.resolve_url(None) == f"sqlite:///{tmp_path / 'data' / 'registry.db'}"
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path}/env.db")
    assert database.resolve_url(None) == f"sqlite:///{tmp_path}/env.db"
    assert database.resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(RegistryError, match="SQLite or PostgreSQL"):
        database.resolve_url("mysql://u@h/db")
    with pytest.raises(RegistryError, match="in-memory"):
        open_registry(url="sqlite://", user="ann", create=True)
    registry = open_registry(user="ann", create=True)
    assert Path(database.sqlite_file(registry.url)) == tmp_path / "env.db"
    assert registry.store_root == tmp_path / "env.store"
    registry.close()


def test_postgresql_stores_bundles_where_told(pg_url, tmp_path, monkeypatch):
    from modelgate.core.registry import init_registry

    monkeypatch.setenv("MODELGATE_STORE", str(tmp_path / "team-store"))
    with init_registry(url=pg_url) as registry:
        assert registry.dialect == "postgresql" and registry.store_root == tmp_path / "team-store"
    with open_registry(url=pg_url, store=tmp_path / "other") as registry:
        assert registry.store_root == tmp_path / "other"

