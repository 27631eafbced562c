"""The loopback viewer server answers only its own page: a loopback Host header and its token.

Any web page the user visits can make the browser send requests to 127.0.0.1, and a DNS
name rebound to 127.0.0.1 makes them same-origin for that page; neither knows the token,
and a rebound name does not pass the Host check.
"""

from __future__ import annotations

import http.client

import pytest

from modelgate.gui.graph.netron_page import NetronViewer
from modelgate.gui.graph.netron_server import COOKIE, NetronServer


@pytest.fixture
def server(tmp_path):
    viewer_folder = tmp_path / "viewer"
    viewer_folder.mkdir()
    (viewer_folder / "view.js").write_text("// viewer script")
    model = tmp_path / "model" / "secret.onnx"
    model.parent.mkdir()
    model.write_bytes(b"model bytes")
    viewer = NetronViewer(folder=viewer_folder, version="9.9.9", built=None,
                          index_html='<html><meta name="version" content="9.9.9"></html>',
                          browser_js="// browser", patched=True)
    running = NetronServer(viewer=viewer, model=model)
    running.start()
    yield running
    running.stop()


def get(server, path: str, *, host: str | None = None, cookie: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Host": host if host is not None else f"127.0.0.1:{server.port}"}
    if cookie is not None:
        headers["Cookie"] = cookie
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, response.getheader("Set-Cookie") or ""


def test_the_page_and_the_model_are_served_with_the_token(server):
    prefix = f"/{server.token}"
    assert server.url.endswith(prefix + "/")
    status, body, cookie = get(server, prefix + "/")
    assert status == 200 and b'content="/data/secret.onnx"' in body
    assert cookie.startswith(f"{COOKIE}={server.token};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert get(server, prefix + "/data/secret.onnx")[:2] == (200, b"model bytes")
    assert get(server, "/view.js", host=f"localhost:{server.port}", cookie=f"{COOKIE}={server.token}")[0] == 200


@pytest.mark.parametrize("path", ["/", "/data/secret.onnx", "/view.js", "/index.html"])
def test_requests_without_the_token_are_forbidden(server, path):
    assert get(server, path)[0] == 403
    assert get(server, path, cookie=f"{COOKIE}=wrong")[0] == 403
    assert get(server, f"/{server.token[:-1]}{path}")[0] == 403
    assert "/data/secret.onnx" not in server.served


@pytest.mark.parametrize("host", ["attacker.example:{port}", "127.0.0.1", "127.0.0.1:1",
                                  "localhost.attacker.example:{port}", "", "[::1]:{port}"])
def test_a_foreign_host_header_is_forbidden_even_with_the_token(server, host):
    status, body, _ = get(server, f"/{server.token}/data/secret.onnx", host=host.format(port=server.port))
    assert status == 403 and body != b"model bytes"
    assert server.refused >= 1
