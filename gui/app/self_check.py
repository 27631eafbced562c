"""``modelgate gui --self-check BUNDLE``: start the desktop app, use it once, and quit.

For a new installation (the desktop build on a reviewer's machine or a signing station) and
for the build's smoke test. It shows the main window, opens BUNDLE on its own as File › Open
bundle does, waits until the inspector has shown it and validated it, checks the graph viewer
(drawn in the embedded viewer, or, without QtWebEngine, served on 127.0.0.1 for the web
browser, whose every file is fetched once), then closes the window as File › Quit does. Each
step is printed with the time since the check began. The settings go to a throwaway file
unless ``--settings`` names one, so the user's own are left alone.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QMessageBox

#: Longest any one step may take before the check gives up on it.
STEP_TIMEOUT_S = 120.0
POLL_MS = 20


class SelfCheckFailed(Exception):
    """A step did not work; the message says which and why."""


def wait_until(condition, *, timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` holds (True) or ``timeout_s`` passes (False)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer(interval=POLL_MS)
    timer.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline else None)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    return bool(condition())


def _fetch(url: str) -> bytes:
    """GET ``url`` directly (never through a proxy): the viewer is served on this machine only."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return response.read()


def check_served_viewer(*, model: Path) -> str:
    """Serve ``model`` with Netron as the app does for a web browser, fetch the page, every file it
    names and the model; return what was served. Raises :class:`SelfCheckFailed`."""
    from modelgate.gui.graph.netron_page import locate_viewer
    from modelgate.gui.graph.netron_server import NetronServer

    viewer = locate_viewer()
    refusal = viewer.refusal()
    if refusal or not viewer.patched:
        raise SelfCheckFailed(refusal or f"Netron {viewer.version}'s page could not be kept offline")
    server = NetronServer(viewer=viewer, model=model)
    url = server.start()
    try:
        page = _fetch(url).decode("utf-8")
        names = sorted({ref for ref in re.findall(r'(?:src|href)="([^"#][^"]*)"', page)
                        if not urllib.parse.urlsplit(ref).scheme})   # files, not javascript: or https: links
        for name in [*names, "browser.js"]:
            if not _fetch(urllib.parse.urljoin(url, name)):
                raise SelfCheckFailed(f"the viewer's {name} is empty")
        if _fetch(urllib.parse.urljoin(url, "data/" + urllib.parse.quote(model.name))) != model.read_bytes():
            raise SelfCheckFailed(f"the server did not hand out {model.name} as it is on disk")
    except OSError as error:
        raise SelfCheckFailed(f"the viewer could not be fetched from {url}: {error}") from None
    finally:
        server.stop()
    return f"served for the web browser from {url}: the page, {len(names) + 1} file(s) it loads and the model"


class SelfCheck:
    """Drives a shown main window through the steps and reports each on ``out``."""

    def __init__(self, *, window, bundle: Path, out=None, step_timeout_s: float = STEP_TIMEOUT_S,
                 started: float | None = None) -> None:
        self.window = window
        self.bundle = Path(bundle)
        self.out = out or sys.stdout
        self.step_timeout_s = step_timeout_s
        #: ``time.perf_counter()`` when the check began (default: now); steps are timed from it.
        self.started = time.perf_counter() if started is None else started

    def say(self, text: str) -> None:
        print(f"self-check: {text} after {time.perf_counter() - self.started:.2f} s", file=self.out, flush=True)

    def _error_shown(self) -> str | None:
        for box in self.window.findChildren(QMessageBox):
            if box.objectName() == "error-dialog" and box.isVisible():
                return " ".join(f"{box.text()}: {box.informativeText()}".split())   # one line
        return None

    def _wait(self, condition, what: str) -> None:
        if not wait_until(lambda: condition() or self._error_shown(), timeout_s=self.step_timeout_s):
            raise SelfCheckFailed(f"{what} took longer than {self.step_timeout_s:g} s")
        error = self._error_shown()
        if error:
            raise SelfCheckFailed(f"{what}: {error}")

    def run(self) -> int:
        """Every step, then close the window; 0 when all worked, else 1 (the failure is printed)."""
        inspector = self.window.inspector
        try:
            self._wait(lambda: self.window.isVisible(), "showing the window")
            self.say("window shown")
            self.window.open_bundle(path=self.bundle)
            self._wait(lambda: inspector.subject is not None, f"opening {self.bundle}")
            self.say(f"{inspector.subject.label} shown")
            self._wait(lambda: inspector.report is not None, f"validating {inspector.subject.label}")
            self.say(f"validated ({inspector.report.verdict.split(':')[0]} for {inspector.report.stage})")
            self.say(f"graph {self._check_graph()}")
        except SelfCheckFailed as failure:
            print(f"self-check: FAILED: {failure}", file=self.out, flush=True)
            self.window.close()
            return 1
        self.window.close()
        if not wait_until(lambda: not self.window.isVisible(), timeout_s=self.step_timeout_s):
            print("self-check: FAILED: the window did not close", file=self.out, flush=True)
            return 1
        self.say("window closed")
        return 0

    def _check_graph(self) -> str:
        interface = self.window.inspector.interface
        artifact = interface.current_artifact
        if artifact is None:
            raise SelfCheckFailed("the bundle lists no ONNX artifact to draw")
        if not self.window.graphs.embedded:
            return check_served_viewer(model=self.window.inspector.subject.facts.bundle.resolve(artifact))
        interface.open_button.click()
        graphs = self.window.graphs.windows
        self._wait(lambda: graphs and (graphs[-1].nodes or graphs[-1].refusal), f"drawing the graph of {artifact}")
        if graphs[-1].refusal:
            raise SelfCheckFailed(f"the embedded viewer refused the graph: {graphs[-1].refusal}")
        return f"drawn in the embedded viewer ({graphs[-1].nodes} nodes)"


def run_self_check(*, bundle: Path, policy: Path | None = None, settings_file: Path | None = None) -> int:
    """Open the app, run :class:`SelfCheck` on ``bundle`` and return its exit code."""
    from modelgate.gui.app.application import open_window

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="modelgate-self-check-") as scratch:
        _app, window = open_window(policy=policy,
                                   settings_file=settings_file or Path(scratch) / "settings.ini")
        return SelfCheck(window=window, bundle=bundle, started=started).run()
