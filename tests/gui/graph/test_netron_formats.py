"""Netron for every format its browser bundle reads: the graph view gets the model file itself,
a format the installed viewer has no reader for is refused in plain words, and a pickle whose
scan found unsafe imports is never handed to it."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from modelgate.gui.graph.netron_page import NetronUnavailable, locate_viewer, read_viewer
from tests.gui_support import make_window


def _opened(qtbot, window, bundle):
    with qtbot.waitSignal(window.inspector.subject_shown, timeout=60_000):
        window.open_bundle(path=bundle)
    window.inspector.tabs.setCurrentWidget(window.inspector.interface)
    return window.inspector.interface


def test_the_installed_viewer_reads_every_format_but_nothing_outside_its_folder():
    viewer = locate_viewer()
    assert all(viewer.reads(name) for name in ("onnx", "tflite", "safetensors", "gguf", "pytorch"))
    assert not viewer.reads("no-such-format") and not viewer.reads("../netron/onnx") and not viewer.reads("")


@pytest.mark.slow
@pytest.mark.parametrize(("bundle", "served"), [
    ("keyword-spotter-1.0.0", "keyword-spotter.tflite"),
    ("support-assistant-1.0.0", "support-assistant.safetensors"),
])
def test_a_tflite_and_a_safetensors_bundle_are_served_to_the_graph_view(qtbot, gui_settings, demo_workspace,
                                                                         bundle, served):
    window = make_window(qtbot, gui_settings)
    try:
        tab = _opened(qtbot, window, demo_workspace / "bundles" / bundle)
        assert tab.open_button.isEnabled()
        tab.open_button.click()
        graph = window.graphs.windows[-1]
        qtbot.waitUntil(lambda: graph.nodes > 0 or bool(graph.refusal), timeout=60_000)
        assert graph.refusal == "" and graph.nodes > 0
        assert f"/data/{served}" in graph.server.served
        assert graph.interceptor.blocked == []
        assert "on this machine only" in tab.graph_note.text()
    finally:
        window.graphs.shutdown()


def test_a_format_the_installed_viewer_lacks_is_refused_plainly(qtbot, gui_settings, demo_workspace, tmp_path):
    folder = tmp_path / "netron"
    shutil.copytree(locate_viewer().folder, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py", "gguf*"))
    viewer = read_viewer(folder)
    window = make_window(qtbot, gui_settings)
    window.graphs._locate = lambda: viewer
    tab = _opened(qtbot, window, demo_workspace / "bundles" / "support-assistant-1.1.0")
    tab.open_button.click()
    box = next(b for b in window.findChildren(QMessageBox) if b.objectName() == "error-dialog")
    assert "cannot show GGUF files" in box.informativeText()
    assert "cannot show GGUF files" in tab.graph_note.text()
    assert window.graphs.windows == []
    with pytest.raises(NetronUnavailable, match="cannot show GGUF files"):
        window.graphs.open(model=demo_workspace / "bundles" / "support-assistant-1.1.0" / "model" / "x.gguf",
                           title="x", format_name="gguf")


def test_the_poisoned_pickle_is_refused_not_served(qtbot, gui_settings, demo_workspace, monkeypatch, tmp_path):
    from modelgate.core.demo.torch_zip import PICKLE_MARKER
    from modelgate.gui.graph.netron_server import NetronServer

    monkeypatch.chdir(tmp_path)                     # where its payload would write, were it ever run
    started = []
    monkeypatch.setattr(NetronServer, "start", lambda self: started.append(self) or "")
    window = make_window(qtbot, gui_settings)
    tab = _opened(qtbot, window, demo_workspace / "bundles" / "churn-predictor-0.3.0")
    tab.open_button.click()
    assert "Refused: unsafe pickle" in tab.graph_note.text() and "__builtin__.exec" in tab.graph_note.text()
    assert started == [] and window.graphs.windows == []
    assert not (tmp_path / PICKLE_MARKER).exists()  # the inspector read it, validated it, never loaded it
