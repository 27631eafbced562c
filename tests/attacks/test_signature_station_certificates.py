"""The signing station signs with a certificate chained to the registry's trusted CA."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from modelgate.core.registry import init_registry, open_registry
from modelgate.core.registry.certificates import trust_ca
from tests.attacks._signature_vectors import PASSPHRASE, make_pki
from tests.gui_support import make_window
from tests.registry_support import NAME, new_bundle

LONG = 120_000


@pytest.mark.slow
def test_the_signing_station_signs_with_a_certificate_and_shows_its_chain(qtbot, gui_settings, tmp_path, template):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    pki = make_pki(tmp_path / "pki")
    pki.leaf = pki.issue(subject="officer")
    with init_registry(url=url, user="root") as admin:
        admin.add_user(name="alice", roles=["submitter"])
        admin.add_user(name="officer", roles=["signer"])
        trust_ca(admin, name="example", path=pki.ca_file)
    with open_registry(url=url, user="alice") as alice:
        alice.import_bundle(path=new_bundle(tmp_path, template))

    window = make_window(qtbot, gui_settings, registry=url, user="officer")
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=LONG):
        window.open_registry()
    window.registry_panel.select_version(name=NAME, version="1.0.0")
    qtbot.waitUntil(lambda: window.version_actions.info is not None, timeout=LONG)
    window.version_actions.open_sign()
    station = window.version_actions.dialog
    qtbot.waitUntil(lambda: bool(station.files), timeout=LONG)

    station.key_edit.setText(str(pki.key_file))
    station.chain_edit.setText(str(pki.intermediate_file))
    station.passphrase_edit.setText(PASSPHRASE.decode())
    assert not station.sign_button.isEnabled() and "signing certificate" in station.sign_button.toolTip()
    station.certificate_edit.setText(str(pki.leaf_file()))
    assert station.sign_button.isEnabled(), station.sign_button.toolTip()
    qtbot.waitUntil(lambda: station.verify_button.isEnabled(), timeout=LONG)  # the first check, unsigned
    with qtbot.waitSignal(station.verified, timeout=LONG, check_params_cb=lambda r: bool(r.checks)) as verified:
        qtbot.mouseClick(station.sign_button, Qt.MouseButton.LeftButton)
    report = verified.args[0]
    assert report.passed and [(c.signer, c.signer_kind) for c in report.checks] == [
        ("CN=officer,O=Example Org", "certificate")]
    assert "recorded" in station.message.text() and "officer" in station.message.text()
    station.close()
    window.close()
