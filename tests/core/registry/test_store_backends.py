"""The registry's byte-handling behaviour with each store back-end: the folder store and an
OCI registry (Debian's CNCF distribution registry, started by the test)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from modelgate.core.store.errors import StoreDamaged
from modelgate.core.store import modelpack
from modelgate.core.store.folder import BundleStore
from modelgate.core.store.ocistore import OciBundleStore
from tests.oci_registry import DistributionRegistry
from tests.registry_support import NAME, Team, new_bundle

_prefixes = itertools.count()


@pytest.fixture
def oci_server():
    """One registry per test: blobs are shared by digest across repositories, so a blob one
    test damages would be damaged for the next."""
    server = DistributionRegistry()
    yield server
    server.stop()


class Stored:
    """A team whose registry keeps bytes in one back-end, and a way to damage one stored file."""

    def __init__(self, kind: str, crew: Team, server=None) -> None:
        self.kind, self.crew, self.server = kind, crew, server

    def damage(self, digest: str, relative: str) -> None:
        store = self.crew.admin.store
        if self.kind == "folder":
            path = store.path_of(store.relative(digest)) / relative
            path.parent.chmod(0o755)
            path.chmod(0o644)
        else:
            path = self.server.blob_path("sha256:" + store.listing(digest)[relative])
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


def _team(kind: str, request, tmp_path, monkeypatch) -> Stored:
    server = None
    if kind == "oci":
        server = request.getfixturevalue("oci_server")
        monkeypatch.setenv("MODELGATE_OCI_INSECURE_HOSTS", server.host)
        # Through the declared setting, as the command line and the app read it.
        monkeypatch.setenv("MODELGATE_STORE", f"oci://{server.host}/bundles{next(_prefixes)}")
    return Stored(kind, Team(f"sqlite:///{tmp_path}/registry.db", None), server)


@pytest.fixture(params=["folder", pytest.param("oci", marks=pytest.mark.slow)])
def stored(request, tmp_path, monkeypatch):
    team = _team(request.param, request, tmp_path, monkeypatch)
    yield team
    team.crew.close()


@pytest.fixture
def oci_stored(request, tmp_path, monkeypatch):
    team = _team("oci", request, tmp_path, monkeypatch)
    yield team
    team.crew.close()


def _cli(crew: Team, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelgate.core.cli.main", *args, "--registry", crew.url,
                           "--user", crew.admin_name], capture_output=True, text=True, timeout=300)


def test_the_store_setting_chooses_the_back_end(stored):
    store = stored.crew.admin.store
    assert isinstance(store, OciBundleStore if stored.kind == "oci" else BundleStore)


def test_an_imported_version_reads_back_verified_and_intact(stored, tmp_path, template):
    source = new_bundle(tmp_path / "b", template)
    result = stored.crew("alice").import_bundle(path=source)
    registry = stored.crew.admin
    detail = registry.show(name=NAME, version="1.0.0")
    assert registry.store.inspect(result.digest).intact
    listing = registry.store.listing(result.digest)
    assert set(listing) >= {"bundle.yaml", "MODEL_CARD.md", "model/model.onnx"}
    assert registry.store.read_verified(result.digest, "LICENSE") == (source / "LICENSE").read_bytes()
    assert (detail.store_path / "model" / "model.onnx").read_bytes() == (source / "model" / "model.onnx").read_bytes()
    assert registry.store.holds([result.digest, "0" * 64]) == {result.digest}
    again = stored.crew("alice").import_bundle(path=source)
    assert not again.created and again.digest == result.digest


@pytest.mark.slow
def test_with_an_oci_store_the_bytes_live_only_in_the_oci_registry(oci_stored, tmp_path, template):
    stored = oci_stored
    result = stored.crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    registry = stored.crew.admin
    with registry.engine.connect() as connection:
        [(recorded,)] = connection.exec_driver_sql("SELECT store_path FROM versions").all()
    assert recorded.startswith(f"oci://{stored.server.host}/bundles") and f"/{NAME}@sha256:" in recorded
    # No shelf of the folder store was written: only the incoming area (working copies) exists.
    assert [p.name for p in registry.store_root.iterdir() if p.name != ".incoming"] == []
    manifest = json.loads(stored.server.get(f"/v2/{recorded.split('/', 3)[3].split('@')[0]}/manifests/1.0.0",
                                            accept=modelpack.MANIFEST_MEDIA_TYPE)[1])
    assert manifest["annotations"][modelpack.BUNDLE_DIGEST] == result.digest
    # Another process (a fresh registry object) reads the version through the recorded reference.
    from modelgate.core.registry import open_registry

    with open_registry(url=stored.crew.url, user="bob") as other:
        assert other.store.inspect(result.digest).intact
        assert (other.bundle_path(name=NAME, version="1.0.0") / "bundle.yaml").is_file()
    stored.crew.close()
    assert not list((registry.store_root / ".incoming").iterdir())  # working copies are removed


def test_a_damaged_stored_file_is_named_and_not_read(stored, tmp_path, template):
    result = stored.crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    stored.damage(result.digest, "model/model.onnx")
    registry = stored.crew.admin
    check = registry.store.inspect(result.digest)
    assert check.changed == ("model/model.onnx",) and not check.intact
    with pytest.raises(StoreDamaged):
        registry.store.read_verified(result.digest, "model/model.onnx")


def test_a_damaged_blob_makes_verify_and_export_fail_with_exit_1(stored, tmp_path, template):
    result = stored.crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    stored.crew.close()
    done = _cli(stored.crew, "export", f"{NAME}@1.0.0", "--dir", str(tmp_path / "intact"))
    assert done.returncode == 0, done.stderr
    done = _cli(stored.crew, "verify", f"{NAME}@1.0.0")  # intact: only the signature check says no
    assert done.returncode == 1 and "no signatures" in done.stdout and done.stderr == "", done.stderr
    stored.damage(result.digest, "model/model.onnx")
    for args, out in ((["verify", f"{NAME}@1.0.0"], None), (["export", f"{NAME}@1.0.0", "--dir"], "damaged")):
        if out:
            args = args + [str(tmp_path / out)]
        done = _cli(stored.crew, *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "model/model.onnx" in done.stderr + done.stdout
    assert not (tmp_path / "damaged").exists()


@pytest.mark.slow
def test_an_unreachable_oci_store_is_an_error_not_damage(oci_stored, tmp_path, template):
    from modelgate.core.store.errors import RegistryUnreachable

    stored = oci_stored
    result = stored.crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    stored.server.stop()
    registry = stored.crew.admin
    with pytest.raises(RegistryUnreachable):
        registry.store.inspect(result.digest)
    stored.crew.close()
    done = _cli(stored.crew, "verify", f"{NAME}@1.0.0")
    assert done.returncode == 1 and "Traceback" not in done.stderr and "damaged" not in done.stderr, done.stderr
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM store_damage").scalar() == 0
    assert registry.show(name=NAME, version="1.0.0").stored_at.startswith("oci://")  # the record needs no bytes


def test_fsck_names_the_damaged_file_and_marks_the_version(stored, tmp_path, template):
    from modelgate.core.registry.damage import fsck

    result = stored.crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    registry = stored.crew.admin
    assert fsck(registry).ok
    stored.damage(result.digest, "MODEL_CARD.md")
    report = fsck(registry)
    [damaged] = report.damaged
    assert (damaged.name, damaged.version, damaged.check.changed, damaged.newly) == (NAME, "1.0.0",
                                                                                    ("MODEL_CARD.md",), True)
    with registry.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM store_damage").scalar() == 1
    detail = registry.show(name=NAME, version="1.0.0")  # shown, flagged, even when the bytes cannot be read
    assert detail.damage is not None and detail.info.digest == result.digest


@pytest.mark.slow
def test_an_oci_import_uploads_the_bytes_before_the_write_transaction(oci_stored, tmp_path, template, monkeypatch):
    """Staging uploads every file's blob; placing (inside the registry's write transaction, where
    other writers wait) uploads only the config and writes the manifest."""
    from modelgate.core.store.client import OciClient

    store = oci_stored.crew("alice").store
    staged = store.stage(new_bundle(tmp_path / "b", template))
    requests = []
    real = OciClient._request

    def spy(self, method, url, **kwargs):
        requests.append(method)
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(OciClient, "_request", spy)
    store.place(staged)
    assert requests.count("PATCH") == 1 and requests.count("PUT") == 2  # the config blob; the manifest
    assert store.inspect(staged.digest).intact
