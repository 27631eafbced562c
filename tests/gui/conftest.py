"""Fixtures only the desktop app's tests use; those shared with tests/attacks/ and the core's
evidence and CLI tests (demo workspace, settings, make_window) are in tests/gui_support.py."""

from __future__ import annotations

import pytest

from tests.gui_support import make_window


@pytest.fixture
def demo_window(qtbot, gui_settings, demo_workspace):
    """The main window on the demo registry, as ``make run`` opens it, with its rows loaded."""
    window = make_window(qtbot, gui_settings, registry=f"sqlite:///{demo_workspace / 'registry.db'}",
                         user="ben", policy=demo_workspace / "policy.yaml")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=30_000):
        window.open_registry()
    return window
