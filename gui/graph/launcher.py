"""Opening an artifact's graph: embedded in the app when QtWebEngine is there, otherwise in the
system browser, offline both ways; and saying plainly when Netron cannot or will not run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QUrl
from PySide6.QtGui import QDesktopServices

from modelgate.core.formats import registry
from modelgate.gui.graph.netron_page import NetronUnavailable, locate_viewer
from modelgate.gui.graph.netron_server import NetronServer


def embedded_available() -> bool:
    """Whether QtWebEngine is installed, so Netron can be shown inside the app."""
    try:
        return importlib.util.find_spec("PySide6.QtWebEngineWidgets") is not None
    except (ImportError, ValueError):
        return False


def refusal_for(*, graph) -> str | None:
    """Why the inspector's artifact ``graph`` (an ``ArtifactGraph``) is not handed to Netron, in
    plain words; ``None`` when it may be shown.

    A pickle whose scan found an unsafe or unlisted import, or that could not be scanned in full,
    is refused. Netron would not run it on this machine (it draws in a sandboxed page with no
    access to files or processes), but its PyTorch reader replays the pickle's calls in its own
    emulation of Python to rebuild the objects, which is more than reading a header. The scan
    already lists every import, so refusing costs the reviewer nothing and keeps hostile bytes
    away from one more parser.
    """
    if graph.summary is not None:
        return None
    if graph.model is None:
        return graph.problem or f"{graph.path} cannot be read."
    fmt = registry.by_name(graph.model["format"])
    if fmt is not None and fmt.executes_code and graph.warnings:
        return (f"Refused: unsafe pickle. {graph.path} is not opened in Netron because its scan found: "
                + "; ".join(graph.warnings))
    return None


class GraphLauncher(QObject):
    """Starts Netron for a model; keeps the servers of graphs opened in a browser until shutdown."""

    def __init__(self, *, window, embedded: bool | None = None, locate=locate_viewer) -> None:
        super().__init__(window)
        self._window = window
        self.embedded = embedded_available() if embedded is None else embedded
        self._locate = locate
        self.windows: list = []
        self._browser_servers: list[NetronServer] = []
        self._browser_holds: list = []     # each server's hold on collecting garbage on the UI thread

    def open(self, *, model: Path, title: str, format_name: str = "onnx") -> str:
        """Show the model file ``model`` (in format ``format_name``) in Netron; return one sentence
        saying what happened.

        Raises :class:`NetronUnavailable` when Netron is missing, would refuse to run, or has no
        reader for the format.
        """
        viewer = self._locate()
        refusal = viewer.refusal()
        if refusal:
            raise NetronUnavailable(refusal, hint="The Interface and graph tab still lists the inputs, "
                                                  "outputs and operators.")
        if not viewer.reads(format_name):
            fmt = registry.by_name(format_name)
            raise NetronUnavailable(
                f"Netron {viewer.version} installed here cannot show {fmt.title if fmt else format_name} "
                "files: its viewer has no reader for that format.",
                hint="The Interface and graph tab still lists the file's tensors, metadata and interface.")
        if not self.embedded and not viewer.patched:
            raise NetronUnavailable(
                f"The embedded viewer (QtWebEngine) is not installed, and Netron {viewer.version}'s page "
                "could not be made to stay offline in a web browser, so it is not opened there.",
                hint="Install the desktop extras, which bring QtWebEngine: pip install 'modelgate[gui]'")
        server = NetronServer(viewer=viewer, model=model)
        url = server.start()
        from modelgate.gui.ops.background import collect_on_ui_thread

        let_go = collect_on_ui_thread()     # the server's threads run Python code beside the UI
        if self.embedded:
            from modelgate.gui.graph.graph_window import GraphWindow

            window = GraphWindow(server=server, title=title)
            window.destroyed.connect(lambda *_: self.windows.remove(window) if window in self.windows else None)
            window.destroyed.connect(lambda *_: let_go())
            self.windows.append(window)
            window.show()
            return f"The graph opened in its own window, served from {url} on this machine only."
        self._browser_servers.append(server)
        self._browser_holds.append(let_go)
        if not QDesktopServices.openUrl(QUrl(url)):
            raise NetronUnavailable(f"No web browser could be started to show the graph at {url}.",
                                    hint="Open that address in a browser on this machine yourself.")
        return (f"The graph opened in your web browser at {url}. The page may load only from this machine: "
                "its server forbids any other address.")

    def shutdown(self) -> None:
        """Close every graph window and stop every server."""
        for window in list(self.windows):
            window.close()
        # Delete the closed pages, then their profiles, now: at exit it would be too late.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        for server in self._browser_servers:
            server.stop()
        self._browser_servers.clear()
        for let_go in self._browser_holds:
            let_go()
        self._browser_holds.clear()
