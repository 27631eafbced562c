"""Bundle work in worker processes: the app's own process never loads the heavy libraries, and
Cancel kills the process doing the work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from modelgate.core.errors import OperationCancelled
from modelgate.core.progress import Progress
from modelgate.gui.ops.processes import ProcessPool, WorkerProcessFailed

ROOT = Path(__file__).resolve().parents[3]
#: Modules that must never be imported in the window's process: they load in worker processes.
HEAVY = ("onnx", "onnxruntime", "matplotlib")


def heavy(modules) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _wait(app, done, timeout: float = 240.0) -> None:
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out; heavy modules so far: {heavy(sys.modules)}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def a_reviewers_session(workspace: str, settings: str, report: str) -> None:
    """Run in a fresh interpreter: open the demo registry, inspect an ONNX version tab by tab
    (its benchmark charts drawn), compare it with its predecessor (the comparison's chart drawn),
    export its auditor report; print the heavy modules the process holds as JSON."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from modelgate.gui.app.application import application
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides
    from modelgate.gui.app.settings import GuiSettings
    from modelgate.gui.dialogs.report_export import export_report
    from PySide6.QtWidgets import QWidget

    app = application()
    window = MainWindow(settings=GuiSettings.at(path=settings), embedded_graphs=True,
                        overrides=SessionOverrides(registry=f"sqlite:///{Path(workspace) / 'registry.db'}",
                                                   user="ben", policy=Path(workspace) / "policy.yaml"))
    window.resize(1500, 950)
    window.show()
    window.open_registry()
    _wait(app, lambda: window.registry_panel.model.rowCount() > 0)
    reports = []
    window.inspector.validation_finished.connect(reports.append)
    window.registry_panel.select_version(name="credit-risk", version="1.1.0")
    _wait(app, lambda: bool(reports))
    tabs = window.inspector.tabs
    for tab in window.inspector.tab_widgets:
        tabs.setCurrentWidget(tab)
        _wait(app, lambda: True)
        tab.grab()
    charts = window.inspector.benchmarks.chart
    tabs.setCurrentWidget(window.inspector.benchmarks)
    _wait(app, lambda: charts.picture is not None and not charts.waiting)
    from modelgate.gui.compare import show_comparison

    compared = show_comparison(parent=None, connection=window.connection, workers=window.workers,
                               progress_panel=window.progress, champion=("credit-risk", "1.0.0"),
                               challenger=("credit-risk", "1.1.0"))
    _wait(app, lambda: compared.view.comparison is not None)
    deltas = compared.view.findChild(QWidget, "metric-delta-chart")
    _wait(app, lambda: deltas.picture is not None and not deltas.waiting)
    compared.grab()
    dialog = export_report(parent=window, connection=window.connection, workers=window.workers,
                           progress_panel=window.progress, name="credit-risk", version="1.1.0")
    dialog.path_field.setText(report)
    dialog.export()
    _wait(app, lambda: dialog.exported is not None)
    print(json.dumps({"heavy": heavy(sys.modules), "passed": reports[0].passed,
                      "report": Path(report).stat().st_size, "charts": [len(charts.picture.spots),
                                                                        len(deltas.picture.spots)]}))
    sys.stdout.flush()
    os._exit(0)


@pytest.mark.slow
def test_inspecting_comparing_and_exporting_a_report_never_load_onnx_or_matplotlib_in_the_app(demo_workspace,
                                                                                              tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from tests.gui.ops.test_processes import a_reviewers_session; "
                               "a_reviewers_session(*sys.argv[1:])",
         str(demo_workspace), str(tmp_path / "settings.ini"), str(tmp_path / "report.pdf")],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["report"] > 0               # the session did the work it was meant to do
    assert all(outcome["charts"])              # both charts arrived, with their hover maps
    assert outcome["heavy"] == []


def big_bundle(folder: Path, *, size: int) -> Path:
    """A locked bundle with a ``size``-byte appendix of zeros (a sparse file: instant to write,
    as long to hash as any other)."""
    from tests.factory import lock_bundle, make_bundle

    root = make_bundle(folder / "bundle", lock=False)
    (root / "docs").mkdir()
    with open(root / "docs" / "appendix.bin", "wb") as handle:
        handle.truncate(size)
    lock_bundle(root)
    return root


@pytest.fixture
def pool():
    processes = ProcessPool(size=1)
    yield processes
    processes.shutdown()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped is a zombie: it no longer runs.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_cancel_kills_the_process_of_a_long_validation_and_the_next_job_gets_a_fresh_one(pool, tmp_path):
    bundle = big_bundle(tmp_path, size=768 * 1024**2)
    reported, outcome, seen = threading.Event(), [], []

    def report(label, done, total):
        seen.append((label, done, total))
        if done:
            reported.set()
    progress = Progress(callback=report)

    def run():
        try:
            outcome.append(pool.run("gather", path=bundle, policy=None, champion=None, progress=progress))
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    assert reported.wait(300), "the worker process never reported progress"
    (pid, job), = pool.busy.items()
    assert job == "gather" and pid != os.getpid() and alive(pid)
    progress.cancel()
    worker.join(30)
    assert not worker.is_alive() and isinstance(outcome[0], OperationCancelled)
    assert not alive(pid)                                    # killed, not asked
    assert pool.busy == {}

    small = big_bundle(tmp_path / "small", size=1024)
    policy, facts = pool.run("gather", path=small, policy=None, champion=None, progress=Progress())
    assert facts.summary["name"] and list(pool.busy) == []
    facts.close()


def test_a_worker_process_that_dies_mid_job_is_reported_in_words_and_replaced(pool, tmp_path):
    import signal

    progress = Progress()
    def kill_the_worker():
        _until(lambda: pool.busy)
        os.kill(next(iter(pool.busy)), signal.SIGKILL)      # as the kernel's out-of-memory killer would

    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    with pytest.raises(WorkerProcessFailed, match="stopped unexpectedly"):
        pool.run("gather", path=big_bundle(tmp_path, size=512 * 1024**2), policy=None, champion=None,
                 progress=progress)
    killer.join()
    assert pool.busy == {}


def _until(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_core_error_in_the_worker_reaches_the_app_as_itself(pool, tmp_path):
    from modelgate.core.errors import BundleError

    with pytest.raises(BundleError) as raised:
        pool.run("gather", path=tmp_path / "missing", policy=None, champion=None, progress=Progress())
    assert "missing" in raised.value.message
