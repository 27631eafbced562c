"""Fixtures for the desktop app (offscreen) that tests outside tests/gui/ use too (tests/attacks/ drives
the signing station, the evidence and CLI tests read the demo workspace): one demo workspace for the
whole session, a private copy of its registry, fresh settings, and making or selecting in a main window.
Fixtures only the app's own tests use live in tests/gui/conftest.py.

Qt is imported inside the fixtures, so test modules that never ask for them load no Qt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Chromium's sandbox (inside QtWebEngine) refuses to start as root; the app itself sets this
# in modelgate.gui.app.application.prepare_qt, which the qapp fixture below runs.
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt's application class, after what must be set before any QApplication exists."""
    from modelgate.gui.app.application import prepare_qt

    prepare_qt()
    from PySide6.QtWidgets import QApplication

    return QApplication


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory) -> Path:
    """``modelgate demo`` once per session: 8 bundles, policy.yaml and registry.db (read-only use)."""
    from modelgate.core.demo.workspace import build_demo

    return build_demo(directory=tmp_path_factory.mktemp("gui-demo") / "demo", force=True).directory


@pytest.fixture
def demo_registry_copy(demo_workspace, tmp_path) -> str:
    """A private copy of the demo registry (database and store), for tests that change it."""
    target = tmp_path / "demo"
    target.mkdir()
    shutil.copy2(demo_workspace / "registry.db", target / "registry.db")
    shutil.copytree(demo_workspace / "registry.store", target / "registry.store", symlinks=True)
    return f"sqlite:///{target / 'registry.db'}"


@pytest.fixture
def gui_settings(tmp_path, qapp):
    """Settings kept in a fresh INI file, never the user's."""
    from modelgate.gui.app.settings import GuiSettings

    return GuiSettings.at(path=str(tmp_path / "settings.ini"))


def make_window(qtbot, settings, **overrides):
    """A shown main window with the session overrides given (registry, user, policy)."""
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides

    window = MainWindow(settings=settings, overrides=SessionOverrides(**overrides), embedded_graphs=True)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    return window


def select(qtbot, window, ref: str):
    """Select ``name@version`` in the registry and wait until its validation finished."""
    name, version = ref.split("@")
    with qtbot.waitSignal(window.inspector.validation_finished, timeout=60_000):
        window.registry_panel.select_version(name=name, version=version)
    assert window.inspector.subject.label == ref
    return window.inspector


__all__ = ["demo_registry_copy", "demo_workspace", "gui_settings", "make_window", "qapp_cls", "select"]


def pytest_sessionfinish(session, exitstatus):
    """Delete the session's Qt objects before the interpreter exits, as the app does after its
    loop ends; left to the exit, they are freed in no set order and the process can crash after
    every test passed."""
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    from modelgate.gui.app.application import release_qt_objects

    app = QApplication.instance()
    if app is not None:
        release_qt_objects(app)
