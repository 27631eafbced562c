"""Push and pull against a real CNCF distribution registry, started by the test itself.

Distribution 2.8 has no referrers API, so attachments go through the referrers-tag
fallback here; skopeo reads what we push, as an independent OCI client.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from modelgate.core.registry import WorkflowRefused
from modelgate.core.registry.publish import push_version
from modelgate.core.store import modelpack
from modelgate.core.store.client import OciClient
from modelgate.core.store.reference import fallback_tag
from modelgate.core.store.errors import ArtifactRefused, RegistryUnreachable, StoreError
from modelgate.core.store.oci import pull_bundle
from modelgate.core.store.reference import parse_reference
from tests.oci_registry import DistributionRegistry, skopeo_raw
from tests.registry_support import NAME, Team, new_bundle

pytestmark = pytest.mark.slow  # each test starts a distribution registry process


@pytest.fixture(scope="module")
def oci():
    server = DistributionRegistry()
    yield server
    server.stop()


@pytest.fixture
def own_oci():
    """A registry of the test's own, for tests that damage blobs: blobs are stored once per
    content, so a blob damaged in the shared registry would break every test that pushed it."""
    server = DistributionRegistry()
    yield server
    server.stop()


@pytest.fixture
def crew(tmp_path):
    team = Team(f"sqlite:///{tmp_path}/registry.db", None)
    yield team
    team.close()


def _repo(oci, name: str):
    return parse_reference(text=f"oci://{oci.host}/{name}", need_target=False)


def _pushed(crew, oci, tmp_path, template, repo, version="1.0.0"):
    crew("alice").import_bundle(path=new_bundle(tmp_path / version, template, version=version))
    return push_version(crew.admin, name=NAME, version=version, target=_repo(oci, repo), insecure=True)


def _client(oci, text):
    return OciClient(reference=parse_reference(text=f"oci://{oci.host}/{text}", need_target=True), insecure=True)


def test_a_pushed_version_is_a_modelpack_artifact_skopeo_reads(crew, oci, tmp_path, template):
    pushed = _pushed(crew, oci, tmp_path, template, "models/roundtrip", version="1.0.0+build.7")
    assert pushed.reference.endswith(":1.0.0_build.7") and not pushed.referrers_api
    raw = skopeo_raw(f"docker://{oci.host}/models/roundtrip:1.0.0_build.7")
    assert raw["artifactType"] == modelpack.ARTIFACT_TYPE
    assert raw["config"]["mediaType"] == modelpack.CONFIG_MEDIA_TYPE
    paths = {layer["annotations"][modelpack.FILEPATH]: layer["mediaType"] for layer in raw["layers"]}
    assert paths["model/model.onnx"] == modelpack.WEIGHT and paths["bundle.yaml"] == modelpack.DOC
    assert paths["MODEL_CARD.md"] == modelpack.DOC and not any(p.startswith("signatures/") for p in paths)
    # The decision record hangs off the manifest through the fallback tag's index.
    index = skopeo_raw(f"docker://{oci.host}/models/roundtrip:{fallback_tag(pushed.digest)}")
    assert [m["artifactType"] for m in index["manifests"]] == [modelpack.DECISIONS_TYPE]
    referrer = skopeo_raw(f"docker://{oci.host}/models/roundtrip@{index['manifests'][0]['digest']}")
    assert referrer["subject"]["digest"] == pushed.digest
    assert [e.action for e in crew.admin.audit_log(action="store.pushed")] == ["store.pushed"]


def test_a_pull_verifies_and_writes_the_same_bytes(crew, oci, tmp_path, template):
    pushed = _pushed(crew, oci, tmp_path, template, "models/pull")
    dest = tmp_path / "pulled"
    pulled = pull_bundle(client=_client(oci, "models/pull:1.0.0"), dest=dest)
    stored = crew.admin.bundle_path(name=NAME, version="1.0.0")
    files = sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file())
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == files
    assert all((dest / f).read_bytes() == (stored / f).read_bytes() for f in files)
    assert pulled.digest == pushed.digest and pulled.decisions[0]["subject"] == f"{NAME}@1.0.0"
    # The pulled folder is a bundle the registry takes as the same bytes.
    assert crew("alice").import_bundle(path=dest).digest == crew.admin.show(name=NAME, version="1.0.0").info.digest


def test_the_cli_pushes_and_pulls(crew, oci, tmp_path, template):
    crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    cli = [sys.executable, "-m", "modelgate.core.cli.main"]
    env_args = ["--registry", crew.url, "--user", crew.admin_name]
    done = subprocess.run(cli + ["push", f"{NAME}@1.0.0", f"oci://{oci.host}/models/cli", "--insecure"] + env_args,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(cli + ["pull", f"oci://{oci.host}/models/cli:1.0.0", "--dir", str(tmp_path / "out"),
                                 "--insecure"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "bundle.yaml").is_file()
    # A pulled folder is imported only while its lock holds.
    (tmp_path / "out" / "LICENSE").write_text("changed after the pull")
    done = subprocess.run(cli + ["import", str(tmp_path / "out")] + env_args, capture_output=True, text=True)
    assert done.returncode == 1 and "LICENSE" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(cli + ["pull", f"oci://{oci.host}/models/cli:1.0.0", "--dir", str(tmp_path / "again"),
                                 "--insecure"], capture_output=True, text=True)
    done = subprocess.run(cli + ["import", str(tmp_path / "again")] + env_args, capture_output=True, text=True)
    assert done.returncode == 0 and "every file matches" in done.stdout, done.stderr
    done = subprocess.run(cli + ["pull", f"oci://{oci.host}/models/cli:9.9.9", "--dir", str(tmp_path / "none"),
                                 "--insecure"], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "9.9.9" in done.stderr
    assert not (tmp_path / "none").exists()


def test_a_version_whose_gates_do_not_hold_is_not_pushed(crew, oci, tmp_path, template):
    crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    stored = crew.admin.bundle_path(name=NAME, version="1.0.0")
    target = stored / "LICENSE"
    target.chmod(0o644)
    target.write_text("changed after import")
    with pytest.raises(WorkflowRefused, match="stored copy"):
        push_version(crew.admin, name=NAME, version="1.0.0", target=_repo(oci, "models/refused"), insecure=True)
    status, _, _ = oci.get("/v2/models/refused/manifests/1.0.0", accept=modelpack.MANIFEST_MEDIA_TYPE)
    assert status == 404


def test_only_signers_and_admins_push(crew, oci, tmp_path, template):
    from modelgate.core.registry import PermissionDenied

    crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    with pytest.raises(PermissionDenied):
        push_version(crew("alice"), name=NAME, version="1.0.0", target=_repo(oci, "models/denied"), insecure=True)


def test_a_damaged_blob_is_refused_and_nothing_is_written(crew, own_oci, tmp_path, template):
    pushed = _pushed(crew, own_oci, tmp_path, template, "models/damaged")
    manifest = json.loads(own_oci.get(f"/v2/models/damaged/manifests/{pushed.digest}",
                                      accept=modelpack.MANIFEST_MEDIA_TYPE)[1])
    weight = next(layer for layer in manifest["layers"] if layer["mediaType"] == modelpack.WEIGHT)
    blob = own_oci.blob_path(weight["digest"])
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    dest = tmp_path / "dest"
    with pytest.raises(ArtifactRefused, match="does not hash"):
        pull_bundle(client=_client(own_oci, "models/damaged:1.0.0"), dest=dest)
    assert not dest.exists() and not list(tmp_path.glob(".pull-*"))
    dest.mkdir()
    with pytest.raises(ArtifactRefused):
        pull_bundle(client=_client(own_oci, "models/damaged:1.0.0"), dest=dest)
    assert list(dest.iterdir()) == []


def test_a_missing_blob_is_refused(crew, own_oci, tmp_path, template):
    pushed = _pushed(crew, own_oci, tmp_path, template, "models/missing")
    manifest = json.loads(own_oci.get(f"/v2/models/missing/manifests/{pushed.digest}",
                                      accept=modelpack.MANIFEST_MEDIA_TYPE)[1])
    card = next(layer for layer in manifest["layers"] if layer["annotations"][modelpack.FILEPATH] == "MODEL_CARD.md")
    own_oci.blob_path(card["digest"]).unlink()
    with pytest.raises((ArtifactRefused, RegistryUnreachable)):
        pull_bundle(client=_client(own_oci, "models/missing:1.0.0"), dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_wrong_tag_is_refused(oci, tmp_path):
    with pytest.raises(ArtifactRefused, match="has no 0.0.1"):
        pull_bundle(client=_client(oci, "models/nothing-here:0.0.1"), dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_an_unreachable_registry_fails_fast_and_records_nothing(crew, tmp_path, template):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    target = parse_reference(text=f"oci://127.0.0.1:{port}/models/x", need_target=False)
    with pytest.raises(RegistryUnreachable, match="did not answer") as refused:
        push_version(crew.admin, name=NAME, version="1.0.0", target=target, insecure=True)
    assert "Error" not in str(refused.value)      # said in words, not as the library's exception class
    assert crew.admin.audit_log(action="store.pushed") == []


def test_a_registry_that_requires_a_login_reads_docker_auth_files(crew, tmp_path, template, monkeypatch):
    server = DistributionRegistry(user="ci", password="s3cret-pass")
    try:
        crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
        target = parse_reference(text=f"oci://{server.host}/models/auth", need_target=False)
        monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "missing.json"))
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        with pytest.raises(StoreError, match="refused access"):
            push_version(crew.admin, name=NAME, version="1.0.0", target=target, insecure=True)
        monkeypatch.setenv("REGISTRY_AUTH_FILE", str(server.auth_file(tmp_path)))
        pushed = push_version(crew.admin, name=NAME, version="1.0.0", target=target, insecure=True)
        pulled = pull_bundle(client=OciClient(reference=target.with_tag("1.0.0"), insecure=True),
                             dest=tmp_path / "dest")
        assert pulled.digest == pushed.digest
    finally:
        server.stop()


def test_insecure_is_only_for_loopback():
    with pytest.raises(StoreError, match="loopback"):
        OciClient(reference=parse_reference(text="oci://registry.example.com/m:1", need_target=True), insecure=True)


@pytest.mark.slow
def test_a_client_starts_without_jsonschema():
    """The push and pull processes start in a fraction of a second: the client takes oras-py's
    auth backend, not its provider, which imports jsonschema with its format checkers."""
    code = ("import sys\n"
            "from modelgate.core.store.client import OciClient\n"
            "from modelgate.core.store.oci import pull_bundle, push_bundle\n"
            "from modelgate.core.store.reference import parse_reference\n"
            "OciClient(reference=parse_reference(text='oci://127.0.0.1:5000/team/model', need_target=False),"
            " insecure=True)\n"
            "print(sorted(m for m in ('jsonschema', 'oras.provider') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_registry_that_goes_away_mid_push_leaves_no_record(crew, tmp_path, template):
    from modelgate.core.progress import Progress
    from modelgate.core.registry.publish import release
    from modelgate.core.store.oci import push_bundle

    server = DistributionRegistry()
    crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    target = parse_reference(text=f"oci://{server.host}/models/midway", need_target=False)

    def vanish(label, done, total):
        if label.startswith("pushing") and done and server.process.poll() is None:
            server.stop()

    try:
        with pytest.raises(RegistryUnreachable):
            push_version(crew.admin, name=NAME, version="1.0.0", target=target, insecure=True,
                         progress=Progress(callback=vanish))
    finally:
        if server.process.poll() is None:
            server.stop()
    assert server.process.poll() is not None  # it really went away during the upload
    assert crew.admin.audit_log(action="store.pushed") == []
    # Cancelling from the progress bar stops the upload the same way, with nothing recorded.
    other = DistributionRegistry()
    try:
        progress = Progress(callback=lambda label, done, total: progress.cancel() if done else None)
        chosen = release(crew.admin, name=NAME, version="1.0.0", action="push a version")
        from modelgate.core.errors import OperationCancelled

        with pytest.raises(OperationCancelled):
            push_bundle(client=OciClient(reference=parse_reference(text=f"oci://{other.host}/m/c", need_target=False),
                                         insecure=True), folder=chosen.folder, files=chosen.files,
                        manifest=chosen.manifest, bundle_digest=chosen.digest, tag="1.0.0", progress=progress)
        assert other.get("/v2/m/c/manifests/1.0.0", accept=modelpack.MANIFEST_MEDIA_TYPE)[0] == 404
    finally:
        other.stop()


def test_a_push_is_recorded_on_each_back_end(team, oci, tmp_path, template):
    """On PostgreSQL the event goes through the guarded functions (migration 0009 allows it)."""
    team("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    repo = f"models/backend-{team.url.split(':', 1)[0].split('+')[0]}"
    pushed = push_version(team.admin, name=NAME, version="1.0.0", target=_repo(oci, repo), insecure=True)
    (event,) = team.admin.audit_log(action="store.pushed")
    assert event.payload["manifest_digest"] == pushed.digest and event.payload["reference"] == pushed.reference
    assert team.admin.verify_audit().ok


@pytest.mark.slow
def test_signed_decisions_travel_as_referrers_and_come_back_into_signatures(crew, oci, tmp_path, template):
    from modelgate.core.evidence.attestation_verify import read_lines, verify_decisions
    from modelgate.core.policy.document import load_policy
    from modelgate.core.registry import workflow
    from modelgate.core.registry.attestations import sign_attestations
    from modelgate.core.registry.signatures import trust_key
    from modelgate.core.signing.attestations import BUNDLE_FILE
    from modelgate.core.signing.dsse import KeySigner
    from modelgate.core.signing.keys import load_private_key
    from modelgate.core.signing.payload import hash_while_importing
    from modelgate.core.signing.trust import load_trust_store
    from modelgate.core.bundle.reader import open_bundle
    from tests.factory import PASSPHRASE, signing_key

    crew.admin.add_user(name="sam", roles=["signer"])
    key = signing_key(tmp_path / "keys", "sam")
    trust_key(crew.admin, name="sam", public_key=key.with_suffix(".pub"))
    crew("alice").import_bundle(path=new_bundle(tmp_path / "b", template))
    workflow.review(crew("bob"), name=NAME, version="1.0.0", decision="approve", comment="fine")
    workflow.promote(crew("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=load_policy())
    signer = KeySigner(load_private_key(key, passphrase=PASSPHRASE))
    assert len(sign_attestations(crew("sam"), name=NAME, version="1.0.0", signer=signer)) == 2
    target = _repo(oci, "models/attested")
    pushed = push_version(crew.admin, name=NAME, version="1.0.0", target=target, insecure=True)
    push_version(crew.admin, name=NAME, version="1.0.0", target=target, insecure=True)  # again: nothing doubles
    index = skopeo_raw(f"docker://{oci.host}/models/attested:{fallback_tag(pushed.digest)}")
    kinds = sorted(m["artifactType"] for m in index["manifests"])
    assert kinds == sorted([modelpack.DECISIONS_TYPE] + [modelpack.ATTESTATION_TYPE] * 2)
    assert BUNDLE_FILE == f"signatures/{modelpack.ATTESTATIONS_FILE}"
    dest = tmp_path / "pulled"
    pulled = pull_bundle(client=_client(oci, "models/attested:1.0.0"), dest=dest)
    assert pulled.attestations == 2
    with open_bundle(dest) as bundle:
        files = hash_while_importing(bundle, progress=None)
    verdict = verify_decisions(files=files, envelopes=read_lines((dest / BUNDLE_FILE).read_bytes()),
                               trust=load_trust_store([key.with_suffix(".pub")]), stage="candidate")
    assert verdict.ok and verdict.stage == "candidate", verdict.problems
