"""Netron, embedded and in a browser: loopback only, no request off the machine, and an
honest answer when the page would lock itself up after its 180 days."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox

from modelgate.gui.graph.launcher import GraphLauncher
from modelgate.gui.graph.netron_page import LOCK_AFTER, NetronUnavailable, locate_viewer, patch_view, read_viewer
from modelgate.gui.graph.netron_server import HOST, NetronServer
from tests.gui_support import select

LOOPBACK = f"http://{HOST}:"


@pytest.fixture(scope="module")
def netron_copy(tmp_path_factory):
    """A private copy of the installed Netron's files, to age or break."""
    folder = tmp_path_factory.mktemp("netron") / "netron"
    shutil.copytree(locate_viewer().folder, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return folder


def aged(folder: Path, *, built: str, breakable: bool = False) -> Path:
    """Set the copy's build date; with ``breakable``, make its view() unrecognisable."""
    index = (folder / "index.html").read_text(encoding="utf-8")
    start = index.index('<meta name="date" content="') + len('<meta name="date" content="')
    index = index[:start] + built + index[index.index('"', start):]
    (folder / "index.html").write_text(index, encoding="utf-8")
    original = locate_viewer().folder / "browser.js"
    script = original.read_text(encoding="utf-8")
    if breakable:
        script = script.replace("await age();", "await age(/* reworded */);")
    (folder / "browser.js").write_text(script, encoding="utf-8")
    return folder


def drawn(qtbot, launcher: GraphLauncher):
    window = launcher.windows[-1]
    qtbot.waitUntil(lambda: window.nodes > 0 or bool(window.refusal), timeout=60_000)
    return window


def assert_offline(window) -> None:
    port = window.server.port
    seen = window.interceptor.allowed + window.interceptor.blocked
    assert seen, "the interceptor saw no request at all"
    assert all(url.startswith(f"{LOOPBACK}{port}/") or url.startswith(("data:", "blob:"))
               for url in window.interceptor.allowed), window.interceptor.allowed


def test_the_installed_page_is_patched_to_skip_its_lock_consent_and_telemetry():
    viewer = locate_viewer()
    assert viewer.patched and viewer.version == "9.3.3"
    assert viewer.built == datetime(2026, 10, 23, 19, 50, 8, tzinfo=timezone.utc)
    for step in ("age", "consent", "telemetry", "capabilities"):
        assert f"await {step}();" not in viewer.browser_js
        assert f"ModelGate: {step}() skipped" in viewer.browser_js
    assert patch_view("no view here") == ("no view here", False)


def test_the_server_answers_on_loopback_only_and_only_for_its_files(demo_workspace):
    model = demo_workspace / "bundles" / "credit-risk-1.1.0" / "model" / "credit-risk.onnx"
    server = NetronServer(viewer=locate_viewer(), model=model)
    url = server.start()
    try:
        assert url.startswith(LOOPBACK)
        with urllib.request.urlopen(url) as response:
            page = response.read().decode()
            policy = response.headers["Content-Security-Policy"]
        assert '<meta name="file" content="/data/credit-risk.onnx">' in page
        assert "connect-src 'self'" in policy and "default-src 'self'" in policy
        with urllib.request.urlopen(url + "browser.js") as response:
            assert "ModelGate: age() skipped" in response.read().decode()
        with urllib.request.urlopen(url + "data/credit-risk.onnx") as response:
            assert response.read() == model.read_bytes()
        for escape in ("data/../bundle.yaml", "data/%2e%2e/bundle.yaml", "../../etc/passwd", "server.py"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + escape)
            assert refused.value.code == 404, escape
    finally:
        server.stop()


@pytest.mark.slow
def test_open_graph_draws_it_embedded_with_no_request_off_the_machine(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "defect-detector@1.0.0")
    demo_window.inspector.tabs.setCurrentWidget(inspector.interface)
    inspector.interface.open_button.click()
    window = drawn(qtbot, demo_window.graphs)
    assert window.refusal == "" and window.nodes >= 8
    assert window.interceptor.blocked == []
    assert_offline(window)
    assert "/data/defect-detector.onnx" in window.server.served
    assert "on this machine only" in inspector.interface.graph_note.text()


@pytest.mark.slow
def test_a_page_past_its_180_days_still_draws_the_graph(qtbot, netron_copy, demo_workspace, launchers):
    old = (datetime.now(timezone.utc) - LOCK_AFTER - timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S")
    viewer = read_viewer(aged(netron_copy, built=old))
    assert viewer.locks_up() and viewer.patched and viewer.refusal() is None
    launcher = launchers(embedded=True, locate=lambda: viewer)
    launcher.open(model=demo_workspace / "bundles" / "credit-risk-1.1.0" / "model" / "credit-risk.onnx",
                  title="aged")
    window = drawn(qtbot, launcher)
    assert window.nodes >= 6 and window.refusal == ""
    assert_offline(window)


def test_a_page_that_would_lock_up_unpatched_is_refused_plainly(qtbot, gui_settings, netron_copy,
                                                                demo_workspace, launchers):
    viewer = read_viewer(aged(netron_copy, built="2020-01-02 03:04:05", breakable=True))
    assert not viewer.patched and viewer.locks_up()
    assert "built on 2020-01-02 and refuses to run more than 180 days later" in viewer.refusal()
    with pytest.raises(NetronUnavailable, match="refuses to run"):
        launchers(embedded=True, locate=lambda: viewer).open(model=Path("m.onnx"), title="x")
    # The main window says the same, in the error dialog and on the tab.
    from tests.gui_support import make_window

    window = make_window(qtbot, gui_settings)
    window.graphs._locate = lambda: viewer
    with qtbot.waitSignal(window.inspector.subject_shown, timeout=60_000):
        window.open_bundle(path=demo_workspace / "bundles" / "credit-risk-1.1.0")
    window.inspector.interface.open_button.click()
    box = next(b for b in window.findChildren(QMessageBox) if b.objectName() == "error-dialog")
    assert "refuses to run more than 180 days" in box.informativeText()
    assert "could not be shown" in window.inspector.interface.graph_note.text()
    assert window.graphs.windows == []


@pytest.mark.slow
def test_an_unpatched_page_within_its_days_stays_offline_embedded(qtbot, netron_copy, demo_workspace,
                                                                  launchers):
    recent = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    viewer = read_viewer(aged(netron_copy, built=recent, breakable=True))
    assert not viewer.patched and viewer.refusal() is None
    launcher = launchers(embedded=True, locate=lambda: viewer)
    launcher.open(model=demo_workspace / "bundles" / "credit-risk-1.1.0" / "model" / "credit-risk.onnx",
                  title="unpatched")
    window = drawn(qtbot, launcher)
    assert window.nodes >= 6                      # the preset consent cookie skipped the prompt
    assert_offline(window)


@pytest.mark.slow
def test_the_interceptor_blocks_what_would_leave_the_machine(qtbot):
    from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile

    from modelgate.gui.graph.offline import LoopbackOnlyInterceptor

    profile = QWebEngineProfile()
    interceptor = LoopbackOnlyInterceptor(port=9, parent=profile)
    profile.setUrlRequestInterceptor(interceptor)
    page = QWebEnginePage(profile)
    try:
        page.setHtml('<img src="https://ipinfo.io/json"><img src="http://127.0.0.1:9/x.png">'
                     '<script src="https://www.googletagmanager.com/gtag/js"></script>', QUrl("http://127.0.0.1:9/"))
        qtbot.waitUntil(lambda: len(interceptor.blocked) >= 2 and "http://127.0.0.1:9/x.png" in interceptor.allowed,
                        timeout=30_000)
        assert set(interceptor.blocked) == {"https://ipinfo.io/json", "https://www.googletagmanager.com/gtag/js"}
        assert all(url.startswith(("data:", "http://127.0.0.1:9/")) for url in interceptor.allowed)
    finally:
        del page            # a page must go before its profile, or QtWebEngine aborts the process
        del profile


def test_without_the_embedded_view_the_graph_opens_in_the_browser_offline(qtbot, demo_workspace, monkeypatch,
                                                                         launchers):
    opened = []
    monkeypatch.setattr("modelgate.gui.graph.launcher.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toString()) or True)
    launcher = launchers(embedded=False)
    said = launcher.open(model=demo_workspace / "bundles" / "credit-risk-1.1.0" / "model" / "credit-risk.onnx",
                         title="browser")
    assert len(opened) == 1 and opened[0].startswith(LOOPBACK) and opened[0] in said
    with urllib.request.urlopen(opened[0]) as response:
        assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
    launcher.shutdown()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(opened[0], timeout=5)


def test_an_unpatched_page_is_never_sent_to_the_browser(netron_copy, launchers):
    viewer = read_viewer(aged(netron_copy, built="2026-11-01 00:00:00", breakable=True))
    with pytest.raises(NetronUnavailable, match="could not be made to stay offline"):
        launchers(embedded=False, locate=lambda: viewer).open(model=Path("m.onnx"), title="x")


def test_without_netron_the_app_says_so(qtbot, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "netron", None)
    with pytest.raises(NetronUnavailable, match="Netron is not installed") as missing:
        locate_viewer()
    assert "pip install 'modelgate[gui]'" in missing.value.hint
