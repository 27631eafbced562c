"""A loopback-only web server for Netron's viewer and one model folder (Qt-free).

Netron's own ``netron.start()`` serves its page unchanged from its package folder; this
server serves the same files with the page of :mod:`.netron_page` in its place. It binds
127.0.0.1 on a free port, answers only GET and HEAD, serves the viewer's files and,
under ``/data/``, the files of the model's folder (external data included) and nothing
outside them, and sends every response with a Content-Security-Policy that lets the page
load and fetch from its own origin only: even in a system browser it cannot reach
ipinfo.io, Google Analytics or anything else.

Binding to loopback does not keep other pages out: any web page the user opens can
make the browser send requests to 127.0.0.1, or rebind its own DNS name to it. So
every request must carry the ``Host`` ``127.0.0.1:PORT`` or ``localhost:PORT`` (a
rebound name fails that), and the per-server random token, as the first segment of
its path or in the cookie the server sets once the token was shown. Anything else
gets 403.
"""

from __future__ import annotations

import hmac
import http.cookies
import http.server
import secrets
import threading
import urllib.parse
from pathlib import Path

from modelgate.core import resources
from modelgate.gui.graph.netron_page import (GLYPH_FONT_FILE, GLYPH_FONT_RESOURCE, NetronViewer, glyph_font_face,
                                             with_glyph_font)

HOST = "127.0.0.1"
MIME_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
              ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json",
              ".svg": "image/svg+xml", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
              ".otf": "font/otf"}
CONTENT_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                  "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
                  "worker-src 'self' blob:; frame-src 'none'; form-action 'none'; base-uri 'none'")


def _inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``root``, or ``None`` when it is not a file inside it."""
    candidate = (root / relative.lstrip("/")).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) and candidate.is_file() else None


COOKIE = "modelgate-viewer"


def viewer_page(viewer: NetronViewer, model_name: str) -> str:
    """The viewer's index.html, told which file to open (as ``netron.start`` tells it; the page
    resolves the address against its own folder, so it stays under the token segment)."""
    quoted = "/data/" + urllib.parse.quote(model_name)
    name = model_name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    meta = (f'<meta name="type" content="Python">\n<meta name="version" content="{viewer.version}">\n'
            f'<meta name="file" content="{quoted}">\n<meta name="name" content="{name}">\n'
            f'<meta name="identifier" content="{name}">')
    page = viewer.index_html.replace(f'<meta name="version" content="{viewer.version}">', meta, 1)
    # The brackets of tensor types need a font most machines lack: the page gets the app's own.
    return with_glyph_font(page).replace("</head>", glyph_font_face() + "\n</head>", 1)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: NetronServer._Server

    def do_HEAD(self) -> None:  # noqa: N802 (the http.server protocol)
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _admitted(self, raw_path: str) -> tuple[str | None, bool]:
        """The path without its token segment, or ``None`` when the request is refused; and
        whether the token came in the path (then the cookie is set)."""
        owner = self.server.owner
        if self.headers.get("Host", "") not in owner.hosts:
            return None, False
        prefix = "/" + owner.token
        if raw_path == prefix or raw_path.startswith(prefix + "/"):
            return raw_path[len(prefix):] or "/", True
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return None, False
        sent = cookies[COOKIE].value if COOKIE in cookies else ""
        return (raw_path, False) if hmac.compare_digest(sent.encode(), owner.token.encode()) else (None, False)

    def _refuse(self, body: bool) -> None:
        self.send_response(403)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "9")
        self.end_headers()
        if body:
            self.wfile.write(b"forbidden")

    def _answer(self, *, body: bool) -> None:
        owner = self.server.owner
        raw, by_path = self._admitted(urllib.parse.urlsplit(self.path).path)
        if raw is None:
            owner.refused += 1
            self._refuse(body)
            return
        path = urllib.parse.unquote(raw)
        content, kind = None, None
        if path in ("/", "/index.html"):
            content = viewer_page(owner.viewer, owner.model.name).encode("utf-8")
            kind = MIME_TYPES[".html"]
        elif path == "/browser.js":
            content, kind = owner.viewer.browser_js.encode("utf-8"), MIME_TYPES[".js"]
        elif path == "/" + GLYPH_FONT_FILE:
            content, kind = resources.path(GLYPH_FONT_RESOURCE).read_bytes(), MIME_TYPES[".otf"]
        elif path.startswith("/data/"):
            found = _inside(owner.model.parent, path[len("/data/"):])
            if found is not None:
                content, kind = found.read_bytes(), "application/octet-stream"
        else:
            found = _inside(owner.viewer.folder, path)
            if found is not None and found.suffix == ".css":
                content, kind = with_glyph_font(found.read_text(encoding="utf-8")).encode("utf-8"), MIME_TYPES[".css"]
            elif found is not None and found.suffix in MIME_TYPES:
                content, kind = found.read_bytes(), MIME_TYPES[found.suffix]
        owner.served.append(path)
        self.send_response(200 if content is not None else 404)
        self.send_header("Content-Security-Policy", CONTENT_POLICY)
        self.send_header("Cache-Control", "no-store")
        if by_path:
            self.send_header("Set-Cookie", f"{COOKIE}={owner.token}; Path=/; HttpOnly; SameSite=Strict")
        self.send_header("Content-Type", kind or "text/plain")
        self.send_header("Content-Length", str(len(content) if content is not None else 9))
        self.end_headers()
        if body:
            self.wfile.write(content if content is not None else b"not found")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the http.server protocol)
        pass    # the page asks for dozens of files; nobody needs them on the terminal


class NetronServer:
    """Serves ``viewer`` and the folder of ``model`` on 127.0.0.1 until :meth:`stop`."""

    class _Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        owner: NetronServer

    def __init__(self, *, viewer: NetronViewer, model: Path) -> None:
        self.viewer = viewer
        self.model = Path(model)
        self.served: list[str] = []
        self.refused = 0
        #: Known only to this process and the page it opens: other local pages cannot guess it.
        self.token = secrets.token_urlsafe(24)
        self._server: NetronServer._Server | None = None

    def start(self) -> str:
        """Start serving on a free port; return the viewer's address."""
        self._server = self._Server((HOST, 0), _Handler)
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, name="modelgate-netron", daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/{self.token}/" if self._server else ""

    @property
    def hosts(self) -> set[str]:
        """The ``Host`` headers accepted: this port on the loopback address or on localhost."""
        port = self.port
        return {f"{HOST}:{port}", f"localhost:{port}"} if port else set()

    @property
    def port(self) -> int | None:
        return self._server.server_address[1] if self._server else None

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
