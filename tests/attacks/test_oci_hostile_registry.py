"""A registry that lies: wrong bytes, oversized documents, redirects elsewhere, HTML, silence.

Each case runs a small HTTP server on loopback that answers the distribution protocol's
paths with what an attacker (or a broken proxy) would send, and checks that the pull is
refused with our error class, that nothing is written to the target folder and that no
credential leaves for another host.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from modelgate.core.store import modelpack
from modelgate.core.store.client import OciClient
from modelgate.core.store.errors import ArtifactRefused, RegistryUnreachable
from modelgate.core.store.oci import pull_bundle
from modelgate.core.store.reference import parse_reference

BUNDLE_YAML = b"bundle_format: modelgate.bundle/v1\nname: x\nversion: 1.0.0\n"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Fake:
    """A loopback HTTP server; ``routes[path] = (status, headers, body)`` or a callable."""

    def __init__(self) -> None:
        self.routes: dict = {}
        self.seen: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.seen.append((self.path, dict(self.headers)))
                route = fake.routes.get(self.path.split("?")[0])
                if callable(route):
                    route = route(self)
                    if route is None:
                        return
                status, headers, body = route or (404, {}, b'{"errors":[]}')
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the client stopped reading: that is the defence at work
                    pass

            do_HEAD = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def artifact(self, *, blob: bytes, served: bytes | None = None, layers=None) -> None:
        """A manifest at /v2/m/manifests/1 whose bundle.yaml layer is ``blob``, served as ``served``."""
        layers = layers or [{"mediaType": modelpack.DOC, "digest": _digest(blob), "size": len(blob),
                             "annotations": {modelpack.FILEPATH: "bundle.yaml"}}]
        config = modelpack.canonical_json({"descriptor": {"name": "x", "version": "1.0.0"}, "config": {},
                                           "modelfs": {"type": "layers", "diffIds": [l["digest"] for l in layers]}})
        manifest = modelpack.canonical_json({
            "schemaVersion": 2, "mediaType": modelpack.MANIFEST_MEDIA_TYPE, "artifactType": modelpack.ARTIFACT_TYPE,
            "config": {"mediaType": modelpack.CONFIG_MEDIA_TYPE, "digest": _digest(config), "size": len(config)},
            "layers": layers})
        self.routes["/v2/m/manifests/1"] = (200, {"Content-Type": modelpack.MANIFEST_MEDIA_TYPE}, manifest)
        self.routes[f"/v2/m/blobs/{_digest(config)}"] = (200, {}, config)
        self.routes[f"/v2/m/blobs/{_digest(blob)}"] = (200, {}, served if served is not None else blob)

    def client(self) -> OciClient:
        return OciClient(reference=parse_reference(text=f"oci://{self.host}/m:1", need_target=True), insecure=True)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = Fake()
    yield server
    server.stop()


@pytest.fixture
def elsewhere():
    server = Fake()
    yield server
    server.stop()


def _refused(fake, tmp_path, error=ArtifactRefused, match=None):
    dest = tmp_path / "dest"
    with pytest.raises(error, match=match):
        pull_bundle(client=fake.client(), dest=dest)
    assert not dest.exists() and not list(tmp_path.glob(".pull-*"))


def test_an_honest_answer_is_pulled(fake, tmp_path):
    fake.artifact(blob=BUNDLE_YAML)
    pulled = pull_bundle(client=fake.client(), dest=tmp_path / "dest")
    assert (tmp_path / "dest" / "bundle.yaml").read_bytes() == BUNDLE_YAML and pulled.files == 1


def test_a_blob_with_other_bytes_of_the_same_size_is_refused(fake, tmp_path):
    fake.artifact(blob=BUNDLE_YAML, served=BUNDLE_YAML.replace(b"x", b"y"))
    _refused(fake, tmp_path, match="does not hash")


def test_a_blob_longer_than_declared_is_refused_without_reading_on(fake, tmp_path):
    fake.artifact(blob=BUNDLE_YAML, served=BUNDLE_YAML + b"#" * (8 * 1024 * 1024))
    _refused(fake, tmp_path, match="larger than")


def test_a_blob_shorter_than_declared_is_refused(fake, tmp_path):
    fake.artifact(blob=BUNDLE_YAML, served=BUNDLE_YAML[:5])
    _refused(fake, tmp_path, match="not the")


def test_a_manifest_asked_for_by_digest_must_hash_to_it(fake, tmp_path):
    fake.artifact(blob=BUNDLE_YAML)
    wrong = "sha256:" + "0" * 64
    fake.routes[f"/v2/m/manifests/{wrong}"] = fake.routes["/v2/m/manifests/1"]
    client = OciClient(reference=parse_reference(text=f"oci://{fake.host}/m@{wrong}", need_target=True),
                       insecure=True)
    with pytest.raises(ArtifactRefused, match="hashes to"):
        pull_bundle(client=client, dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_huge_manifest_is_refused_by_its_length(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_JSON_BYTES", "4096")
    fake.routes["/v2/m/manifests/1"] = (200, {"Content-Type": modelpack.MANIFEST_MEDIA_TYPE},
                                        b"{" + b" " * 100_000 + b"}")
    _refused(fake, tmp_path, match="more than")


def test_a_huge_manifest_without_a_length_is_cut_off(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_JSON_BYTES", "4096")

    def endless(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", modelpack.MANIFEST_MEDIA_TYPE)
        handler.end_headers()  # no length: read until closed
        try:
            for _ in range(1000):
                handler.wfile.write(b" " * 65536)
        except OSError:
            pass
        handler.close_connection = True
        return None

    fake.routes["/v2/m/manifests/1"] = endless
    _refused(fake, tmp_path, match="more than")


def test_a_manifest_redirected_to_another_host_is_refused(fake, elsewhere, tmp_path):
    elsewhere.artifact(blob=BUNDLE_YAML)
    fake.routes["/v2/m/manifests/1"] = (307, {"Location": f"http://{elsewhere.host}/v2/m/manifests/1"}, b"")
    _refused(fake, tmp_path, RegistryUnreachable, match="redirected")


def test_a_blob_redirected_elsewhere_is_still_checked_and_gets_no_credentials(fake, elsewhere, tmp_path,
                                                                               monkeypatch):
    token = base64.b64encode(b"ci:secret").decode()
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auths": {fake.host: {"auth": token}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    fake.artifact(blob=BUNDLE_YAML)
    digest = _digest(BUNDLE_YAML)
    plain = fake.routes.copy()

    def guarded(path):
        def answer(handler):
            if handler.headers.get("Authorization") != f"Basic {token}":
                return 401, {"Www-Authenticate": 'Basic realm="test"'}, b""
            return plain[path]
        return answer

    for path in plain:
        fake.routes[path] = guarded(path)
    fake.routes[f"/v2/m/blobs/{digest}"] = lambda handler: (
        (307, {"Location": f"http://{elsewhere.host}/storage/blob"}, b"")
        if handler.headers.get("Authorization") else (401, {"Www-Authenticate": 'Basic realm="test"'}, b""))
    elsewhere.routes["/storage/blob"] = (200, {}, BUNDLE_YAML.replace(b"x", b"z"))
    _refused(fake, tmp_path, match="does not hash")
    assert elsewhere.seen and all("Authorization" not in headers for _, headers in elsewhere.seen)
    elsewhere.routes["/storage/blob"] = (200, {}, BUNDLE_YAML)
    pull_bundle(client=fake.client(), dest=tmp_path / "ok")  # storage redirects are how registries serve blobs
    assert (tmp_path / "ok" / "bundle.yaml").read_bytes() == BUNDLE_YAML


def test_an_html_page_is_not_a_registry(fake, tmp_path):
    fake.routes["/v2/m/manifests/1"] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                        b"<html><body>Sign in</body></html>")
    _refused(fake, tmp_path, RegistryUnreachable, match="HTML")


def test_a_registry_that_stops_answering_times_out(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELGATE_OCI_TIMEOUT_S", "0.5")

    def silent(handler):
        time.sleep(3)
        return 200, {}, b"{}"

    fake.routes["/v2/m/manifests/1"] = silent
    started = time.monotonic()
    _refused(fake, tmp_path, RegistryUnreachable, match="did not answer")
    assert time.monotonic() - started < 3


def test_a_layer_path_that_climbs_out_writes_nothing_outside(fake, tmp_path):
    evil = b"owned"
    fake.artifact(blob=BUNDLE_YAML, layers=[
        {"mediaType": modelpack.DOC, "digest": _digest(BUNDLE_YAML), "size": len(BUNDLE_YAML),
         "annotations": {modelpack.FILEPATH: "bundle.yaml"}},
        {"mediaType": modelpack.DOC, "digest": _digest(evil), "size": len(evil),
         "annotations": {modelpack.FILEPATH: "../escaped"}}])
    fake.routes[f"/v2/m/blobs/{_digest(evil)}"] = (200, {}, evil)
    _refused(fake, tmp_path, match="leaves the bundle")
    assert not (tmp_path / "escaped").exists()


def test_referrers_come_from_the_api_when_the_registry_has_it_and_must_name_our_subject(fake, tmp_path):
    """A registry with the referrers API: signatures are fetched through it; one whose
    manifest names another subject is refused."""
    fake.artifact(blob=BUNDLE_YAML)
    manifest_digest = _digest(fake.routes["/v2/m/manifests/1"][2])
    signature = b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}'
    layer = {"mediaType": modelpack.SIGNATURE_TYPE, "digest": _digest(signature), "size": len(signature),
             "annotations": {"org.opencontainers.image.title": "release.sig"}}

    def referrer(subject: str) -> bytes:
        return modelpack.canonical_json({
            "schemaVersion": 2, "mediaType": modelpack.MANIFEST_MEDIA_TYPE, "artifactType": modelpack.SIGNATURE_TYPE,
            "config": modelpack.EMPTY_CONFIG, "layers": [layer],
            "subject": {"mediaType": modelpack.MANIFEST_MEDIA_TYPE, "digest": subject, "size": 1}})

    def serve(document: bytes) -> None:
        descriptor = {"mediaType": modelpack.MANIFEST_MEDIA_TYPE, "digest": _digest(document),
                      "size": len(document), "artifactType": modelpack.SIGNATURE_TYPE}
        index = modelpack.canonical_json({"schemaVersion": 2, "mediaType": modelpack.INDEX_MEDIA_TYPE,
                                          "manifests": [descriptor]})
        fake.routes[f"/v2/m/referrers/{manifest_digest}"] = (
            200, {"Content-Type": modelpack.INDEX_MEDIA_TYPE}, index)
        fake.routes[f"/v2/m/manifests/{_digest(document)}"] = (
            200, {"Content-Type": modelpack.MANIFEST_MEDIA_TYPE}, document)

    fake.routes[f"/v2/m/blobs/{_digest(signature)}"] = (200, {}, signature)
    serve(referrer(manifest_digest))
    pulled = pull_bundle(client=fake.client(), dest=tmp_path / "ok")
    assert pulled.signatures == ("release.sig",)
    assert (tmp_path / "ok" / "signatures" / "release.sig").read_bytes() == signature
    serve(referrer("sha256:" + "1" * 64))
    _refused(fake, tmp_path, match="another subject")


def _bad_artifacts():
    """Each kind of bad artifact: (name, how to serve it, exit code, words of the refusal)."""
    other = b"other bytes"

    def layer(path, blob=BUNDLE_YAML, **extra):
        annotations = {modelpack.FILEPATH: path} if path is not None else {}
        return {"mediaType": modelpack.DOC, "digest": _digest(blob), "size": len(blob), "annotations": annotations,
                **extra}

    def serve(fake, *, layers, artifact_type=modelpack.ARTIFACT_TYPE, version="1.0.0", blobs=()):
        config = modelpack.canonical_json({"descriptor": {"name": "x", "version": version}, "config": {},
                                           "modelfs": {"type": "layers", "diffIds": [x["digest"] for x in layers]}})
        manifest = modelpack.canonical_json({
            "schemaVersion": 2, "mediaType": modelpack.MANIFEST_MEDIA_TYPE, "artifactType": artifact_type,
            "config": {"mediaType": modelpack.CONFIG_MEDIA_TYPE, "digest": _digest(config), "size": len(config)},
            "layers": layers})
        fake.routes["/v2/m/manifests/1"] = (200, {"Content-Type": modelpack.MANIFEST_MEDIA_TYPE}, manifest)
        fake.routes[f"/v2/m/blobs/{_digest(config)}"] = (200, {}, config)
        for blob in (BUNDLE_YAML, other, *blobs):
            fake.routes[f"/v2/m/blobs/{_digest(blob)}"] = (200, {}, blob)

    def slow(handler):
        time.sleep(3)
        return 200, {}, b"{}"

    return [
        ("wrong artifactType", lambda f: serve(f, layers=[layer("bundle.yaml")],
                                              artifact_type="application/vnd.oci.image.config.v1+json"), 1, "artifact type"),
        ("no path annotation", lambda f: serve(f, layers=[layer("bundle.yaml"), layer(None, other)]), 1, "filepath"),
        ("dot-dot path", lambda f: serve(f, layers=[layer("bundle.yaml"), layer("model/../../x", other)]), 1, "leaves the bundle"),
        ("absolute path", lambda f: serve(f, layers=[layer("bundle.yaml"), layer("/tmp/x", other)]), 1, "unusable file path"),
        ("duplicate path", lambda f: serve(f, layers=[layer("bundle.yaml"), layer("LICENSE", other),
                                                      layer("LICENSE", other)]), 1, "repeats"),
        ("config disagrees", lambda f: serve(f, layers=[layer("bundle.yaml")], version="9.9.9"), 1, "disagrees with bundle.yaml"),
        ("blob larger than declared", lambda f: f.artifact(blob=BUNDLE_YAML, served=BUNDLE_YAML + b"#" * 4096), 1, "larger than"),
        ("HTML answer", lambda f: f.routes.__setitem__("/v2/m/manifests/1", (
            200, {"Content-Type": "text/html"}, b"<html><body>Sign in</body></html>")), 1, "HTML"),
        ("slow answer", lambda f: f.routes.__setitem__("/v2/m/manifests/1", slow), 1, "did not answer"),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("case, serve, code, words", _bad_artifacts(), ids=[case[0] for case in _bad_artifacts()])
def test_the_cli_refuses_each_bad_artifact_records_nothing_and_writes_nothing(case, serve, code, words, fake,
                                                                             tmp_path, monkeypatch, capsys):
    from modelgate.core.cli.main import main
    from modelgate.core.registry import init_registry, open_registry

    monkeypatch.setenv("MODELGATE_OCI_TIMEOUT_S", "0.5")
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where a pull's scratch would stay
    (tmp_path / "tmp").mkdir()
    url = f"sqlite:///{tmp_path}/registry.db"
    init_registry(url=url, user="root").close()
    serve(fake)
    imported = main(["import", f"oci://{fake.host}/m:1", "--insecure", "--registry", url, "--user", "root"])
    pulled = main(["pull", f"oci://{fake.host}/m:1", "--insecure", "--dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert (imported, pulled) == (code, code), err
    assert "Traceback" not in err and err.count("modelgate: ") == 2 and err.count(words) == 2, err
    with open_registry(url=url, user="root") as registry:
        assert registry.list_versions() == []
        assert not registry.audit_log(action="version.imported")
    assert not (tmp_path / "out").exists() and list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "x").exists()
