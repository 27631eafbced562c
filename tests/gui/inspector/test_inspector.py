"""Every inspector tab on the demo workspace, with the facts a reviewer must be shown."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QTableWidget

from modelgate.core.benchmarks.charts import value_range
from tests.gui_support import make_window, select


def cells(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def labels(widget) -> str:
    """Every text the page shows: labels, and the one-line fields long paths and digests are in."""
    return "\n".join([label.text() for label in widget.findChildren(QLabel)]
                     + [field.text() for field in widget.findChildren(QLineEdit, "long-value")])


@pytest.mark.slow
def test_overview_shows_identity_history_digests_lock_and_a_failing_verdict(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.2.0")
    overview = inspector.overview
    assert inspector.subject.stage == "staging"          # judged for the stage after candidate
    assert overview.banner.passed is False
    assert "Does not pass the policy example-corp-demo for staging: 2 error(s)" in overview.banner.headline.text()
    assert "MG608" in overview.banner.details.text()
    assert "1 approval(s) from approver" in overview.banner.details.text()
    text = labels(overview)
    owners = cells(overview.findChild(QTableWidget, "owners"))
    assert owners == [["Credit Risk Modelling", "credit-ml@example.com"], ["Ana Kovac", "ana.kovac@example.com"]]
    assert "Locked: every file matches" in text and "Submitted by:" in text and "ana" in text
    history = cells(overview.findChild(QTableWidget, "stage-history"))
    assert [row[1] for row in history] == ["draft → candidate"]
    digests = cells(overview.findChild(QTableWidget, "artifact-digests"))
    assert digests[0][0] == "model/credit-risk.onnx" and digests[0][4] == "matches" and len(digests[0][3]) == 64
    assert inspector.subject.detail.info.digest in text


def test_a_passing_version_gets_a_passing_banner(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.1.0")
    assert inspector.subject.stage == "production"
    assert inspector.overview.banner.passed is True
    assert inspector.overview.banner.headline.text().startswith("✔ Passes the policy example-corp-demo for production")


@pytest.mark.slow
def test_model_card_renders_sections_and_front_matter(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.2.0")
    html = inspector.card.browser.toHtml()
    assert "Intended use" in html and "Ethical considerations" in html
    front = cells(inspector.card.front_matter.findChild(QTableWidget, "front-matter"))
    assert ["model_name", "credit-risk"] in front and ["license", "Apache-2.0"] in front


@pytest.mark.slow
def test_license_breaks_the_expression_down_under_the_policy(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "support-embedder@2.1.0")
    tab = inspector.license
    assert cells(tab.findChild(QTableWidget, "license-terms")) == [["CC-BY-NC-4.0", "—", "denied"]]
    datasets = cells(tab.findChild(QTableWidget, "dataset-licenses"))
    assert ["public-support-forums", "3.0", "CC-BY-NC-4.0", "denied"] in datasets
    assert "denied: every option includes a license the policy denies" in labels(tab)
    texts = tab.findChildren(QPlainTextEdit)
    assert texts and "Creative Commons Attribution-NonCommercial" in texts[0].toPlainText()
    assert inspector.overview.banner.passed is False


@pytest.mark.slow
def test_interface_highlights_what_differs_from_the_graph(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "defect-detector@1.1.0-rc.1")
    tab = inspector.interface
    assert tab.artifact_box.count() == 2 and tab.artifact_box.isEnabled()
    ports = tab.page.findChild(QTableWidget, "interface-ports")
    rows = cells(ports)
    logits = next(r for r in rows if r[1] == "logits")
    assert logits[3] == "[batch, 5]" and logits[5] == "[batch, 4]" and logits[6] == "shape"
    row = rows.index(logits)
    assert ports.item(row, 3).background().color().alpha() > 0        # highlighted
    assert ports.item(0, 3).background().style() == Qt.BrushStyle.NoBrush  # the matching input is not
    ops = dict(cells(tab.page.findChild(QTableWidget, "op-counts")))
    assert ops["Conv"] == "2"
    text = labels(tab.page)
    assert "1 input(s)/output(s) differ" in text and "Parameters:" in text and "modelgate-demo" in text
    tab.artifact_box.setCurrentIndex(1)                                 # the int8 artifact
    assert "DynamicQuantizeLinear" in dict(cells(tab.page.findChild(QTableWidget, "op-counts")))


@pytest.mark.slow
def test_benchmarks_chart_metrics_against_floor_and_champion(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.2.0")
    tab = inspector.benchmarks
    assert tab.chart is None                      # drawn when shown, not while another tab is in front
    inspector.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.chart.drawn, timeout=120_000) as drawn:
        pass
    picture = drawn.args[0]
    # One panel per result, in file order: the regressed accuracy is marked, and the legend names
    # the champion and the stage's gate; the picture fills the widget, sharp at its pixel ratio.
    titles = list(picture.titles)
    assert [t.removeprefix("✖ ") for t in titles] == ["accuracy · cpu-online", "roc_auc · cpu-online",
                                                       "f1 · cpu-online", "latency_p95_ms · cpu-online"]
    assert titles[0].startswith("✖") and "accuracy · cpu-online" in picture.failing
    assert "champion credit-risk@1.1.0" in picture.legend and "staging floor / ceiling" in picture.legend
    assert (picture.width, picture.height) == (tab.chart.width(), tab.chart.height())
    assert picture.ratio == tab.chart.devicePixelRatioF()
    # Two bars a panel (champion and this version), each with its exact numbers on hover.
    assert len(picture.spots) == 8 and all("verdict:" in spot.text for spot in picture.spots)
    low, high, _ = value_range(tab.rows[0])
    assert low > 0.5 and high < 1.0                # centred on the decision, not from 0
    rows = {r[0]: r for r in cells(tab.findChild(QTableWidget, "benchmark-results"))}
    assert rows["accuracy"][3] == "≥ 0.8" and rows["accuracy"][4] == "0.8793"
    assert rows["accuracy"][6] == "regressed beyond limit"
    assert rows["accuracy"][7] == "loan-applications-holdout/test"
    assert rows["latency_p95_ms"][2] == "0.1 ms" and rows["latency_p95_ms"][3] == "≤ 50"


@pytest.mark.slow
def test_changing_the_judged_stage_redraws_floors_and_validates_again(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.2.0")
    with qtbot.waitSignal(inspector.validation_finished, timeout=60_000) as blocker:
        inspector.stage_box.setCurrentText("production")
    assert blocker.args[0].stage == "production"
    inspector.tabs.setCurrentWidget(inspector.benchmarks)
    rows = {r[0]: r for r in cells(inspector.benchmarks.findChild(QTableWidget, "benchmark-results"))}
    assert rows["accuracy"][3] == "≥ 0.85"
    assert "for production" in inspector.overview.banner.headline.text()


@pytest.mark.slow
def test_validation_lists_filters_explains_and_reruns(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.2.0")
    tab = inspector.validation
    assert tab.proxy.rowCount() == len(inspector.report.findings) == 4
    assert "MG608" in tab.explanation.toPlainText() and "Why it matters" in tab.explanation.toPlainText()
    assert "How to fix it" in tab.explanation.toPlainText()
    tab.severity_boxes[next(iter(tab.severity_boxes))].setChecked(False)      # hide errors
    assert tab.proxy.rowCount() == 2
    assert {tab.proxy.index(r, 1).data() for r in range(2)} == {"MG609"}
    tab.family_box.setCurrentIndex(tab.family_box.findData("MG4"))
    assert tab.proxy.rowCount() == 0
    tab.family_box.setCurrentIndex(0)
    for box in tab.severity_boxes.values():
        box.setChecked(True)
    tab.table.setFocus()
    tab.table.selectRow(0)
    qtbot.keyClick(tab.table, Qt.Key.Key_Down)                                  # keyboard navigation
    assert "f1 on" in tab.explanation.toPlainText()
    first = inspector.report
    with qtbot.waitSignal(inspector.validation_finished, timeout=60_000):
        qtbot.mouseClick(tab.rerun_button, Qt.MouseButton.LeftButton)
    assert inspector.report is not first and inspector.report.verdict == first.verdict


@pytest.mark.slow
def test_provenance_shows_origin_datasets_and_follows_the_parent_link(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.2.0")
    tab = inspector.provenance
    text = labels(tab)
    assert "https://git.example.com/ml/credit-risk" in text and "runs/20260217-" in text
    datasets = cells(tab.findChild(QTableWidget, "datasets"))
    assert datasets[0][:4] == ["loan-applications", "2025-12", "LicenseRef-ExampleCorp-Internal", "allowed"]
    hyper = dict(cells(tab.findChild(QTableWidget, "hyperparameters")))
    assert hyper["epochs"] == "10"
    link = tab.findChild(QLabel, "parent-link")
    with qtbot.waitSignal(inspector.validation_finished, timeout=60_000):
        link.linkActivated.emit("credit-risk@1.1.0")
    assert inspector.subject.label == "credit-risk@1.1.0"
    current = demo_window.registry_panel.table.currentIndex()
    assert demo_window.registry_panel.model.version_at(current.row()).version == "1.1.0"


@pytest.mark.slow
def test_history_lists_the_audit_events_of_the_version(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "support-embedder@2.1.0")
    rows = cells(inspector.history.findChild(QTableWidget, "history"))
    assert [r[3] for r in rows] == ["version.imported", "review.reject", "review.reject"]
    assert "Trained on a CC-BY-NC-4.0 corpus" in rows[1][4]
    assert len(rows) == len(inspector.subject.detail.events)


@pytest.mark.slow
def test_a_signature_by_a_revoked_key_reads_as_revoked_and_is_not_counted(qtbot, gui_settings,
                                                                           demo_registry_copy):
    database = demo_registry_copy.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        (fingerprint,) = connection.execute(
            "SELECT key_fingerprint FROM signatures JOIN versions ON versions.id = version_id "
            "JOIN models ON models.id = model_id WHERE name = 'credit-risk' AND version = '1.1.0'").fetchone()
        connection.execute("UPDATE trusted_keys SET revoked_at = '2026-11-30 09:00:00', revoked_by = 'admin', "
                           "revoke_reason = 'lost' WHERE fingerprint = ?", (fingerprint,))
    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="ben")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=30_000):
        window.open_registry()
    row = window.registry_panel.model.row_of(name="credit-risk", version="1.1.0")
    assert window.registry_panel.model.index(row, 4).data() == "0"
    inspector = select(qtbot, window, "credit-risk@1.1.0")
    rows = cells(inspector.signatures.findChild(QTableWidget, "signatures"))
    assert [r[4] for r in rows] == ["revoked 2026-11-30"]


@pytest.mark.slow
def test_signatures_lists_what_the_registry_recorded(qtbot, gui_settings, demo_registry_copy, demo_workspace):
    database = demo_registry_copy.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        version_id, digest, signer, fingerprint = connection.execute(
            "SELECT versions.id, digest, signer, key_fingerprint FROM versions "
            "JOIN models ON models.id = model_id JOIN signatures ON signatures.version_id = versions.id "
            "WHERE name = 'credit-risk' AND version = '1.1.0'").fetchone()
        # A second signature over other bytes must stand out, not pass for this version's.
        connection.execute("INSERT INTO signatures (version_id, signer, key_fingerprint, bundle_digest, verified, "
                           "created_at) VALUES (?, 'eve', ?, ?, 1, '2026-11-20 10:00:00')",
                           (version_id, fingerprint, "sha256:" + "0" * 64))
    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="ben")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=30_000):
        window.open_registry()
    row = window.registry_panel.model.row_of(name="credit-risk", version="1.1.0")
    # The Signatures column: the same key counts once, and a signature of other bytes not at all.
    assert window.registry_panel.model.index(row, 4).data() == "1"
    inspector = select(qtbot, window, "credit-risk@1.1.0")
    rows = cells(inspector.signatures.findChild(QTableWidget, "signatures"))
    assert sorted((r[0], r[1], r[3], r[4], r[5]) for r in rows) == sorted([
        (signer, fingerprint, digest, "yes", "this version"),
        ("eve", fingerprint, "sha256:" + "0" * 64, "yes", "OTHER BYTES")])
    assert "No trust store is set" in labels(inspector.signatures)
