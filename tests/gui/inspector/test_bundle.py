"""A bundle opened on its own (``modelgate gui path/to/bundle``), and the model card sanitiser."""

from __future__ import annotations

import tarfile

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QLabel, QMessageBox, QTableWidget

from modelgate.gui.inspector.card_html import render_card
from tests.factory import make_bundle
from tests.gui_support import make_window

HOSTILE_CARD = """\
---
model_name: tiny-classifier
license: Apache-2.0
---
# tiny-classifier 1.0.0

Hello <script>document.title = 'owned'</script> reviewer.

<img src="x" onerror="document.title = 'owned'">
<img src="https://tracker.example/pixel.png?who=reviewer" alt="pixel">
![chart](https://tracker.example/chart.png) ![local](images/plot.png)

[the docs](javascript:alert(document.cookie)) and <a href="JaVaScRiPt:alert(1)">more</a>
<a href="https://example.com/model-docs" onclick="steal()">the real docs</a>
<iframe src="https://tracker.example/frame"></iframe><form action="https://tracker.example"><input></form>
<div style="background: url(https://tracker.example/bg.png)">styled</div>

## Intended use
Scoring tiny things in tests, for the test-suite and nothing else.
"""


def open_alone(qtbot, settings, path):
    window = make_window(qtbot, settings)
    with qtbot.waitSignal(window.inspector.validation_finished, timeout=60_000):
        window.open_bundle(path=path)
    return window


@pytest.fixture
def hostile(tmp_path):
    root = make_bundle(tmp_path / "hostile", card=HOSTILE_CARD)
    (root / "images").mkdir()
    from PySide6.QtGui import QColor, QImage

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(QColor("#2e7d32"))
    image.save(str(root / "images" / "plot.png"))
    return root


def test_the_sanitiser_leaves_nothing_active():
    card = render_card(HOSTILE_CARD.split("---\n", 2)[2])
    html = card.html.lower()
    for active in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<form", "<input", "style="):
        assert active not in html, active
    assert 'src="https://' not in html and "tracker.example/bg.png" not in html
    assert card.blocked_images == ["https://tracker.example/pixel.png?who=reviewer", "https://tracker.example/chart.png"]
    assert card.local_images == ["x", "images/plot.png"]
    assert 'href="https://example.com/model-docs"' in html and "styled" in html


@pytest.mark.slow
def test_a_hostile_card_renders_inert_in_the_app(qtbot, gui_settings, hostile, monkeypatch):
    window = make_window(qtbot, gui_settings)
    requested = []
    window.inspector.card.browser.resource_requested.connect(requested.append)
    with qtbot.waitSignal(window.inspector.validation_finished, timeout=60_000):
        window.open_bundle(path=hostile)
    window.inspector.tabs.setCurrentWidget(window.inspector.card)
    browser = window.inspector.card.browser
    browser.grab()                                   # paint it: images are asked for when drawn
    html = browser.toHtml().lower()
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert "image “pixel” not loaded" in browser.toPlainText()
    assert window.windowTitle() == "ModelGate — hostile"
    assert all(not url.startswith(("http", "//", "file")) for url in requested), requested
    assert "images/plot.png" in browser.resources                     # inside the bundle: shown

    opened = []
    monkeypatch.setattr("modelgate.gui.dialogs.link_confirm.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toString()) or True)
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Open])
    monkeypatch.setattr(QMessageBox, "exec", lambda self: next(answers))
    link = QUrl("https://example.com/model-docs")
    browser.anchorClicked.emit(link)                                    # the user declines
    assert opened == []
    with qtbot.waitSignal(window.inspector.card.link_opened):
        browser.anchorClicked.emit(link)                                # the user confirms
    assert opened == ["https://example.com/model-docs"]
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    browser.anchorClicked.emit(QUrl("javascript:alert(1)"))             # never opened, whatever the answer
    assert opened == ["https://example.com/model-docs"]


@pytest.mark.slow
def test_a_lone_bundle_shows_every_tab_without_a_registry(qtbot, gui_settings, demo_workspace):
    window = open_alone(qtbot, gui_settings, demo_workspace / "bundles" / "defect-detector-1.0.0")
    inspector = window.inspector
    assert not window.registry_panel.isVisible()
    assert inspector.title.text() == "defect-detector-1.0.0 · not in a registry"
    assert inspector.subject.detail is None and inspector.subject.stage == "candidate"
    assert inspector.report.stage == "candidate" and inspector.report.policy_source == "default policy"
    history = "\n".join(label.text() for label in inspector.history.findChildren(QLabel))
    assert "not in a registry, so it has no recorded history" in history
    assert "no signature is recorded" in "\n".join(label.text() for label in inspector.signatures.findChildren(QLabel))
    assert inspector.interface.artifact_box.count() == 2
    inspector.tabs.setCurrentWidget(inspector.benchmarks)
    with qtbot.waitSignal(inspector.benchmarks.chart.drawn, timeout=120_000) as drawn:
        pass
    assert len(drawn.args[0].titles) == 4
    assert inspector.license.findChild(QTableWidget, "license-terms").item(0, 0).text() == "MIT"


def test_a_lone_archive_is_extracted_privately_and_removed_afterwards(qtbot, gui_settings, demo_workspace,
                                                                      tmp_path, private_tmp):
    archive = tmp_path / "credit-risk-1.1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(demo_workspace / "bundles" / "credit-risk-1.1.0", arcname="credit-risk-1.1.0")
    window = open_alone(qtbot, gui_settings, archive)
    assert window.inspector.subject.label == "credit-risk@1.1.0"
    assert window.inspector.subject.facts.bundle.is_archive
    assert [p.name for p in private_tmp.iterdir()][0].startswith("modelgate-bundle-")
    window.close()
    assert list(private_tmp.iterdir()) == []


def test_a_lone_bundle_uses_the_policy_given(qtbot, gui_settings, demo_workspace):
    from modelgate.gui.app.main_window import SessionOverrides

    window = make_window(qtbot, gui_settings)
    window.overrides = SessionOverrides(policy=demo_workspace / "policy.yaml")
    with qtbot.waitSignal(window.inspector.validation_finished, timeout=60_000):
        window.open_bundle(path=demo_workspace / "bundles" / "support-embedder-2.1.0")
    assert window.inspector.report.policy_name == "example-corp-demo"
    assert window.inspector.overview.banner.passed is False


@pytest.mark.parametrize("broken", ["policy", "manifest"])
def test_a_broken_policy_or_manifest_is_explained_not_shown_half(qtbot, gui_settings, template, tmp_path, broken):
    import shutil

    from modelgate.gui.app.main_window import SessionOverrides

    bundle = tmp_path / "bundle"
    shutil.copytree(template, bundle)
    window = make_window(qtbot, gui_settings)
    if broken == "policy":
        (tmp_path / "policy.yaml").write_text("policy_format: modelgate.policy/v1\nname: [unclosed\n")
        window.overrides = SessionOverrides(policy=tmp_path / "policy.yaml")
    else:
        (bundle / "bundle.yaml").write_text("name: [unclosed\n")
    with qtbot.waitSignal(window.inspector.loading_failed, timeout=60_000) as failed:
        window.open_bundle(path=bundle)
    box = next(b for b in window.findChildren(QMessageBox) if b.objectName() == "error-dialog")
    assert box.text() == "Opening bundle · not in a registry failed"
    expected = "policy" if broken == "policy" else "bundle.yaml"
    assert expected in failed.args[0] and expected in box.informativeText()
    assert "Traceback" not in box.informativeText()
    assert window.inspector.stack.currentWidget() is window.inspector.empty


def test_a_bundle_opened_alone_is_judged_like_the_command_line_judges_it(qtbot, gui_settings, tmp_path, capsys):
    """No registry vouches for a folder's signatures: an unsigned bundle misses the release
    signature production asks for (MG801), exactly as ``modelgate validate`` says."""
    import json

    from modelgate.core.cli.main import main

    bundle = make_bundle(tmp_path / "unsigned")
    window = open_alone(qtbot, gui_settings, bundle)
    with qtbot.waitSignal(window.inspector.validation_finished, timeout=60_000):
        window.inspector.stage_box.setCurrentText("production")
    shown = window.inspector.report
    assert shown.stage == "production" and "MG801" in {f.rule for f in shown.findings}
    assert "MG801" in window.inspector.overview.banner.details.text()
    main(["validate", str(bundle), "--stage", "production", "--format", "json"])
    said = json.loads(capsys.readouterr().out)["findings"]
    assert {(f["rule"], f["location"]["file"]) for f in said} == {(f.rule, f.location.file) for f in shown.findings}
