"""Fixtures of the graph window's tests."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from modelgate.gui.graph.launcher import GraphLauncher


@pytest.fixture
def launchers(qtbot):
    """Make graph launchers on a throwaway window; every graph window is closed afterwards, so
    no page outlives its profile (QtWebEngine aborts the process when one does)."""
    made = []

    def make(**options) -> GraphLauncher:
        host = QWidget()
        qtbot.addWidget(host)
        made.append(GraphLauncher(window=host, **options))
        return made[-1]

    yield make
    for launcher in made:
        launcher.shutdown()
