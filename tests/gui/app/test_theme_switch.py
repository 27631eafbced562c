"""Switching the theme while the window is open repaints everything in the new theme's inks:
no colour of the old theme stays behind in a style sheet, a label's rich text, a table item or
a model's rows, and every label still reads at WCAG AA on its background."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QTableWidget, QTextEdit, QVBoxLayout, QWidget

from modelgate.core.findings import Waived
from modelgate.gui.app import theme
from tests.gui.contrast import low_contrast
from tests.gui_support import select

VERSION = "credit-risk@1.2.0"
#: The rows of each table model whose ink is read.
FIRST_ROWS = 20
_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def light_inks() -> set[str]:
    """The light theme's inks that the dark theme does not share."""
    return {c.lower() for c in theme.INKS["light"].values()} - {c.lower() for c in theme.INKS["dark"].values()}


def _colour_of(value) -> str | None:
    if isinstance(value, QBrush):
        value = value.color()
    return value.name().lower() if isinstance(value, QColor) else None


def stale_colours(root: QWidget, stale: set[str]) -> list[str]:
    """Where under ``root`` a colour of ``stale`` is still written or painted."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        where = f"{type(widget).__name__} {widget.objectName()!r}"
        texts = {"style sheet": widget.styleSheet()}
        if isinstance(widget, QLabel):
            texts["text"] = widget.text()
        if isinstance(widget, QTextEdit):
            texts["document"] = widget.document().defaultStyleSheet() + widget.toHtml()
        for what, text in texts.items():
            found += [f"{where} {what}: {c}" for c in _HEX.findall(text) if c.lower() in stale]
        if isinstance(widget, QHeaderView):
            continue        # its model is its table's
        if isinstance(widget, QTableWidget):
            found += [f"{where} item ({r}, {c}): {_colour_of(widget.item(r, c).foreground())}"
                      for r in range(min(widget.rowCount(), FIRST_ROWS)) for c in range(widget.columnCount())
                      if widget.item(r, c) is not None and _colour_of(widget.item(r, c).foreground()) in stale]
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            columns = model.columnCount(QModelIndex()) if isinstance(widget, QTableView) else 1
            found += [f"{where} row {r} column {c}: {_colour_of(model.index(r, c).data(role))}"
                      for r in range(min(model.rowCount(QModelIndex()), FIRST_ROWS)) for c in range(columns)
                      for role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole)
                      if _colour_of(model.index(r, c).data(role)) in stale]
    return found


@pytest.fixture
def light_then_dark(qapp):
    before = qapp.palette()
    theme.apply_theme(qapp, theme="light")
    yield lambda: theme.apply_theme(qapp, theme="dark")
    qapp.setPalette(before)


def choose_in_settings(monkeypatch, *, theme_name: str) -> None:
    """Settings, when opened, pick ``theme_name`` and are saved with OK (instead of waiting for a person)."""
    from modelgate.gui.dialogs.settings_dialog import SettingsDialog

    def exec_(dialog) -> bool:
        dialog.fields["theme"].setCurrentText(theme_name)
        dialog.accept()
        return dialog.result() == SettingsDialog.DialogCode.Accepted

    monkeypatch.setattr(SettingsDialog, "exec", exec_)


@pytest.mark.slow
def test_a_live_switch_to_dark_leaves_no_light_ink(qtbot, qapp, gui_settings, demo_registry_copy, light_then_dark,
                                                   monkeypatch):
    from tests.gui_support import make_window

    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="chen")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=30_000):
        window.open_registry()
    select(qtbot, window, VERSION)
    qtbot.waitUntil(lambda: window.review_panel.detail is not None, timeout=30_000)
    now = datetime.now(timezone.utc)
    window.review_panel.waivers.show_waivers((
        Waived("MG402", "legal cleared the pilot", ("carol", "dave"), now + timedelta(days=30), 3),
        Waived("MG501", "card rewrite pending", ("carol", "erin"), now - timedelta(days=2), 4)))
    window.sidebar.choose("queue")
    qtbot.waitUntil(lambda: window.queue_panel.model.rowCount() > 0, timeout=30_000)
    window.sidebar.choose("audit")
    qtbot.waitUntil(lambda: window.audit_view.model.rowCount() > 0, timeout=30_000)
    checks = []
    window.audit_view.chain_verified.connect(checks.append)
    window.audit_view.verify_chain()
    qtbot.waitUntil(lambda: bool(checks), timeout=60_000)
    window.sidebar.choose("registry")
    qtbot.waitUntil(lambda: window.registry_panel.model.standing_of(0) is not None, timeout=30_000)
    stale = light_inks()
    assert stale_colours(window, stale), "the light theme's inks are in use before the switch"

    choose_in_settings(monkeypatch, theme_name="dark")
    window.edit_settings()          # Settings, theme dark, OK: the window stays open
    qapp.processEvents()
    assert theme.current_theme() == "dark"
    left = stale_colours(window, stale)
    assert left == [], "\n".join(left)
    problems = []
    for index in range(window.inspector.tabs.count()):
        window.inspector.tabs.setCurrentIndex(index)
        qapp.processEvents()
        problems += [f"{window.inspector.tabs.tabText(index)}: {p}" for p in low_contrast(window)]
    for view in ("queue", "audit"):
        window.sidebar.choose(view)
        qapp.processEvents()
        problems += [f"{view}: {p}" for p in low_contrast(window)]
    assert problems == [], "\n".join(problems)


def test_the_gate_checklist_repaints_its_marks_in_the_new_theme(qtbot, qapp, light_then_dark):
    from modelgate.core.registry.gates import MET, NOT_MET, GateResult
    from modelgate.gui.review.gate_checklist import GateChecklist

    checklist = GateChecklist()
    qtbot.addWidget(checklist)
    checklist.show_gates([GateResult("validation", MET, "clean"), GateResult("approvals", NOT_MET, "1 of 2"),
                          GateResult("signature", NOT_MET, "the policy requires none", required=False)])
    light = [_colour_of(checklist.item(row, 0).foreground()) for row in range(3)]
    assert light == [theme.ink(name, theme="light") for name in ("good", "bad", "muted")]
    light_then_dark()
    assert [_colour_of(checklist.item(row, c).foreground()) for row in range(3) for c in range(3)] == \
        [theme.ink(name, theme="dark") for name in ("good", "bad", "muted") for _ in range(3)]


def test_a_colouring_runs_again_only_when_the_theme_changes(qtbot, qapp, light_then_dark):
    label, runs = QLabel("held"), []
    qtbot.addWidget(label)
    label.show()

    def colour() -> None:
        runs.append(theme.current_theme())
        label.setStyleSheet(f"color: {theme.GOOD};")

    theme.follow_theme(label, colour)
    theme.apply_theme(qapp, theme="light")   # the same theme again: nothing to repaint
    light_then_dark()
    assert runs == ["light", "dark"] and theme.ink("good", theme="dark") in label.styleSheet()
    theme.follow_theme(label, lambda: runs.append("replaced"))   # the later colouring replaces the earlier
    theme.apply_theme(qapp, theme="light")
    assert runs == ["light", "dark", "replaced", "replaced"]


def test_a_widget_with_its_own_style_sheet_takes_the_new_palette(qtbot, qapp, light_then_dark):
    host = QWidget()
    label = QLabel("Audit log")
    label.setStyleSheet("font-weight: bold;")       # no colour of its own: the palette's text
    QVBoxLayout(host).addWidget(label)
    qtbot.addWidget(host)
    host.show()
    qapp.processEvents()
    light_then_dark()
    qapp.processEvents()
    assert low_contrast(host) == []
