"""The schema, opening and upgrading, and the content-addressed bundle store."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from modelgate.core.registry import RegistryError, database, open_registry
from modelgate.core.registry.models import Base
from modelgate.core.store.folder import bundle_digest, digest_folder
from tests.registry_support import variant


def test_the_migrated_schema_is_exactly_the_models(fresh_backend):
    registry = fresh_backend.init()
    with registry.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert database.current_revision(registry.engine) == database.head_revision()
    registry.close()


def test_revision_ids_come_from_the_shipped_migrations():
    scripts = ScriptDirectory.from_config(database.alembic_config())
    assert scripts.get_heads() == [database.head_revision()]
    assert sorted(s.revision for s in scripts.walk_revisions()) == database.known_revisions()


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path):
    registry = open_registry(url=f"sqlite:///{tmp_path}/r.db", user="ann", create=True)
    with registry.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == database.BUSY_TIMEOUT_MS
    assert registry.store_root == tmp_path / "r.store"
    registry.close()


def test_a_missing_registry_is_not_created_by_accident(tmp_path):
    with pytest.raises(RegistryError, match="no registry at .*registry init") as caught:
        open_registry(url=f"sqlite:///{tmp_path}/none.db", user="ann")
    assert caught.value.exit_code == 2
    assert not (tmp_path / "none.db").exists()


@pytest.mark.slow
def test_an_up_to_date_registry_opens_without_importing_alembic(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    open_registry(url=url, user="ann", create=True).close()
    probe = ("import sys\nfrom modelgate.core.registry import open_registry\n"
             f"open_registry(url={url!r}, user='ann').close()\n"
             "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_a_database_newer_than_the_code_is_refused_untouched(fresh_backend):
    backend = fresh_backend
    backend.init().close()
    backend.sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(RegistryError, match="revision 9999, newer than this ModelGate") as caught:
        backend.open()
    assert "Upgrade ModelGate" in caught.value.hint
    assert backend.sql("SELECT version_num FROM alembic_version") == [("9999",)]


def test_migrations_run_only_when_the_database_is_behind(fresh_backend, monkeypatch):
    backend = fresh_backend
    calls = []
    real = database.upgrade
    monkeypatch.setattr(database, "upgrade", lambda engine: calls.append(engine) or real(engine))
    backend.init().close()  # empty database: behind, so migrated
    assert len(calls) == 1
    registry = backend.open()  # current: nothing to run
    assert len(calls) == 1
    assert database.current_revision(registry.engine) == database.head_revision()
    registry.close()


def test_import_stores_a_read_only_content_addressed_copy(admin_registry, template):
    result = admin_registry.import_bundle(path=template)
    assert result.created and (result.name, result.version) == ("tiny-classifier", "1.0.0")
    assert result.digest == digest_folder(template)
    assert result.store_path == admin_registry.store_root / result.digest[:2] / result.digest
    stored = sorted(p.relative_to(result.store_path).as_posix() for p in result.store_path.rglob("*")
                    if p.is_file())
    original = sorted(p.relative_to(template).as_posix() for p in template.rglob("*") if p.is_file())
    assert stored == original
    for path in [result.store_path, *result.store_path.rglob("*")]:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    assert (result.store_path / "bundle.yaml").read_bytes() == (template / "bundle.yaml").read_bytes()
    assert not any((admin_registry.store_root / ".incoming").iterdir())


def test_the_digest_leaves_out_signatures_only():
    files = {"bundle.yaml": "a" * 64, "model/m.onnx": "b" * 64}
    signed = {**files, "signatures/release.sig": "c" * 64}
    assert bundle_digest(signed) == bundle_digest(files)
    assert bundle_digest({**files, "bundle.yaml": "d" * 64}) != bundle_digest(files)


def test_the_same_bytes_twice_change_nothing(admin_registry, template, tmp_path):
    first = admin_registry.import_bundle(path=template)
    elsewhere = shutil.copytree(template, tmp_path / "renamed-folder")
    again = admin_registry.import_bundle(path=elsewhere)
    assert not again.created and again.digest == first.digest and again.store_path == first.store_path
    assert admin_registry.count_versions() == 1
    assert [e.action for e in admin_registry.audit_log(action="version.imported")] == ["version.imported"]


def test_the_same_version_with_other_bytes_is_refused(admin_registry, template, tmp_path):
    admin_registry.import_bundle(path=template)
    changed = variant(template, tmp_path / "changed", extra=b"one more file")
    with pytest.raises(RegistryError, match="tiny-classifier@1.0.0 is already in the registry with "
                                            "different contents") as caught:
        admin_registry.import_bundle(path=changed)
    assert caught.value.exit_code == 2
    assert admin_registry.count_versions() == 1
    folders = [p for p in admin_registry.store_root.glob("??/*")]
    assert len(folders) == 1  # the refused bytes were not kept
    assert not any((admin_registry.store_root / ".incoming").iterdir())


def test_archives_import_and_match_their_folder(admin_registry, template, tmp_path):
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as archive:
        archive.add(template, arcname="bundle")
    from_tar = admin_registry.import_bundle(path=tmp_path / "b.tar.gz")
    assert from_tar.created and from_tar.digest == digest_folder(template)
    assert admin_registry.import_bundle(path=template).created is False
    other = variant(template, tmp_path / "v2", version="2.0.0")
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as archive:
        for path in other.rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(other).as_posix())
    from_zip = admin_registry.import_bundle(path=tmp_path / "b.zip")
    assert (from_zip.version, from_zip.created) == ("2.0.0", True)
    assert (from_zip.store_path / "model" / "model.onnx").is_file()


def test_a_bundle_without_a_usable_version_is_refused(admin_registry, template, tmp_path):
    broken = variant(template, tmp_path / "broken")
    text = (broken / "bundle.yaml").read_text(encoding="utf-8")
    (broken / "bundle.yaml").write_text(text.replace("version: 1.0.0", "version: ''"), encoding="utf-8")
    with pytest.raises(RegistryError, match="no usable version"):
        admin_registry.import_bundle(path=broken)
    assert admin_registry.count_versions() == 0


def test_a_crash_before_commit_leaves_neither_version_nor_event(admin_registry, template, monkeypatch):
    from modelgate.core.registry import audit, service

    before = admin_registry.audit_log()
    real_append = audit.append

    def append_then_crash(session, **event):
        real_append(session, **event)  # the version row and its event are written...
        raise KeyboardInterrupt("power cut")  # ...and the process dies before COMMIT

    monkeypatch.setattr(service.audit, "append", append_then_crash)
    with pytest.raises(KeyboardInterrupt):
        admin_registry.import_bundle(path=template)
    monkeypatch.undo()
    assert admin_registry.count_versions() == 0
    assert admin_registry.audit_log() == before
    assert admin_registry.verify_audit().ok
    assert admin_registry.import_bundle(path=template).created  # and it can be imported afterwards


def test_progress_is_reported_while_copying_and_hashing(admin_registry, template):
    from modelgate.core.progress import Progress

    seen = []
    admin_registry.import_bundle(path=template, progress=Progress(callback=lambda *report: seen.append(report)))
    copying = [(done, total) for label, done, total in seen if label == "copying into the store"]
    # One pass: each file is hashed as it is copied, so the copy's progress covers both.
    assert copying and copying[-1][0] == copying[-1][1] == sum(
        p.stat().st_size for p in template.rglob("*") if p.is_file())


def test_json_of_the_listing_is_plain(admin_registry, template):
    admin_registry.import_bundle(path=template)
    from modelgate.core.cli.registry_commands import to_json

    rows = json.loads(to_json(admin_registry.list_versions()))
    assert rows[0]["name"] == "tiny-classifier" and rows[0]["stage"] == "draft"
    assert os.fspath(admin_registry.bundle_path(name="tiny-classifier", version="1.0.0")).endswith(
        rows[0]["digest"])


def test_a_registry_made_before_signing_is_upgraded_with_its_records_kept(tmp_path):
    """A 0001 registry (users, a version, its signature row) gains the trusted keys on opening."""
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/old.db"
    engine = database.create_registry_engine(url)
    with database.writer(engine).begin() as connection:
        command.upgrade(database.alembic_config(connection), "0001")
        connection.execute(text("INSERT INTO users (id, name, created_at) VALUES (1, 'ann', '2026-01-01')"))
    engine.dispose()
    assert database.current_revision(database.create_registry_engine(url)) == "0001"
    registry = open_registry(url=url, user="ann")
    try:
        assert database.current_revision(registry.engine) == database.head_revision()
        assert [u.name for u in registry.users()] == ["ann"]
        from modelgate.core.registry.signatures import trusted_keys

        assert trusted_keys(registry) == []
    finally:
        registry.close()
