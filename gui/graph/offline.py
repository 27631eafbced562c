"""Keeping the embedded viewer on this machine: every request it makes is checked, and
anything but its own loopback server (and in-page data) is blocked before it leaves."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor

#: In-page schemes that never reach the network.
LOCAL_SCHEMES = ("data", "blob", "about", "qrc")


def is_allowed(url: QUrl, *, port: int | None) -> bool:
    """Whether ``url`` stays on this machine: the viewer's own server, or in-page data."""
    if url.scheme() in LOCAL_SCHEMES:
        return True
    return url.scheme() == "http" and url.host() == "127.0.0.1" and (port is None or url.port() == port)


class LoopbackOnlyInterceptor(QWebEngineUrlRequestInterceptor):
    """Blocks every request not for 127.0.0.1:``port``; keeps what it saw for the curious (and tests)."""

    def __init__(self, *, port: int | None, parent=None) -> None:
        super().__init__(parent)
        self.port = port
        self.allowed: list[str] = []
        self.blocked: list[str] = []

    def interceptRequest(self, info) -> None:  # runs on WebEngine's IO thread
        url = info.requestUrl()
        if is_allowed(url, port=self.port):
            self.allowed.append(url.toString())
        else:
            self.blocked.append(url.toString())
            info.block(True)
