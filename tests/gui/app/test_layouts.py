"""Every main screen at 1366x768 and 1920x1080, at 100 % and 200 % scaling, in both themes:
rendered to PNG files (build/screenshots/layouts/), with no label clipped and every label and
button at WCAG AA contrast against its background.

200 % scaling halves the room a window has in device-independent pixels, which is what the
layout sees: a 1920x1080 screen at 200 % lays a maximised window out in 960x540. That case is
rendered here at that size; a separate test renders it with QT_SCALE_FACTOR=2 in a process of
its own and checks the PNG has twice the pixels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QImage

from modelgate.gui.app.theme import apply_theme
from modelgate.gui.inspector.chart_view import charts_settled
from modelgate.gui.inspector.inspector import TAB_TITLES
from tests.gui.contrast import clipped, low_contrast
from tests.gui_support import make_window, select

#: Window sizes in device-independent pixels: the two screens at 100 %, the larger at 200 %.
SIZES = {"1366x768": (1366, 768), "1920x1080": (1920, 1080), "1920x1080-200pct": (960, 540)}
OUT = Path(__file__).resolve().parents[3] / "build" / "screenshots" / "layouts"
VERSION = "credit-risk@1.2.0"


def wait_for(qapp, done, seconds: float = 120) -> None:
    """Run the event loop until ``done()`` holds (charts are drawn by a worker process)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        settle(qapp, 50)


def settle(qapp, ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    qapp.processEvents()


class Shots:
    """Saves each screen and collects what is wrong with it."""

    def __init__(self, qapp, theme: str) -> None:
        self.qapp, self.theme, self.problems, self.saved = qapp, theme, [], []
        OUT.mkdir(parents=True, exist_ok=True)

    def take(self, widget, *, size: str, screen: str) -> None:
        settle(self.qapp)
        wait_for(self.qapp, lambda: charts_settled(widget))
        path = OUT / f"{self.theme}-{size}-{screen}.png"
        assert widget.grab().save(str(path)), path
        self.saved.append(path)
        where = f"{self.theme} {size} {screen}"
        self.problems += [f"{where}: clipped {p}" for p in clipped(widget)]
        self.problems += [f"{where}: contrast {p}" for p in low_contrast(widget)]


def next_stage_cut(panel) -> list[str]:
    """How the registry listing's Next stage column fails to show its headlines: cut by the view's
    edge, or shortened without the whole headline on hover."""
    from modelgate.gui.registry.columns import NEXT

    table, model = panel.table, panel.model
    table.horizontalScrollBar().setValue(0)
    found = []
    right = table.columnViewportPosition(NEXT) + table.columnWidth(NEXT)
    if right > table.viewport().width():
        found.append(f"the Next stage column ends at {right} px, the view at {table.viewport().width()} px")
    margin = 2 * (table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 1)
    for row in range(model.rowCount()):
        index = model.index(row, NEXT)
        headline, hover = index.data(), index.data(Qt.ItemDataRole.ToolTipRole) or ""
        shortened = table.fontMetrics().horizontalAdvance(headline) + margin > table.columnWidth(NEXT)
        if shortened and not hover.startswith(headline):
            found.append(f"row {row}: {headline!r} is shortened and its tooltip does not hold it")
    return found


@pytest.fixture(params=["light", "dark"])
def theme(request, qapp):
    before = qapp.palette()
    apply_theme(qapp, theme=request.param)
    yield request.param
    qapp.setPalette(before)


@pytest.mark.slow
def test_the_registry_inspector_queue_and_audit_hold_at_every_size(qtbot, qapp, gui_settings, demo_registry_copy,
                                                                   theme):
    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="chen")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=30_000):
        window.open_registry()
    select(qtbot, window, VERSION)
    shots = Shots(qapp, theme)
    for size, (width, height) in SIZES.items():
        window.resize(width, height)
        settle(qapp)
        if (window.width(), window.height()) != (width, height):
            shots.problems.append(f"{theme} {size}: the window cannot shrink to {width}x{height} "
                                  f"(it is {window.width()}x{window.height()})")
        window.sidebar.choose("registry")
        qtbot.waitUntil(lambda: window.registry_panel.model.standing_of(0) is not None, timeout=30_000)
        settle(qapp)
        shots.problems += [f"{theme} {size} registry: {p}" for p in next_stage_cut(window.registry_panel)]
        for index, title in enumerate(TAB_TITLES):
            window.inspector.tabs.setCurrentIndex(index)
            shots.take(window, size=size, screen=f"inspector-{title.lower().replace(' ', '-')}")
        window.sidebar.choose("queue")
        qtbot.waitUntil(lambda: window.queue_panel.model.rowCount() > 0, timeout=30_000)
        shots.take(window, size=size, screen="queue-and-review")
        window.sidebar.choose("audit")
        qtbot.waitUntil(lambda: window.audit_view.model.rowCount() > 0, timeout=30_000)
        shots.take(window, size=size, screen="audit")
    assert not shots.problems, "\n".join(shots.problems)
    assert all(QImage(str(p)).width() >= 900 for p in shots.saved)


@pytest.mark.slow
def test_the_compare_promotion_and_signing_screens_hold_at_every_size(qtbot, qapp, gui_settings,
                                                                      demo_registry_copy, theme):
    from modelgate.core.demo.registry import SIGNER
    from modelgate.gui.compare.screenshot import grab_comparison

    shots = Shots(qapp, theme)
    chen = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="chen")
    with qtbot.waitSignal(chen.registry_panel.model.page_loaded, timeout=30_000):
        chen.open_registry()
    select(qtbot, chen, VERSION)
    for size, (width, height) in SIZES.items():
        path = grab_comparison(connection=chen.connection, workers=chen.workers, progress_panel=chen.progress,
                               path=OUT / f"{theme}-{size}-compare.png", size=(width, height))
        shots.saved.append(path)
    chen.version_actions.open_promote()
    promotion = chen.version_actions.dialog
    qtbot.waitUntil(lambda: bool(promotion.checklist.gates), timeout=60_000)
    eve = make_window(qtbot, gui_settings, registry=demo_registry_copy, user=SIGNER)
    with qtbot.waitSignal(eve.registry_panel.model.page_loaded, timeout=30_000):
        eve.open_registry()
    select(qtbot, eve, "credit-risk@1.1.0")
    eve.version_actions.open_sign()
    station = eve.version_actions.dialog
    qtbot.waitUntil(lambda: bool(station.files), timeout=60_000)
    for size, (width, height) in SIZES.items():
        for name, dialog in (("promotion", promotion), ("signing-station", station)):
            hint = dialog.sizeHint()
            wanted = (min(max(hint.width(), 820), width), min(max(hint.height(), 460), height))
            dialog.resize(*wanted)
            settle(qapp)
            if (dialog.width(), dialog.height()) != wanted:
                shots.problems.append(f"{theme} {size} {name}: cannot shrink to {wanted} "
                                      f"(it is {dialog.width()}x{dialog.height()})")
            shots.take(dialog, size=size, screen=name)
    promotion.close()
    station.close()
    assert not shots.problems, "\n".join(shots.problems)


PROBE = """
import json, sys
from pathlib import Path
from tests.gui.app.test_layouts import probe_scaled
print(json.dumps(probe_scaled(registry=sys.argv[1], out=Path(sys.argv[2]), settings=Path(sys.argv[3]))))
"""


def probe_scaled(*, registry: str, out: Path, settings: Path) -> dict:
    """In a process started with QT_SCALE_FACTOR=2: the main window at 960x540 device-independent
    pixels (1920x1080 at 200 %), its PNG, and what is clipped in it."""
    from modelgate.gui.app.application import application
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides
    from modelgate.gui.app.settings import GuiSettings

    app = application()
    window = MainWindow(settings=GuiSettings.at(path=str(settings)),
                        overrides=SessionOverrides(registry=registry, user="chen"))
    window.resize(*SIZES["1920x1080-200pct"])
    window.show()
    window.open_registry()
    loop = QEventLoop()
    window.registry_panel.model.page_loaded.connect(loop.quit)
    QTimer.singleShot(30_000, loop.quit)
    loop.exec()
    settle(app, 300)
    image = window.grab()
    image.save(str(out))
    found = {"ratio": image.devicePixelRatio(), "width": QImage(str(out)).width(), "clipped": clipped(window)}
    window.close()
    return found


@pytest.mark.slow
def test_at_200_percent_the_window_renders_at_twice_the_pixels_and_nothing_clips(demo_registry_copy, tmp_path):
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / "scaled-1920x1080-200pct-registry.png"
    environment = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen"}
    ran = subprocess.run([sys.executable, "-c", PROBE, demo_registry_copy, str(out), str(tmp_path / "settings.ini")], capture_output=True,
                         text=True, env=environment, cwd=Path(__file__).resolve().parents[3], timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["ratio"] == 2 and found["width"] == 2 * SIZES["1920x1080-200pct"][0]
    assert found["clipped"] == []


def rule_titles_cut(dialog) -> list[str]:
    """Rule titles the reference's list cuts: scrolled sideways, or wrapped into more lines than
    the item's height holds."""
    listing = dialog.list
    found = []
    if listing.horizontalScrollBar().isVisible():
        found.append("the rule list scrolls sideways")
    metrics, width = listing.fontMetrics(), listing.viewport().width()
    for row in range(listing.count()):
        item = listing.item(row)
        rect = listing.visualItemRect(item)
        if rect.right() > width:
            found.append(f"{item.text()!r} reaches {rect.right()} px, the list is {width} px wide")
        needed = metrics.boundingRect(0, 0, rect.width() - 4, 10_000, Qt.TextFlag.TextWordWrap, item.text()).height()
        if needed > rect.height():
            found.append(f"{item.text()!r} needs {needed} px high, has {rect.height()}")
    return found


@pytest.mark.parametrize("size", list(SIZES))
def test_the_rule_reference_shows_every_title_whole_at_every_size(qtbot, qapp, theme, size):
    from modelgate.gui.help.rule_reference import RuleReferenceDialog

    dialog = RuleReferenceDialog()
    qtbot.addWidget(dialog)
    width, height = SIZES[size]
    dialog.resize(min(900, width), min(600, height))
    dialog.show()
    shots = Shots(qapp, theme)
    shots.take(dialog, size=size, screen="rule-reference")
    assert rule_titles_cut(dialog) == [] and shots.problems == []
