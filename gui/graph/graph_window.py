"""The window that shows an artifact's whole graph in Netron, embedded with QtWebEngine.

The page lives in a private, off-the-record browser profile (no cookies or cache on disk)
whose every request passes :class:`~.offline.LoopbackOnlyInterceptor`. A consent cookie is
preset, so even a page served unpatched skips its consent prompt. Once loaded, the window
looks at what the page shows and says so plainly if Netron refused to draw the graph.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QDateTime, Qt, QTimer, QUrl, Signal
from PySide6.QtNetwork import QNetworkCookie
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from modelgate.gui.app.theme import BAD, follow_theme
from modelgate.gui.graph.offline import LoopbackOnlyInterceptor

#: How often, and how many times, the window looks whether the graph was drawn.
CHECK_EVERY_MS, CHECKS = 250, 80
#: What the page shows: a drawn graph, a prompt (e.g. "Please update"), or still working.
STATE_SCRIPT = """(() => {
  const message = document.getElementById('message-text');
  const text = message && message.offsetParent !== null ? message.innerText : '';
  const nodes = document.querySelectorAll('#canvas .node').length;
  return JSON.stringify({nodes: nodes, message: text});
})()"""


class GraphWindow(QWidget):
    """A top-level window with Netron showing one model served by ``server``."""

    graph_drawn = Signal(int)        # nodes drawn
    viewer_refused = Signal(str)     # what the page said instead

    def __init__(self, *, server, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — graph (Netron, offline)")
        self.resize(1100, 800)
        self.server = server
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # No storage name: off the record. No parent: it must outlive its page (see closeEvent).
        self.profile = QWebEngineProfile()
        self.interceptor = LoopbackOnlyInterceptor(port=server.port, parent=self)
        self.profile.setUrlRequestInterceptor(self.interceptor)
        cookie = QNetworkCookie(b"consent", str(int(time.time() * 1000)).encode())
        cookie.setExpirationDate(QDateTime.currentDateTime().addDays(30))
        self.profile.cookieStore().setCookie(cookie, QUrl(server.url))
        self.page = QWebEnginePage(self.profile)
        self.view = QWebEngineView(self)
        self.view.setPage(self.page)
        self.status = QLabel(f"Served from {server.url} on this machine only; requests elsewhere are blocked.")
        self.status.setWordWrap(True)
        self.status.setObjectName("graph-status")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.nodes = 0
        self.refusal = ""
        self._checks = 0
        self._timer = QTimer(self, interval=CHECK_EVERY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.view.loadFinished.connect(self._on_view_load_finished)
        self.view.load(QUrl(server.url))

    def _on_view_load_finished(self, ok: bool) -> None:
        if not ok:
            self._refused("the viewer page did not load from its local server.")
            return
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        self._checks += 1
        self.page.runJavaScript(STATE_SCRIPT, 0, self._on_page_state)

    def _on_page_state(self, state) -> None:
        import json

        try:
            found = json.loads(state) if isinstance(state, str) else {}
        except ValueError:
            found = {}
        if found.get("nodes"):
            self._timer.stop()
            self.nodes = int(found["nodes"])
            self.status.setText(f"{self.nodes} nodes drawn. Served from {self.server.url} on this machine only; "
                                f"{len(self.interceptor.blocked)} request(s) elsewhere blocked.")
            self.graph_drawn.emit(self.nodes)
        elif found.get("message"):
            self._timer.stop()
            self._refused(f"Netron says: “{found['message']}”")
        elif self._checks >= CHECKS:
            self._timer.stop()
            self._refused("it drew nothing within 20 seconds.")

    def _refused(self, why: str) -> None:
        self.refusal = why
        self.status.setText(f"Netron refused to show this graph: {why} The Interface and graph tab lists the "
                            "model's inputs, outputs and operators without it.")
        follow_theme(self.status, lambda: self.status.setStyleSheet(f"color: {BAD}; font-weight: bold;"))
        self.viewer_refused.emit(why)

    def closeEvent(self, event) -> None:
        self._timer.stop()
        self.server.stop()
        # A page must be gone before its profile: deferred deletions run in the order asked.
        self.view.setPage(None)
        self.page.deleteLater()
        self.profile.deleteLater()
        super().closeEvent(event)
