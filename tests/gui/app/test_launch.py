"""Starting the app: what the command line checks first, and what a wrong start looks like."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox

from modelgate.core.cli.main import main
from modelgate.gui.app import application, launch
from tests.gui_support import make_window


def test_the_installed_pyside_can_run_the_app(qapp):
    assert application.signal_defect() is None
    assert launch.missing_packages() == []


def test_as_root_webengine_runs_without_its_sandbox(qapp, monkeypatch):
    monkeypatch.delenv("QTWEBENGINE_DISABLE_SANDBOX", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    application.prepare_qt()
    assert os.environ["QTWEBENGINE_DISABLE_SANDBOX"] == "1"


def test_a_bundle_that_is_not_there_is_refused_before_any_window(capsys, tmp_path):
    assert main(["gui", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("modelgate: ") and "no such file or folder" in err and "Traceback" not in err


def test_a_registry_that_is_not_there_is_explained_in_the_error_dialog(qtbot, gui_settings, tmp_path):
    window = make_window(qtbot, gui_settings, registry=f"sqlite:///{tmp_path / 'missing.db'}")
    window.open_registry()
    qtbot.waitUntil(lambda: any(b.objectName() == "error-dialog" for b in window.findChildren(QMessageBox)),
                    timeout=30_000)
    box = next(b for b in window.findChildren(QMessageBox) if b.objectName() == "error-dialog")
    assert box.text() == "Opening the registry failed"
    assert "no registry at" in box.informativeText() and "modelgate registry init" in box.informativeText()
    assert not window.registry_panel.isVisible() and window.connection is None
