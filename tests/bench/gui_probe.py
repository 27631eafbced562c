"""The desktop app, timed from the inside: run in a fresh process by :mod:`tests.bench.gui`.

    python -m tests.bench.gui_probe SETTINGS.ini listing REGISTRY_URL NAME...
    python -m tests.bench.gui_probe SETTINGS.ini validation BUNDLE

``listing`` opens the main window on the registry and reports when the first rows were
painted (seconds since the process started, and since the window was made), then types
each NAME into the filter one key at a time and reports how long each key took to be
answered on screen (its rows painted; the count beneath follows). ``validation`` opens BUNDLE on its own and reports the event loop's
longest stall while the bundle is read, hashed and validated. The last line printed is JSON.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402  (the clock starts before anything is imported)
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

#: How often the stall probe asks to run, in milliseconds.
TICK_MS = 5


#: The settings file the probe's window uses (in the benchmark's scratch folder).
SETTINGS = [""]


def _window(**overrides):
    from modelgate.gui.app.application import application

    app = application()
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides
    from modelgate.gui.app.settings import GuiSettings

    settings = GuiSettings.at(path=SETTINGS[0])
    made = time.perf_counter()
    window = MainWindow(settings=settings, overrides=SessionOverrides(**overrides))
    window.resize(1500, 950)
    window.show()
    return app, window, made


class _Painted:
    """Notes when the registry table's viewport paints with rows in it."""

    def __init__(self, window):
        from PySide6.QtCore import QEvent, QObject

        panel = window.registry_panel
        self.at: float | None = None

        class Filter(QObject):
            def eventFilter(inner, watched, event):  # noqa: N805
                if event.type() == QEvent.Type.Paint and panel.model.rowCount() and self.at is None:
                    self.at = time.perf_counter()
                return False

        self._filter = Filter()
        panel.table.viewport().installEventFilter(self._filter)

    def reset(self) -> None:
        self.at = None


def _wait(app, done, timeout: float = 120.0) -> None:
    from PySide6.QtCore import QEventLoop

    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise SystemExit("gui probe: timed out")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def listing(url: str, names: list[str]) -> dict:
    app, window, made = _window(registry=url, user="bench")
    painted = _Painted(window)
    window.open_registry()
    _wait(app, lambda: painted.at is not None)
    first = {"process_to_rows_s": painted.at - STARTED, "window_to_rows_s": painted.at - made,
             "rows": window.registry_panel.model.rowCount()}
    panel = window.registry_panel
    # Tags, owners and submitters are indexed in the background after the first rows show;
    # typing is timed once that is done, and how long it took is reported.
    _wait(app, lambda: len(window.connection.facets) >= first["rows"] and panel.count_label.text() != "")
    total = int(panel.count_label.text().split()[0].replace(",", ""))
    _wait(app, lambda: len(window.connection.facets) >= total, timeout=600)
    first["indexed_s"] = time.perf_counter() - painted.at
    counted = [None, None]
    panel.model.total_counted.connect(lambda total: counted.__setitem__(slice(0, 2), [total, time.perf_counter()]))
    keys = []
    for name in names:
        panel.filter_edit.clear()
        _wait(app, lambda: not panel.model.loading)
        for n in range(1, len(name) + 1):
            painted.reset()
            counted[0] = None
            start = time.perf_counter()
            panel.filter_edit.setText(name[:n])           # one more key typed
            _wait(app, lambda: painted.at is not None and not panel.model.loading and counted[0] is not None)
            # The answer is the rows on screen; the count beneath the table follows it.
            keys.append({"text": name[:n], "seconds": painted.at - start, "counted_s": counted[1] - start,
                         "rows": panel.model.rowCount(), "total": counted[0]})
    window.close()
    return {**first, "keys": keys}


def validation(bundle: Path) -> dict:
    from PySide6.QtCore import QTimer

    app, window, _ = _window()
    gaps, last = [], [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(tick)
    reports = []
    window.inspector.validation_finished.connect(reports.append)
    timer.start()
    started = time.perf_counter()
    window.open_bundle(path=bundle)
    _wait(app, lambda: bool(reports), timeout=900)
    finished = time.perf_counter()
    timer.stop()
    window.close()
    report = reports[0]
    return {"seconds": finished - started, "longest_stall_s": max(gaps) - TICK_MS / 1000, "ticks": len(gaps),
            "passed": report.passed, "verdict": report.verdict}


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    SETTINGS[0], mode, *rest = argv
    outcome = listing(rest[0], rest[1:]) if mode == "listing" else validation(Path(rest[0]))
    print(json.dumps(outcome))
    sys.stdout.flush()
    os._exit(0)          # skip the slow teardown of Qt, onnxruntime and the interpreter


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
