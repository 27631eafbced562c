"""Closing a window while its background work is under way: no crash, no late outcome.

Each window, dialog and panel that reads the registry in the background is closed (and, in
a second round, deleted as the app deletes its dialogs) while its work is held inside the
core by a gate, several times in a row; then the work is let go. The outcome must never
reach the closed object, the status bar must forget the work, and closing must not wait for
the work. The last tests check the rules underneath: garbage is collected on the UI thread
only while work runs, and a worker never drops the last reference to what the UI made.
"""

from __future__ import annotations

import gc
import threading
import time

import pytest

ROUNDS = 3
#: Closing a window must return well within this, in seconds, although its work still runs.
CLOSE_LIMIT_S = 1.0


class Gate:
    """Holds background work inside a core call until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()
        self.passed = 0

    def around(self, call):
        def held(*args, **kwargs):
            self.reached.set()
            assert self.go.wait(60), "the gate was never opened"
            self.passed += 1
            return call(*args, **kwargs)
        return held

    def reset(self) -> None:
        self.reached.clear()
        self.go.clear()


class Spy:
    """Replaces a class's result slots with a recorder of the objects they were called on."""

    def __init__(self, monkeypatch, cls, *names: str) -> None:
        self.calls: list[tuple[str, str]] = []
        for name in names:
            monkeypatch.setattr(cls, name, self._recorder(name))

    def _recorder(self, name):
        def record(receiver, *args, **kwargs):
            self.calls.append((name, receiver.objectName()))
        return record


@pytest.fixture
def desk(demo_registry_copy, qapp):
    """The demo registry opened as its admin-free reviewer ben, the app's workers and a status bar."""
    from modelgate.gui.app.progress_panel import ProgressPanel
    from modelgate.gui.ops.registry import RegistryConnection
    from modelgate.gui.ops.workers import Workers

    connection = RegistryConnection.open(url=demo_registry_copy, user="ben")
    workers = Workers()
    panel = ProgressPanel()
    yield connection, workers, panel
    workers.shutdown(wait=True)
    connection.close()


def close_in_flight(qtbot, qapp, *, gate: Gate, panel, open_window, close, delete: bool) -> None:
    """Open a window, wait until its work is held in the gate, close it (and delete it), then let
    the work go and wait until the status bar has forgotten it."""
    from modelgate.gui.ops.background import in_flight

    for _ in range(ROUNDS):
        gate.reset()
        window = open_window()
        qtbot.waitUntil(gate.reached.is_set, timeout=30_000)
        gone = []
        window.destroyed.connect(lambda *_: gone.append(True))
        started = time.monotonic()
        close(window)
        assert time.monotonic() - started < CLOSE_LIMIT_S
        if delete:
            window.deleteLater()
            qtbot.waitUntil(lambda: bool(gone), timeout=10_000)
        passed = gate.passed
        gate.go.set()
        qtbot.waitUntil(lambda: gate.passed > passed and not in_flight() and not panel.running,
                        timeout=30_000)
        for _ in range(3):
            qapp.processEvents()
        del window


@pytest.mark.parametrize("delete", [False, True], ids=["closed", "closed-and-deleted"])
def test_the_compare_dialog_closed_while_it_reads_the_models(qtbot, qapp, desk, monkeypatch, delete):
    from modelgate.gui.compare import open_compare
    from modelgate.gui.dialogs.compare_dialog import CompareDialog
    from modelgate.gui.ops.registry import RegistryConnection

    connection, workers, panel = desk
    gate = Gate()
    monkeypatch.setattr(RegistryConnection, "model_names", gate.around(RegistryConnection.model_names))
    spy = Spy(monkeypatch, CompareDialog, "_on_models_loaded", "_on_versions_loaded")
    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=delete,
                    open_window=lambda: open_compare(parent=None, connection=connection, workers=workers,
                                                     progress_panel=panel, challenger=("credit-risk", "1.2.0")),
                    close=lambda dialog: dialog.reject())
    assert spy.calls == []


@pytest.mark.parametrize("delete", [False, True], ids=["closed", "closed-and-deleted"])
def test_the_compare_window_closed_while_it_reads_the_registry(qtbot, qapp, desk, monkeypatch, delete):
    from modelgate.core.registry import compare
    from modelgate.gui.compare import show_comparison
    from modelgate.gui.compare.compare_window import CompareWindow

    connection, workers, panel = desk
    gate = Gate()
    monkeypatch.setattr(compare, "plan_comparison", gate.around(compare.plan_comparison))
    ran = []
    monkeypatch.setattr(compare, "run_comparison", lambda plan, progress: ran.append(plan))
    spy = Spy(monkeypatch, CompareWindow, "_on_planned", "_on_compared", "_on_failed", "_on_cancelled")
    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=delete,
                    open_window=lambda: show_comparison(parent=None, connection=connection, workers=workers,
                                                        progress_panel=panel, champion=("credit-risk", "1.1.0"),
                                                        challenger=("credit-risk", "1.2.0")),
                    close=lambda window: window.close())
    assert spy.calls == [] and ran == []


@pytest.mark.parametrize("delete", [False, True], ids=["closed", "closed-and-deleted"])
def test_the_promotion_dialog_closed_while_it_checks_the_gates(qtbot, qapp, desk, monkeypatch, delete):
    from modelgate.core.registry import workflow
    from modelgate.gui.dialogs.promotion_dialog import PromotionDialog

    connection, workers, panel = desk
    info = connection.detail(name="credit-risk", version="1.2.0").info
    gate = Gate()
    monkeypatch.setattr(workflow, "gates", gate.around(workflow.gates))
    spy = Spy(monkeypatch, PromotionDialog, "_on_gates_checked", "_on_check_failed")

    def open_window():
        dialog = PromotionDialog(connection=connection, workers=workers, progress_panel=panel, info=info)
        dialog.open()
        return dialog

    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=delete, open_window=open_window,
                    close=lambda dialog: dialog.reject())
    assert spy.calls == []


@pytest.mark.parametrize("delete", [False, True], ids=["closed", "closed-and-deleted"])
def test_the_rollback_dialog_closed_while_it_reads_the_choices(qtbot, qapp, desk, monkeypatch, delete):
    from modelgate.core.registry import workflow
    from modelgate.gui.dialogs.rollback_dialog import RollbackDialog

    connection, workers, panel = desk
    gate = Gate()
    monkeypatch.setattr(workflow, "rollback_choices", gate.around(workflow.rollback_choices))
    spy = Spy(monkeypatch, RollbackDialog, "_on_choices_read")

    def open_window():
        dialog = RollbackDialog(connection=connection, workers=workers, progress_panel=panel, name="credit-risk",
                                current="1.1.0")
        dialog.open()
        return dialog

    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=delete, open_window=open_window,
                    close=lambda dialog: dialog.reject())
    assert spy.calls == []


@pytest.mark.parametrize("delete", [False, True], ids=["closed", "closed-and-deleted"])
def test_the_signing_station_closed_while_it_reads_and_verifies(qtbot, qapp, desk, monkeypatch, delete):
    from modelgate.core.registry import signatures
    from modelgate.gui.dialogs.signing_station import SigningStation
    from modelgate.gui.ops import signing

    connection, workers, panel = desk
    info = connection.detail(name="credit-risk", version="1.1.0").info
    gate = Gate()
    monkeypatch.setattr(signing, "covered", gate.around(signing.covered))
    monkeypatch.setattr(signatures, "verify_version", gate.around(signatures.verify_version))
    spy = Spy(monkeypatch, SigningStation, "_on_files_read", "_on_files_failed", "_on_verified",
              "_on_verify_failed")

    def open_window():
        dialog = SigningStation(connection=connection, workers=workers, progress_panel=panel, info=info)
        dialog.open()
        return dialog

    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=delete, open_window=open_window,
                    close=lambda dialog: dialog.reject())
    assert spy.calls == []


@pytest.mark.slow
@pytest.mark.parametrize("delete", [False, True], ids=["closed", "closed-and-deleted"])
def test_the_report_export_closed_while_it_collects_the_evidence(qtbot, qapp, desk, monkeypatch, tmp_path, delete):
    from modelgate.gui.dialogs.report_export import ReportExportDialog
    from modelgate.gui.ops.processes import ProcessPool

    connection, workers, panel = desk
    gate = Gate()
    monkeypatch.setattr(ProcessPool, "run", gate.around(ProcessPool.run))     # the report's worker process
    spy = Spy(monkeypatch, ReportExportDialog, "_on_export_succeeded", "_on_export_failed", "_on_export_cancelled")

    def open_window():
        dialog = ReportExportDialog(connection=connection, workers=workers, progress_panel=panel,
                                    name="credit-risk", version="1.1.0")
        dialog.open()
        dialog.path_field.setText(str(tmp_path / f"report-{time.monotonic_ns()}.pdf"))
        dialog.export()
        return dialog

    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=delete, open_window=open_window,
                    close=lambda dialog: dialog.reject())
    assert spy.calls == []


@pytest.mark.slow
def test_the_audit_view_deleted_while_it_reads_the_log(qtbot, qapp, desk, monkeypatch):
    from PySide6.QtWidgets import QWidget

    from modelgate.gui.audit.view import AuditView
    from modelgate.gui.ops.registry import RegistryConnection

    connection, workers, panel = desk
    gate = Gate()
    monkeypatch.setattr(RegistryConnection, "audit_count", gate.around(RegistryConnection.audit_count))
    delivered = []

    def open_window():
        host = QWidget()
        view = AuditView(workers=workers, progress_panel=panel, parent=host)
        view.model._on_source_counted = lambda *args: delivered.append(args)
        view.set_connection(connection)
        host.show()
        return host

    close_in_flight(qtbot, qapp, gate=gate, panel=panel, delete=True, open_window=open_window,
                    close=lambda host: host.close())
    assert delivered == []


@pytest.mark.slow
def test_the_main_window_closed_while_its_panels_read_the_registry(qtbot, qapp, gui_settings, demo_registry_copy,
                                                                     monkeypatch):
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides
    from modelgate.gui.ops.background import in_flight
    from modelgate.gui.review.queue_panel import QueuePanel
    from modelgate.gui.ops.registry import RegistryConnection
    from modelgate.gui.registry.model import RegistryTableModel

    gate = Gate()
    monkeypatch.setattr(RegistryConnection, "page", gate.around(RegistryConnection.page))
    pages = Spy(monkeypatch, RegistryTableModel, "_on_source_page")
    queues = Spy(monkeypatch, QueuePanel, "_on_queue_read", "_on_queue_failed")
    for _ in range(ROUNDS):
        gate.reset()
        window = MainWindow(settings=gui_settings, overrides=SessionOverrides(registry=demo_registry_copy, user="ben"),
                            embedded_graphs=True)
        window.show()
        window.open_registry()
        qtbot.waitUntil(gate.reached.is_set, timeout=30_000)
        gone = []
        window.destroyed.connect(lambda *_: gone.append(True))
        # The page read is held; closing cancels the rest and lets the held read finish.
        threading.Timer(0.3, gate.go.set).start()
        pages.calls.clear()
        queues.calls.clear()
        window.close()
        window.deleteLater()
        qtbot.waitUntil(lambda: bool(gone) and not in_flight(), timeout=30_000)
        for _ in range(3):
            qapp.processEvents()
    assert pages.calls == [] and queues.calls == []


def churn(stop: threading.Event) -> None:
    """Allocation-heavy Python code, as reading thousands of rows through SQLAlchemy is."""
    while not stop.is_set():
        junk = [{"row": [n]} for n in range(2000)]
        del junk


def collections_while_garbage_is_made(qtbot, *, seconds: float = 3.0) -> list[str]:
    """Make widgets that only the cyclic collector frees, for ``seconds``, spinning the event loop;
    return the names of the threads that ran a collection meanwhile."""
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    collected_on: list[str] = []

    def note(phase, _info) -> None:
        if phase == "start":
            collected_on.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            garbage = QWidget()
            layout = QVBoxLayout(garbage)
            layout.addWidget(QLabel("freed only by the cyclic collector"))
            garbage.cycle = garbage
            del garbage, layout
            qtbot.wait(5)
    finally:
        gc.callbacks.remove(note)
    return collected_on


@pytest.mark.slow
def test_garbage_is_collected_on_the_ui_thread_while_work_runs(qtbot, desk):
    """A widget in a reference cycle is freed by the cyclic collector, on whichever thread
    allocates: while background work runs, that must be the UI thread."""
    from PySide6.QtWidgets import QWidget

    from modelgate.gui.ops.background import BackgroundOperation

    _connection, workers, panel = desk
    stop = threading.Event()
    owner = QWidget()
    qtbot.addWidget(owner)
    handle = BackgroundOperation(parent=owner, executor=workers.bundles, work=lambda progress: churn(stop)) \
        .with_progress(panel=panel, label="churning").start()
    try:
        collected_on = collections_while_garbage_is_made(qtbot)
    finally:
        stop.set()
    qtbot.waitUntil(lambda: not handle.running, timeout=10_000)
    assert collected_on, "nothing was collected at all"
    assert set(collected_on) == {threading.main_thread().name}


@pytest.mark.slow
def test_a_thread_of_the_apps_own_keeps_collection_on_the_ui_thread_until_let_go(qtbot, qapp, monkeypatch):
    from modelgate.gui.ops import background as operations
    monkeypatch.setattr(operations, "COLLECTOR_IDLE_S", 0.2)
    qtbot.waitUntil(lambda: not operations.in_flight(), timeout=30_000)
    stop = threading.Event()
    server = threading.Thread(target=churn, args=(stop,), name="a-web-server")
    let_go = operations.collect_on_ui_thread()
    server.start()
    try:
        collected_on = collections_while_garbage_is_made(qtbot)
        assert not gc.isenabled()          # the server's thread never collects
    finally:
        stop.set()
        server.join()
        let_go()
    assert collected_on and set(collected_on) == {threading.main_thread().name}
    qtbot.waitUntil(gc.isenabled, timeout=5_000)     # once nothing runs beside the UI: as before


def test_a_worker_never_drops_the_last_reference_to_what_the_ui_made(qtbot, desk, monkeypatch):
    """Whatever the work and its outcome hold is freed on the UI thread, even when the UI thread
    takes the outcome before the worker has finished returning."""
    from modelgate.core.errors import ModelGateError
    from modelgate.gui.ops import background as operations
    from modelgate.gui.ops.background import BackgroundOperation

    _connection, workers, _panel = desk
    freed_on: list[str] = []

    class Tracked:
        def __del__(self) -> None:
            freed_on.append(threading.current_thread().name)

    delivered = threading.Event()
    real_emit = operations._emit

    def emit_then_linger(signal, *values):
        real_emit(signal, *values)
        if threading.current_thread() is not threading.main_thread():
            delivered.wait(10)       # the UI thread takes the outcome while the worker still returns

    monkeypatch.setattr(operations, "_emit", emit_then_linger)
    owner_outcomes = []
    for failing in (False, True):
        delivered.clear()
        held = Tracked()

        def work(progress, held=held, failing=failing):
            made = Tracked()
            if failing:     # a user-facing error: not logged, so no log record keeps it alive
                error = ModelGateError("the registry refused")
                error.objects = (made, held)
                raise error
            return made, held

        BackgroundOperation(parent=None, executor=workers.registry, work=work) \
            .on_success(lambda result: (owner_outcomes.append(len(result)), delivered.set())) \
            .on_failure(lambda error: (owner_outcomes.append(len(error.objects)), delivered.set())).start()
        del held, work
        qtbot.waitUntil(delivered.is_set, timeout=10_000)
        qtbot.waitUntil(lambda: not operations.in_flight(), timeout=10_000)
        qtbot.wait(50)
    gc.collect()
    assert owner_outcomes == [2, 2]
    assert freed_on == [threading.main_thread().name] * 4
