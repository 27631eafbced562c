"""A loopback-only web server for Netron's viewer and one model folder (Qt-free).

Netron's own ``netron.start()`` serves its page unchanged from its package folder; this
server serves the same files with the page of :mod:`.netron_page` in its place. It binds
127.0.0.1 on a free port, answers only GET and HEAD, serves the viewer's files and,
under ``/data/``, the files of the model's folder (external data included) and nothing
outside them, and sends every response with a Content-Security-Policy that lets the page
load and fetch from its own origin only: even in a system browser it cannot reach
ipinfo.io, Google Analytics or anything else.
"""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from pathlib import Path

from modelgate.gui.graph.netron_page import NetronViewer

HOST = "127.0.0.1"
MIME_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
              ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json",
              ".svg": "image/svg+xml", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf"}
CONTENT_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                  "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
                  "worker-src 'self' blob:; frame-src 'none'; form-action 'none'; base-uri 'none'")


def _inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``root``, or ``None`` when it is not a file inside it."""
    candidate = (root / relative.lstrip("/")).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) and candidate.is_file() else None


def viewer_page(viewer: NetronViewer, model_name: str) -> str:
    """The viewer's index.html, told which file to open (as ``netron.start`` tells it)."""
    quoted = urllib.parse.quote(model_name)
    name = model_name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    meta = (f'<meta name="type" content="Python">\n<meta name="version" content="{viewer.version}">\n'
            f'<meta name="file" content="/data/{quoted}">\n<meta name="name" content="{name}">\n'
            f'<meta name="identifier" content="{name}">')
    return viewer.index_html.replace(f'<meta name="version" content="{viewer.version}">', meta, 1)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: NetronServer._Server

    def do_HEAD(self) -> None:  # noqa: N802 (the http.server protocol)
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        owner = self.server.owner
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        content, kind = None, None
        if path in ("/", "/index.html"):
            content, kind = viewer_page(owner.viewer, owner.model.name).encode("utf-8"), MIME_TYPES[".html"]
        elif path == "/browser.js":
            content, kind = owner.viewer.browser_js.encode("utf-8"), MIME_TYPES[".js"]
        elif path.startswith("/data/"):
            found = _inside(owner.model.parent, path[len("/data/"):])
            if found is not None:
                content, kind = found.read_bytes(), "application/octet-stream"
        else:
            found = _inside(owner.viewer.folder, path)
            if found is not None and found.suffix in MIME_TYPES:
                content, kind = found.read_bytes(), MIME_TYPES[found.suffix]
        owner.served.append(path)
        self.send_response(200 if content is not None else 404)
        self.send_header("Content-Security-Policy", CONTENT_POLICY)
        self.send_header("Cache-Control", "no-store")
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
        self._server: NetronServer._Server | None = None

    def start(self) -> str:
        """Start serving on a free port; return the viewer's address."""
        self._server = self._Server((HOST, 0), _Handler)
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, name="modelgate-netron", daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/" if self._server else ""

    @property
    def port(self) -> int | None:
        return self._server.server_address[1] if self._server else None

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
