"""The work queue is read in a worker process: on a large registry it is seconds of interpreter
time, which in the window's process would hold back every key typed and every repaint."""

from __future__ import annotations

import pytest

from tests.gui_support import make_window


@pytest.mark.slow
def test_the_queue_is_read_in_a_worker_process(qtbot, gui_settings, demo_workspace, monkeypatch):
    import modelgate.core.registry.queue as queue_module

    def in_this_process(*_args, **_kwargs):
        raise AssertionError("the work queue was read in the window's process")

    monkeypatch.setattr(queue_module, "work_queue", in_this_process)
    window = make_window(qtbot, gui_settings, registry=f"sqlite:///{demo_workspace / 'registry.db'}",
                         user="chen", policy=demo_workspace / "policy.yaml")
    with qtbot.waitSignal(window.queue_panel.queue_loaded, timeout=60_000) as loaded:
        window.open_registry()
    queue = loaded.args[0]
    assert queue.user == "chen" and queue.items
    assert window.queue_panel.model.rowCount() == len(queue.items)
    assert window.queue_panel.summary.text().startswith("Waiting for chen")
