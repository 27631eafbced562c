"""`make screenshots` of the review workflows renders every picture, from a scratch copy."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtGui import QImage

from tests.gui_support import make_window


@pytest.mark.slow
def test_the_workflow_screenshots_render_and_leave_the_demo_alone(qtbot, qapp, gui_settings, demo_workspace,
                                                                    tmp_path):
    from modelgate.gui.app.screenshot_workflows import shoot_workflows

    before = hashlib.sha256((demo_workspace / "registry.db").read_bytes()).hexdigest()

    def open_window(url, user):
        window = make_window(qtbot, gui_settings, registry=url, user=user)
        with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=60_000):
            window.open_registry()
        return window

    scratch, out = tmp_path / "scratch", tmp_path / "out"
    scratch.mkdir(), out.mkdir()
    written = shoot_workflows(qapp, demo=demo_workspace, scratch=scratch, out=out, open_window=open_window,
                              wait=lambda done, what: qtbot.waitUntil(lambda: bool(done()), timeout=120_000))
    assert [p.name for p in written] == ["12-my-queue-and-review-panel.png", "13-promotion-checklist-unmet.png",
                                         "14-signing-station.png", "15-rollback.png",
                                         "17-audit-log-verified.png", "18-audit-chain-broken.png"]
    for path in written:
        image = QImage(str(path))
        assert image.width() >= 600 and image.height() >= 200, path
    assert hashlib.sha256((demo_workspace / "registry.db").read_bytes()).hexdigest() == before
