"""The signing station offers a key in a hardware token: the PIN goes in the passphrase field and
the token signs; the signature is verified and recorded like a key file's."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from modelgate.core.demo.registry import ADMIN, SIGNER
from modelgate.core.registry import open_registry
from modelgate.core.registry.signatures import trust_key
from tests.gui_support import make_window
from tests.token_support import PIN

REF = "credit-risk@1.2.0"   # a candidate nobody signed yet
LONG = 120_000


@pytest.mark.slow
def test_the_signing_station_signs_with_a_token_key(qtbot, gui_settings, demo_registry_copy, softhsm_token,
                                                   tmp_path):
    (tmp_path / "token.pub").write_bytes(softhsm_token.public_pem())
    with open_registry(url=demo_registry_copy, user=ADMIN) as admin:
        trust_key(admin, name=SIGNER, public_key=tmp_path / "token.pub")
    window = make_window(qtbot, gui_settings, registry=demo_registry_copy, user=SIGNER)
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=LONG):
        window.open_registry()
    name, version = REF.split("@")

    def shown() -> bool:
        acting = window.version_actions.info
        if acting is None or acting.ref != REF:
            window.registry_panel.select_version(name=name, version=version)
            return False
        return True

    qtbot.waitUntil(shown, timeout=LONG)
    window.version_actions.open_sign()
    station = window.version_actions.dialog
    station.key_edit.setText(softhsm_token.uri())
    qtbot.waitUntil(lambda: station.refusal() == "Enter the token's PIN.", timeout=LONG)
    station.certificate_edit.setText(str(tmp_path / "cert.pem"))
    assert "token key" in station.refusal()
    station.certificate_edit.clear()
    station.passphrase_edit.setText(PIN)
    qtbot.waitUntil(station.sign_button.isEnabled, timeout=LONG)
    with qtbot.waitSignal(station.signed, timeout=LONG) as signed:
        qtbot.mouseClick(station.sign_button, Qt.MouseButton.LeftButton)
    assert [s.signer for s in signed.args[0]] == [SIGNER]
    assert station.passphrase_edit.text() == ""        # the PIN left its field when signing began
    station.close()
    with open_registry(url=demo_registry_copy, user=ADMIN) as admin:
        assert admin.show(name=name, version=version).info.signatures == 1
