"""Waivers in the desktop app: the findings table marks a waived finding and the review panel
shows a badge per waiver, the reason on hover."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from PySide6.QtCore import Qt

from modelgate.core.findings import Finding, Location, Severity, Waived
from modelgate.gui.inspector.findings_model import FindingsModel
from modelgate.gui.review.waiver_badges import WaiverBadges

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ACTIVE = Waived("MG402", "legal cleared the pilot", ("carol", "dave"), NOW + timedelta(days=30), 3)
EXPIRED = Waived("MG501", "card rewrite pending", ("carol", "erin"), NOW - timedelta(days=2), 4)


def test_the_findings_table_marks_a_waived_finding(qtbot):
    model = FindingsModel()
    plain = Finding("MG501", Severity.ERROR, "the model card lacks a section", Location("MODEL_CARD.md"))
    waived = Finding("MG402", Severity.ERROR, "license CC-BY-NC-4.0 is denied", Location(), waived=ACTIVE)
    model.set_findings([waived, plain])
    assert model.index(0, 0).data() == "error · waived" and model.index(1, 0).data() == "error"
    hover = model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert "waived until 2026-12-31 by carol and dave: legal cleared the pilot" in hover
    assert "waived" not in model.index(1, 2).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(1, 1).data(Qt.ItemDataRole.ForegroundRole) is None


def test_the_review_panel_badges_each_waiver(qtbot, tmp_path: Path):
    badges = WaiverBadges()
    qtbot.addWidget(badges)
    badges.show_waivers((), now=NOW)
    assert badges.isHidden()
    badges.show_waivers((ACTIVE, EXPIRED), now=NOW)
    assert not badges.isHidden()
    assert "[waived MG402]" in badges.text() and "[waiver expired MG501]" in badges.text()
    assert "MG402 until 2026-12-31, requested and confirmed by carol and dave: legal cleared the pilot" \
        in badges.toolTip()
    assert "MG501 expired on 2026-11-29" in badges.toolTip()
