"""The compare window and the dialog that chooses its two versions, on the demo registry."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtWidgets import QGroupBox, QLabel, QMessageBox, QTableWidget, QWidget

from modelgate.core.benchmarks.regression import format_number
from modelgate.gui.compare import open_compare, show_comparison
from modelgate.gui.inspector.widgets import BAD, GOOD


@pytest.fixture
def demo(demo_workspace, qapp):
    """The demo registry opened as its reviewer, with the app's workers and a status-bar panel."""
    from modelgate.gui.app.progress_panel import ProgressPanel
    from modelgate.gui.ops.registry import RegistryConnection
    from modelgate.gui.ops.workers import Workers

    connection = RegistryConnection.open(url=f"sqlite:///{demo_workspace / 'registry.db'}", user="ben")
    workers = Workers()
    panel = ProgressPanel()
    yield connection, workers, panel
    workers.shutdown()
    connection.close()


def compared(qtbot, demo, champion, challenger):
    connection, workers, panel = demo
    window = show_comparison(parent=None, connection=connection, workers=workers, progress_panel=panel,
                             champion=champion, challenger=challenger)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.comparison_shown, timeout=90_000):
        pass
    return window


def cells(widget: QTableWidget) -> list[list[str]]:
    return [[widget.item(r, c).text() for c in range(widget.columnCount())] for r in range(widget.rowCount())]


def labels(widget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def results(workspace, folder: str) -> dict[str, float]:
    data = json.loads((workspace / "bundles" / folder / "benchmarks" / "quality.json").read_text())
    return {r["metric"]: r["value"] for r in data["results"]}


def test_credit_risk_refit_shows_regressed_metrics_changed_weights_and_new_errors(qtbot, demo, demo_workspace):
    window = compared(qtbot, demo, ("credit-risk", "1.1.0"), ("credit-risk", "1.2.0"))
    view = window.view
    assert view.header.a.title.text() == "credit-risk@1.1.0" and view.header.b.title.text() == "credit-risk@1.2.0"
    assert "production" in view.header.a.facts.text() and "candidate" in view.header.b.facts.text()
    assert view.comparison.a.digest[:12] in view.header.a.facts.text()
    assert "judged for staging under the registry's policy example-corp-demo" in view.header.reading.text()
    page = view.page.widget()
    highlights = labels(page.findChild(QGroupBox, "compare-highlights"))
    assert "worse than allowed: accuracy, f1" in highlights and "2 error finding(s) new in B" in highlights

    old, new = results(demo_workspace, "credit-risk-1.1.0"), results(demo_workspace, "credit-risk-1.2.0")
    table = page.findChild(QTableWidget, "metric-deltas")
    rows = {row[0]: row for row in cells(table)}
    accuracy = rows["accuracy"]
    assert accuracy[3:5] == [format_number(old["accuracy"]), format_number(new["accuracy"])]
    assert accuracy[5] == f"{new['accuracy'] - old['accuracy']:+.4g}"
    assert accuracy[7:] == ["higher", "worse than allowed"]
    assert rows["f1"][8] == "worse than allowed" and rows["roc_auc"][8] == "worse, within the limits"
    row = list(rows).index("accuracy")
    assert table.item(row, 8).foreground().color() == BAD.qcolor()

    chart = page.findChild(QWidget, "metric-delta-chart")
    assert chart is not None and chart.height() >= 4 * 40
    qtbot.waitUntil(lambda: chart.picture is not None, timeout=120_000)
    # A bar per metric, top down in the table's order, and a marker for each one's allowed loss.
    bars = [spot.text.splitlines()[0] for spot in chart.picture.spots if "verdict:" in spot.text]
    assert [bar.split(" on ")[0] for bar in bars] == ["accuracy", "roc_auc", "f1", "latency_p95_ms"]
    assert sum("largest loss allowed" in spot.text for spot in chart.picture.spots) == 4
    assert [bar.split(" on ")[0] for bar in chart.picture.failing] == ["accuracy", "f1"]

    weights = cells(page.findChild(QTableWidget, "initializer-changes"))
    assert [(r[0], r[1], r[4]) for r in weights] == [(name, "changed", "content") for name in ("W1", "B1", "W2", "B2")]
    assert page.findChild(QTableWidget, "op-changes") is None          # same architecture
    assert "Inputs and outputs are unchanged." in labels(page)
    new_findings = cells(page.findChild(QTableWidget, "findings-only-in-b"))
    assert [(r[0], r[1]) for r in new_findings if r[0] == "error"] == [("error", "MG608"), ("error", "MG608")]
    assert page.findChild(QTableWidget, "findings-only-in-a") is None
    assert "Only in A, gone in credit-risk@1.2.0 (0)" in [box.title() for box in page.findChildren(QGroupBox)]


def test_a_release_candidate_shows_its_interface_change_and_both_artifacts(qtbot, demo):
    window = compared(qtbot, demo, ("defect-detector", "1.0.0"), ("defect-detector", "1.1.0-rc.1"))
    page = window.view.page.widget()
    assert cells(page.findChild(QTableWidget, "interface-changes")) == [
        ["output", "logits", "changed", "float32 [batch, 4]", "float32 [batch, 5]"]]
    titles = [box.title() for box in page.findChildren(QGroupBox)]
    assert "model/defect-detector.onnx (fp32)" in titles and "model/defect-detector.int8.onnx (int8)" in titles
    new_findings = cells(page.findChild(QTableWidget, "findings-only-in-b"))
    assert sorted(r[2] for r in new_findings if r[1] == "MG210") == [
        "model/defect-detector.int8.onnx: output 'logits' dimension 1 is 5 in the manifest but 4 in the graph",
        "model/defect-detector.onnx: output 'logits' dimension 1 is 5 in the manifest but 4 in the graph"]


@pytest.mark.slow
def test_the_better_refit_is_green_and_names_the_weights_that_moved(qtbot, demo):
    window = compared(qtbot, demo, ("defect-detector", "0.9.0"), ("defect-detector", "1.0.0"))
    page = window.view.page.widget()
    table = page.findChild(QTableWidget, "metric-deltas")
    accuracy = [r for r, row in enumerate(cells(table)) if row[0] == "accuracy"]
    assert accuracy and all(table.item(r, 8).text() == "better" for r in accuracy)
    assert table.item(accuracy[0], 6).foreground().color() == GOOD.qcolor()
    fp32 = page.findChildren(QTableWidget, "initializer-changes")[0]
    changed = [row[0] for row in cells(fp32)]
    # 1.0.0 moved the dark filter's threshold (conv1.B), drew a new mixing layer and refit the head;
    # the fixed edge filters (conv1.W) stayed as they were.
    assert changed == ["conv1.B", "conv2.W", "fc.W", "fc.B"]
    assert "License:" in labels(page) and "MIT (unchanged)" in labels(page)


def test_an_unknown_version_is_said_plainly(qtbot, demo):
    connection, workers, panel = demo
    window = show_comparison(parent=None, connection=connection, workers=workers, progress_panel=panel,
                             champion=None, challenger=("credit-risk", "9.9.9"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loading_failed, timeout=30_000) as failed:
        pass
    assert failed.args == ["no version credit-risk@9.9.9 in the registry"]
    assert "no version credit-risk@9.9.9" in labels(window.view.page.widget())
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "error-dialog"]
    assert boxes and "Comparing failed" in boxes[0].text()


def test_closing_the_window_before_the_bundles_are_read_reads_nothing(qtbot, demo, monkeypatch):
    from modelgate.gui.ops.processes import ProcessPool

    jobs = []
    real_run = ProcessPool.run

    def run(pool, job, **arguments):
        jobs.append(job)
        return real_run(pool, job, **arguments)

    monkeypatch.setattr(ProcessPool, "run", run)
    connection, workers, panel = demo
    window = show_comparison(parent=None, connection=connection, workers=workers, progress_panel=panel,
                             champion=("credit-risk", "1.1.0"), challenger=("credit-risk", "1.2.0"))
    gone = []
    window.destroyed.connect(lambda *_: gone.append(True))
    assert panel.running                          # the main window's status bar shows the work too
    window.close()
    qtbot.waitUntil(lambda: not panel.running and bool(gone), timeout=60_000)
    assert jobs == []


def test_the_comparison_runs_in_a_worker_process_and_cancel_kills_it(qtbot, demo):
    connection, workers, panel = demo
    window = show_comparison(parent=None, connection=connection, workers=workers, progress_panel=panel,
                             champion=("credit-risk", "1.1.0"), challenger=("credit-risk", "1.2.0"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "compare" in workers.processes.busy.values(), timeout=60_000)
    pid = next(pid for pid, job in workers.processes.busy.items() if job == "compare")
    assert pid != os.getpid() and panel.running[-1].label.startswith("Comparing")
    assert window.progress.running and window.progress.isVisible()   # and the window shows it too
    panel.cancel_current()
    qtbot.waitUntil(lambda: "The comparison was cancelled." in labels(window.view.page.widget()), timeout=30_000)
    assert not panel.running and not window.progress.running
    assert pid not in workers.processes.busy
    with pytest.raises(ProcessLookupError):     # killed (and reaped), not asked to stop
        os.kill(pid, 0)


def chosen_dialog(qtbot, demo, **defaults):
    connection, workers, panel = demo
    dialog = open_compare(parent=None, connection=connection, workers=workers, progress_panel=panel, **defaults)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.choices_loaded, timeout=30_000):
        pass
    return dialog


def test_the_dialog_defaults_to_the_selected_version_against_production(qtbot, demo):
    dialog = chosen_dialog(qtbot, demo, challenger=("credit-risk", "1.2.0"))
    assert dialog.chosen == (("credit-risk", "1.1.0"), ("credit-risk", "1.2.0"))
    assert dialog.compare_button.isEnabled()
    assert dialog.note.text().startswith("A is the production version of credit-risk.")
    assert dialog.pickers["b"].version_box.currentText() == "1.2.0  ·  candidate"

    production = chosen_dialog(qtbot, demo, challenger=("credit-risk", "1.1.0"))
    assert production.chosen == (("credit-risk", "1.0.0"), ("credit-risk", "1.1.0"))   # the one before it
    assert production.note.text().startswith("B is the production version of credit-risk")

    across = chosen_dialog(qtbot, demo, challenger=("support-embedder", "2.1.0"),
                           champion=("defect-detector", "1.0.0"))
    assert across.chosen == (("defect-detector", "1.0.0"), ("support-embedder", "2.1.0"))
    with qtbot.waitSignal(across.choices_loaded, timeout=30_000):
        across.swap_button.click()
    assert across.chosen == (("support-embedder", "2.1.0"), ("defect-detector", "1.0.0"))


@pytest.mark.slow
def test_choosing_the_same_version_twice_is_refused_and_compare_opens_the_window(qtbot, demo):
    dialog = chosen_dialog(qtbot, demo, challenger=("credit-risk", "1.2.0"))
    picker = dialog.pickers["a"]
    picker.version_box.setCurrentIndex(picker.version_box.findData("1.2.0"))
    assert not dialog.compare_button.isEnabled() and "same version" in dialog.note.text()
    picker.version_box.setCurrentIndex(picker.version_box.findData("1.0.0"))
    assert dialog.compare_button.isEnabled()
    with qtbot.waitSignal(dialog.compare_opened) as opened:
        dialog.compare_button.click()
    window = opened.args[0]
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.comparison_shown, timeout=90_000) as shown:
        pass
    assert (shown.args[0].a.label, shown.args[0].b.label) == ("credit-risk@1.0.0", "credit-risk@1.2.0")
    assert not dialog.isVisible()


@pytest.mark.slow
def test_the_screenshot_helper_writes_the_window_at_its_size(qtbot, demo, tmp_path):
    from PySide6.QtGui import QImage

    from modelgate.gui.compare.screenshot import grab_comparison

    connection, workers, panel = demo
    path = grab_comparison(connection=connection, workers=workers, progress_panel=panel,
                           path=tmp_path / "shots" / "compare.png", size=(1000, 700))
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1000, 700)
    assert not panel.running


@pytest.mark.slow
def test_a_live_theme_switch_repaints_the_open_comparison(qtbot, qapp, demo):
    from modelgate.gui.app import theme
    from tests.gui.app.test_theme_switch import light_inks, stale_colours

    before = qapp.palette()
    theme.apply_theme(qapp, theme="light")
    try:
        window = compared(qtbot, demo, ("credit-risk", "1.1.0"), ("credit-risk", "1.2.0"))
        painted_light = stale_colours(window, light_inks())
        assert painted_light, "the comparison shows no coloured text to repaint"
        theme.apply_theme(qapp, theme="dark")
        assert stale_colours(window, light_inks()) == []
    finally:
        qapp.setPalette(before)
