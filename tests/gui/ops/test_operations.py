"""Background operations: progress in the status bar, Cancel, and the one error dialog."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from modelgate.core.errors import BundleError
from modelgate.gui.ops.background import BackgroundOperation
from modelgate.gui.app.progress_panel import STEPS, ProgressPanel
from modelgate.gui.ops.workers import Workers
from tests.gui_support import select


@pytest.fixture
def host(qtbot):
    """A window with a progress panel and the app's workers."""
    window = QWidget()
    window.panel = ProgressPanel(window)
    window.workers = Workers()
    qtbot.addWidget(window)
    yield window
    window.workers.shutdown(wait=True)


def endless(started: threading.Event, *, total: int = 1000):
    """Work that reports progress until it is cancelled (as hashing does)."""
    def work(progress):
        progress.start(label="hashing", total=total)
        started.set()
        while True:
            progress.advance(1)          # raises OperationCancelled once Cancel was pressed
            threading.Event().wait(0.002)
    return work


def error_boxes(parent) -> list[QMessageBox]:
    return [box for box in parent.findChildren(QMessageBox) if box.objectName() == "error-dialog"]


def test_cancel_stops_the_work_and_hides_the_progress(qtbot, host):
    started, outcome = threading.Event(), []
    handle = (BackgroundOperation(parent=host, executor=host.workers.bundles, work=endless(started))
              .with_progress(panel=host.panel, label="Validating big-model@1.0.0")
              .on_success(outcome.append).on_cancelled(lambda: outcome.append("cancelled")).start())
    assert host.panel.isVisibleTo(host) and host.panel.running == [handle]
    qtbot.waitUntil(lambda: host.panel.bar.value() > 0, timeout=10_000)
    assert host.panel.label.text() == "Validating big-model@1.0.0: hashing"
    assert 0 < host.panel.bar.value() < STEPS
    with qtbot.waitSignal(host.panel.message_announced, timeout=10_000) as said:
        qtbot.mouseClick(host.panel.cancel_button, Qt.MouseButton.LeftButton)
    assert said.args == ["Cancelled: Validating big-model@1.0.0"]
    assert outcome == ["cancelled"] and not handle.running
    assert not host.panel.isVisibleTo(host) and error_boxes(host) == []


def test_a_core_error_shows_its_message_and_hint_never_a_traceback(qtbot, host):
    def work(progress):
        raise BundleError("bundle.zip is neither a bundle folder nor an archive",
                          hint="Pass the folder that holds bundle.yaml.")

    BackgroundOperation(parent=host, executor=host.workers.bundles, work=work) \
        .with_progress(panel=host.panel, label="Opening bundle.zip").start()
    qtbot.waitUntil(lambda: bool(error_boxes(host)), timeout=10_000)
    box = error_boxes(host)[0]
    assert box.text() == "Opening bundle.zip failed"
    assert box.informativeText() == ("bundle.zip is neither a bundle folder nor an archive\n\n"
                                     "Pass the folder that holds bundle.yaml.")
    assert not host.panel.isVisibleTo(host)


def test_a_defect_is_one_plain_sentence_and_its_details_go_to_the_log(qtbot, host, caplog):
    from modelgate.gui.dialogs.error import DEFECT, DEFECT_HINT

    def work(progress):
        return {}["missing"]

    BackgroundOperation(parent=host, executor=host.workers.bundles, work=work).start()
    qtbot.waitUntil(lambda: bool(error_boxes(host)), timeout=10_000)
    text = error_boxes(host)[0].informativeText()
    assert text == f"{DEFECT}\n\n{DEFECT_HINT}"
    assert "KeyError" in caplog.text and "'missing'" in caplog.text     # for the developers, in the log


def test_a_failing_callback_reaches_the_error_dialog_instead_of_hanging(qtbot, host, caplog):
    from modelgate.gui.dialogs.error import DEFECT

    def broken(result):
        raise RuntimeError("the tab could not show it")

    BackgroundOperation(parent=host, executor=host.workers.registry, work=lambda progress: 42) \
        .on_success(broken).start()
    qtbot.waitUntil(lambda: bool(error_boxes(host)), timeout=10_000)
    assert error_boxes(host)[0].informativeText().startswith(DEFECT)
    assert "the tab could not show it" in caplog.text


def test_results_arrive_on_the_ui_thread_in_the_order_asked(qtbot, host):
    seen = []
    ui_thread = threading.current_thread()
    for n in range(5):
        BackgroundOperation(parent=host, executor=host.workers.registry, work=lambda progress, n=n: n) \
            .on_success(lambda value: seen.append((value, threading.current_thread() is ui_thread))).start()
    qtbot.waitUntil(lambda: len(seen) == 5, timeout=10_000)
    assert seen == [(n, True) for n in range(5)]


def test_escape_cancels_a_validation_in_the_inspector(qtbot, demo_window, monkeypatch):
    inspector = select(qtbot, demo_window, "credit-risk@1.1.0")
    started = threading.Event()
    # The worker process's side of it (killed on Cancel) is tested in test_processes; here the
    # validation it runs is one that only stops when cancelled.
    monkeypatch.setattr("modelgate.gui.ops.processes.ProcessPool.run",
                        lambda pool, job, *, progress, **kw: endless(started)(progress))
    inspector.rerun_validation()
    qtbot.waitUntil(started.is_set, timeout=10_000)
    assert "Checking credit-risk@1.1.0" in inspector.overview.banner.headline.text()
    assert not inspector.validation.rerun_button.isEnabled()
    demo_window.actions_by_name["Cancel running work"].trigger()
    qtbot.waitUntil(lambda: inspector.validation.rerun_button.isEnabled(), timeout=10_000)
    assert inspector.overview.banner.headline.text() == "Validation cancelled"
    assert "Re-run" in inspector.overview.banner.details.text()
    assert "cancelled" in inspector.validation.verdict.text()
    assert demo_window.progress.running == []
