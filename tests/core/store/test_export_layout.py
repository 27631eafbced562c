"""Across the air gap: an exported OCI image layout and a plain folder, checked by tools
that are not ours (skopeo, the stock model_signing CLI) and imported on the other side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.core.registry import WorkflowRefused
from modelgate.core.registry.publish import export_folder, export_layout
from modelgate.core.registry.signatures import sign_version, trust_key
from modelgate.core.store import modelpack
from modelgate.core.store.errors import ArtifactRefused
from modelgate.core.store.layout import LayoutStore
from modelgate.core.store.oci import pull_bundle
from tests.factory import PASSPHRASE, signing_key
from tests.oci_registry import skopeo_raw
from tests.registry_support import NAME, Team, new_bundle

CLI = [sys.executable, "-m", "modelgate.core.cli.main"]


@pytest.fixture
def signed(tmp_path, template):
    """A registry whose tiny-classifier@1.0.0+b.1 is signed by sam, a signer with a trusted key."""
    team = Team(f"sqlite:///{tmp_path}/registry.db", None)
    key = signing_key(tmp_path / "keys", "sam")
    team.admin.add_user(name="sam", roles=["signer"])
    trust_key(team.admin, name="sam", public_key=key.with_suffix(".pub"))
    team("alice").import_bundle(path=new_bundle(tmp_path / "src", template, version="1.0.0+b.1"))
    sign_version(team("sam"), name=NAME, version="1.0.0+b.1", key=key, passphrase=PASSPHRASE, signer="sam")
    yield team, key
    team.close()


@pytest.mark.slow
def test_a_layout_is_a_modelpack_artifact_skopeo_reads_and_imports_on_the_other_side(signed, tmp_path):
    team, key = signed
    layout = tmp_path / "usb" / "release"
    pushed = export_layout(team.admin, name=NAME, version="1.0.0+b.1", dest=layout)
    raw = skopeo_raw(f"oci:{layout}:1.0.0_b.1")
    assert raw["artifactType"] == modelpack.ARTIFACT_TYPE and raw["config"]["mediaType"] == modelpack.CONFIG_MEDIA_TYPE
    kinds = sorted(m.get("artifactType") for m in json.loads((layout / "index.json").read_text())["manifests"])
    assert kinds == sorted([modelpack.ARTIFACT_TYPE, modelpack.SIGNATURE_TYPE, modelpack.DECISIONS_TYPE])
    # The air-gapped station: a new registry, the layout only.
    station = tmp_path / "station.db"
    Team(f"sqlite:///{station}", None).close()
    done = subprocess.run(CLI + ["import", f"oci:{layout}:1.0.0_b.1", "--registry", f"sqlite:///{station}",
                                 "--user", "root"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 signature(s) came with it" in done.stdout
    other = Team(f"sqlite:///{station}", None)
    try:
        assert other.admin.show(name=NAME, version="1.0.0+b.1").info.digest == \
            team.admin.show(name=NAME, version="1.0.0+b.1").info.digest
    finally:
        other.close()
    pulled = pull_bundle(client=LayoutStore(folder=layout, target="1.0.0_b.1"), dest=tmp_path / "pulled")
    assert pulled.digest == pushed.digest and len(pulled.signatures) == 1
    assert team.admin.audit_log(action="store.exported")[0].payload["manifest_digest"] == pushed.digest


def test_a_damaged_layout_is_refused_on_import(signed, tmp_path):
    team, _ = signed
    layout = tmp_path / "release"
    export_layout(team.admin, name=NAME, version="1.0.0+b.1", dest=layout)
    raw = skopeo_raw(f"oci:{layout}:1.0.0_b.1")
    weight = next(layer for layer in raw["layers"] if layer["mediaType"] == modelpack.WEIGHT)
    blob = layout / "blobs" / "sha256" / weight["digest"].removeprefix("sha256:")
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(ArtifactRefused, match="does not hash"):
        pull_bundle(client=LayoutStore(folder=layout, target="1.0.0_b.1"), dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    done = subprocess.run(CLI + ["import", f"oci:{layout}:1.0.0_b.1", "--registry",
                                 f"sqlite:///{tmp_path}/other.db", "--user", "root"], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def _stock_verify(folder: Path, key: Path) -> subprocess.CompletedProcess:
    signature = next((folder / "signatures").iterdir())
    tool = Path(sys.executable).with_name("model_signing")
    return subprocess.run([str(tool), "verify", "key", str(folder), "--signature", str(signature),
                           "--public_key", str(key.with_suffix(".pub")), "--ignore-paths", str(folder / "signatures")],
                          capture_output=True, text=True)


@pytest.mark.slow
def test_an_exported_folder_verifies_with_the_stock_model_signing_cli(signed, tmp_path):
    team, key = signed
    folder = export_folder(team.admin, name=NAME, version="1.0.0+b.1", dest=tmp_path / "handoff")
    done = _stock_verify(folder, key)
    assert done.returncode == 0, done.stdout + done.stderr
    decisions = json.loads((tmp_path / "handoff.decisions.json").read_text())
    assert decisions["subject"] == f"{NAME}@1.0.0+b.1" and decisions["gates"]
    (folder / "MODEL_CARD.md").write_text("changed on the way")
    assert _stock_verify(folder, key).returncode != 0


def test_an_export_into_a_used_folder_or_of_a_damaged_copy_is_refused(signed, tmp_path):
    team, _ = signed
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    with pytest.raises(WorkflowRefused, match="not an empty folder"):
        export_folder(team.admin, name=NAME, version="1.0.0+b.1", dest=used)
    stored = team.admin.bundle_path(name=NAME, version="1.0.0+b.1")
    (stored / "LICENSE").chmod(0o644)
    (stored / "LICENSE").write_text("edited in the store")
    with pytest.raises(WorkflowRefused, match="stored copy"):
        export_layout(team.admin, name=NAME, version="1.0.0+b.1", dest=tmp_path / "layout")
    assert not (tmp_path / "layout").exists() and not list(tmp_path.glob(".export-*"))
