"""The rollback dialog judges today's production gates; break-glass is an admin's, confirmed,
and the listing and the inspector's Overview flag a break-glass restore and a damaged copy."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from modelgate.core.demo.registry import ADMIN
from modelgate.core.registry import open_registry
from modelgate.core.registry.gates import MET, NOT_MET, GateResult
from modelgate.core.registry.signatures import revoke_key, trusted_keys
from modelgate.gui.registry.model import COLUMNS
from tests.gui_support import make_window

NAME = "defect-detector"
LONG = 120_000


@pytest.fixture
def revoked(demo_registry_copy):
    """The demo registry with the release officer's key revoked: 1.0.0 has no signature that counts."""
    with open_registry(url=demo_registry_copy, user=ADMIN) as admin:
        (key,) = [k for k in trusted_keys(admin) if k.name == "eve"]
        revoke_key(admin, fingerprint=key.fingerprint, reason="leaked")
    return demo_registry_copy


#: The listing's stage column.
STAGE = [key for key, _ in COLUMNS].index("stage")

def _rollback_dialog(qtbot, settings, url, user):
    window = make_window(qtbot, settings, registry=url, user=user)
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=LONG):
        window.open_registry()

    def shown() -> bool:
        acting = window.version_actions.info
        if acting is None or acting.ref != f"{NAME}@0.9.0":
            window.registry_panel.select_version(name=NAME, version="0.9.0")
            return False
        return acting.stage == "production"

    qtbot.waitUntil(shown, timeout=LONG)
    window.version_actions.open_rollback()
    dialog = window.version_actions.dialog
    qtbot.waitUntil(lambda: dialog.target == "1.0.0" and dialog.gates is not None, timeout=LONG)
    return window, dialog


@pytest.mark.slow
def test_an_approver_sees_the_failed_gate_and_is_not_offered_break_glass(qtbot, gui_settings, revoked):
    window, dialog = _rollback_dialog(qtbot, gui_settings, revoked, "dana")
    assert dialog.checklist.state_of("signature") == NOT_MET
    assert "no longer trusted" in dialog.checklist.reason_of("signature")
    assert dialog.checklist.state_of("stored copy") == MET
    dialog.reason_edit.setText("line 3 is down")
    dialog.confirm.setChecked(True)
    assert not dialog.may_break_glass and not dialog.break_glass.isVisible()
    assert not dialog.rollback_button.isEnabled()
    assert "only an admin" in dialog.rollback_button.toolTip()
    dialog.close()
    window.close()


@pytest.mark.slow
def test_an_admin_breaks_glass_after_a_confirmation_and_every_screen_says_so(qtbot, gui_settings, revoked,
                                                                           monkeypatch):
    window, dialog = _rollback_dialog(qtbot, gui_settings, revoked, ADMIN)
    assert dialog.may_break_glass and dialog.break_glass.isVisible()
    dialog.reason_edit.setText("line 3 is down")
    dialog.confirm.setChecked(True)
    assert not dialog.rollback_button.isEnabled() and "tick break-glass" in dialog.rollback_button.toolTip()
    dialog.break_glass.setChecked(True)
    assert dialog.rollback_button.isEnabled() and dialog.rollback_button.text() == "Break glass and roll back"

    asked = []
    monkeypatch.setattr(dialog, "confirm_break_glass", lambda: asked.append(True) or False)
    qtbot.mouseClick(dialog.rollback_button, Qt.MouseButton.LeftButton)
    assert asked and not dialog.running and dialog.result is None      # declined: nothing happens

    monkeypatch.setattr(dialog, "confirm_break_glass", lambda: True)
    with qtbot.waitSignal(dialog.rolled_back, timeout=LONG) as rolled:
        qtbot.mouseClick(dialog.rollback_button, Qt.MouseButton.LeftButton)
    result = rolled.args[0]
    assert result.break_glass and result.broken == ("signature",) and "BREAK-GLASS" in dialog.message.text()
    dialog.close()

    model = window.registry_panel.model
    window.registry_panel.model.refresh()
    qtbot.waitUntil(lambda: model.row_of(name=NAME, version="1.0.0") is not None, timeout=LONG)
    qtbot.waitUntil(lambda: "break-glass" in model.data(model.index(model.row_of(name=NAME, version="1.0.0"), STAGE)),
                    timeout=LONG)
    tip = model.data(model.index(model.row_of(name=NAME, version="1.0.0"), STAGE), Qt.ItemDataRole.ToolTipRole)
    assert ADMIN in tip and "line 3 is down" in tip

    from modelgate.gui.inspector.overview import OverviewTab

    with open_registry(url=revoked, user=ADMIN) as registry:
        detail = registry.show(name=NAME, version="1.0.0")
    assert any("break-glass" in line for line in _attention_texts(OverviewTab._attention(detail)))
    window.close()


def _attention_texts(widgets) -> list[str]:
    from PySide6.QtWidgets import QLabel

    return [label.text() for widget in widgets for label in widget.findChildren(QLabel)]


def test_the_checklist_marks_a_gate_that_is_not_required_as_neutral(qtbot):
    from modelgate.gui.review.gate_checklist import UNMET, GateChecklist

    checklist = GateChecklist()
    qtbot.addWidget(checklist)
    checklist.show_gates([GateResult("signature", NOT_MET, "not required for staging by the policy",
                                     required=False),
                          GateResult("validation", NOT_MET, "1 error(s)")])
    assert checklist.item(0, 0).text() == "–" and checklist.item(0, 2).text() == "not required"
    assert checklist.item(1, 0).text() == UNMET[0]
    assert checklist.item(0, 0).foreground().color().name() != checklist.item(1, 0).foreground().color().name()


def test_a_damaged_version_is_flagged_in_the_listing_and_the_overview(qtbot, gui_settings, demo_registry_copy):
    from modelgate.core.registry.damage import fsck
    from modelgate.gui.inspector.overview import OverviewTab
    from tests.attacks._rollback_support import flip_byte, model_file

    with open_registry(url=demo_registry_copy, user=ADMIN) as admin:
        flip_byte(model_file(admin.bundle_path(name="credit-risk", version="1.2.0")))
        assert not fsck(admin).ok
        detail = admin.show(name="credit-risk", version="1.2.0")
    texts = _attention_texts(OverviewTab._attention(detail))
    assert any("damaged" in text for text in texts) and any("changed: model/" in text for text in texts)

    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user="ben")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=LONG):
        window.open_registry()
    model = window.registry_panel.model
    row = model.row_of(name="credit-risk", version="1.2.0")
    assert "⚠ damaged" in model.data(model.index(row, STAGE))
    assert "registry repair" in model.data(model.index(row, STAGE), Qt.ItemDataRole.ToolTipRole)
    window.close()
