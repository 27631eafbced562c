"""The chart widget: a picture drawn elsewhere, its exact numbers on hover, redrawn for a new
size or theme, and a picture drawn for a size no longer wanted dropped, never shown."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from modelgate.core.benchmarks.picture import render
from modelgate.core.benchmarks.results import Result
from modelgate.core.benchmarks.rows import benchmark_rows
from modelgate.core.policy.document import load_policy
from modelgate.gui.app.theme import ROLES, apply_theme
from modelgate.gui.inspector.chart_view import ChartView


def _result(metric, value, *, index=0):
    return Result("benchmarks/results.json", index, "imagenet", "val", metric, value, None, True, None)


CONTENT = {"rows": benchmark_rows(results=[_result("accuracy", 0.88), _result("f1", 0.80, index=1)],
                                  champion_results=[_result("accuracy", 0.90), _result("f1", 0.79, index=1)],
                                  policy=load_policy(), stage="production", targets=()),
           "stage": "production", "champion": "resnet@1.0.0"}


class Pool:
    """Stands in for the worker processes: draws in this process, each picture only once the
    test lets it go, and keeps what it was asked."""

    def __init__(self) -> None:
        self.asked: list[dict] = []
        self.gates: list[threading.Event] = []
        self.failure: Exception | None = None

    def run(self, job, *, progress, **arguments):
        assert job == "chart"
        gate = threading.Event()
        self.asked.append(arguments)
        self.gates.append(gate)
        assert gate.wait(60), "the test never let the picture go"
        if self.failure is not None:
            raise self.failure
        return render(**arguments)


class Workers:
    def __init__(self) -> None:
        self.processes = Pool()
        self.bundles = ThreadPoolExecutor(max_workers=2)


@pytest.fixture
def workers():
    found = Workers()
    yield found
    for gate in found.processes.gates:
        gate.set()
    found.bundles.shutdown(wait=True)


def shown(qtbot, workers, *, size=(640, 310)) -> ChartView:
    view = ChartView(workers=workers, kind="decisions", content=CONTENT, height=lambda _width: size[1])
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    return view


def drawn(qtbot, view, workers, count: int):
    """Let the ``count``-th picture asked for go."""
    qtbot.waitUntil(lambda: len(workers.processes.asked) >= count, timeout=10_000)
    workers.processes.gates[count - 1].set()


def test_the_tooltip_gives_a_bars_exact_numbers_and_nothing_outside_the_bars(qtbot, workers):
    view = shown(qtbot, workers)
    assert view.waiting and view.picture is None
    with qtbot.waitSignal(view.drawn, timeout=60_000):
        drawn(qtbot, view, workers, 1)
    assert not view.waiting
    bar = next(spot for spot in view.picture.spots if "this version: 0.88" in spot.text)
    inside = QPoint(int(bar.left + bar.width / 2), int(bar.top + bar.height / 2))
    QApplication.sendEvent(view, QHelpEvent(QEvent.Type.ToolTip, inside, view.mapToGlobal(inside)))
    assert QToolTip.isVisible() and QToolTip.text() == bar.text
    assert "champion: 0.9" in QToolTip.text() and "verdict:" in QToolTip.text()
    outside = QPoint(2, 2)
    QApplication.sendEvent(view, QHelpEvent(QEvent.Type.ToolTip, outside, view.mapToGlobal(outside)))
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=5_000)
    assert view.spot_at(2, 2) is None


def test_a_picture_drawn_for_an_old_size_is_dropped_and_the_new_size_drawn(qtbot, workers):
    view = shown(qtbot, workers, size=(640, 310))
    qtbot.waitUntil(lambda: len(workers.processes.asked) == 1, timeout=10_000)
    view.resize(900, 310)                      # while the first picture is drawn
    qtbot.wait(400)                            # the resize has settled: still one drawing at a time
    assert len(workers.processes.asked) == 1 and view.waiting
    drawn(qtbot, view, workers, 1)             # arrives for 640 pixels: not shown
    qtbot.waitUntil(lambda: view.dropped == 1, timeout=60_000)
    assert view.picture is None
    qtbot.waitUntil(lambda: len(workers.processes.asked) == 2, timeout=10_000)
    assert workers.processes.asked[1]["width"] == 900
    with qtbot.waitSignal(view.drawn, timeout=60_000):
        drawn(qtbot, view, workers, 2)
    assert view.picture.width == 900 and not view.waiting
    assert len(workers.processes.asked) == 2


def test_a_theme_change_draws_the_chart_again_in_the_new_colours(qtbot, qapp, workers):
    before = qapp.palette()
    view = shown(qtbot, workers)
    with qtbot.waitSignal(view.drawn, timeout=60_000):
        drawn(qtbot, view, workers, 1)
    light = workers.processes.asked[0]["colours"]
    try:
        apply_theme(qapp, theme="dark")
        qtbot.waitUntil(lambda: len(workers.processes.asked) == 2, timeout=10_000)
        assert view.waiting                     # the light picture stays, marked as being redrawn
        with qtbot.waitSignal(view.drawn, timeout=60_000):
            drawn(qtbot, view, workers, 2)
    finally:
        qapp.setPalette(before)
    dark = workers.processes.asked[1]["colours"]
    assert light.background != dark.background == ROLES["dark"][QPalette.ColorRole.Base]


def test_the_picture_is_drawn_at_the_widgets_pixel_ratio(qtbot, workers):
    view = shown(qtbot, workers)
    with qtbot.waitSignal(view.drawn, timeout=60_000):
        drawn(qtbot, view, workers, 1)
    asked = workers.processes.asked[0]
    assert (asked["width"], asked["height"], asked["ratio"]) == (view.width(), view.height(),
                                                                 view.devicePixelRatioF())
    assert view._pixmap.devicePixelRatio() == view.picture.ratio


def test_the_height_follows_the_width_and_the_picture_the_widget(qtbot, workers):
    view = ChartView(workers=workers, kind="decisions", content=CONTENT,
                     height=lambda width: 560 if width < 400 else 310)
    qtbot.addWidget(view)
    view.resize(300, 100)
    view.show()
    assert view.height() == 560
    with qtbot.waitSignal(view.drawn, timeout=60_000):
        drawn(qtbot, view, workers, 1)
    assert (view.picture.width, view.picture.height) == (300, 560)
    view.resize(700, 560)
    assert view.height() == 310


def test_a_chart_that_cannot_be_drawn_says_why_in_its_place(qtbot, workers):
    from PySide6.QtWidgets import QMessageBox

    from modelgate.gui.ops.processes import WorkerProcessFailed

    workers.processes.failure = WorkerProcessFailed("the bundle worker process stopped unexpectedly")
    view = shown(qtbot, workers)
    drawn(qtbot, view, workers, 1)
    qtbot.waitUntil(lambda: view.failure is not None, timeout=60_000)
    assert view.failure == "The charts could not be drawn: the bundle worker process stopped unexpectedly"
    assert not view.waiting and view.picture is None
    assert not view.findChildren(QMessageBox)             # said in place, not in a dialog
    workers.processes.failure = None
    view.resize(700, 310)                                 # a new size tries again
    with qtbot.waitSignal(view.drawn, timeout=60_000):
        drawn(qtbot, view, workers, 2)
    assert view.failure is None
