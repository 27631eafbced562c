"""Pushing a version from the app, offscreen, to a real registry started for the test."""

from __future__ import annotations

import pytest

from modelgate.core.store import modelpack
from tests.oci_registry import DistributionRegistry, skopeo_raw


@pytest.fixture(scope="module")
def oci():
    server = DistributionRegistry()
    yield server
    server.stop()


@pytest.fixture
def pushing(qtbot, demo_registry_copy):
    from PySide6.QtWidgets import QWidget

    from modelgate.gui.app.progress_panel import ProgressPanel
    from modelgate.gui.ops.registry import RegistryConnection
    from modelgate.gui.ops.workers import Workers

    connection = RegistryConnection.open(url=demo_registry_copy, user="demo-admin")
    workers = Workers()
    parent, panel = QWidget(), ProgressPanel()
    qtbot.addWidget(parent)
    qtbot.addWidget(panel)
    yield {"parent": parent, "connection": connection, "workers": workers, "progress_panel": panel}
    workers.shutdown(wait=True)
    connection.close()


def _dialog(qtbot, pushing, ref: str):
    from modelgate.gui.dialogs.push_dialog import PushDialog

    name, version = ref.split("@")
    dialog = PushDialog(name=name, version=version, **pushing)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_production_version_is_pushed_with_progress_and_its_digest_shown(qtbot, pushing, oci):
    from PySide6.QtCore import Qt

    dialog = _dialog(qtbot, pushing, "credit-risk@1.1.0")
    dialog.target_field.setText(f"oci://{oci.host}/demo/credit-risk")
    dialog.insecure.setChecked(True)
    with qtbot.waitSignal(dialog.pushed, timeout=120_000) as pushed:
        qtbot.mouseClick(dialog.push_button, Qt.MouseButton.LeftButton)
        assert not dialog.push_button.isEnabled()
    result = pushed.args[0]
    assert result.digest in dialog.status.text() and "credit-risk:1.1.0" in dialog.status.text()
    assert skopeo_raw(f"docker://{oci.host}/demo/credit-risk:1.1.0")["artifactType"] == modelpack.ARTIFACT_TYPE
    events = pushing["connection"].registry.audit_log(action="store.pushed")
    assert [e.payload["manifest_digest"] for e in events] == [result.digest]


def test_a_retired_version_is_refused_in_the_dialog(qtbot, pushing, oci):
    from PySide6.QtCore import Qt

    dialog = _dialog(qtbot, pushing, "credit-risk@1.0.0")     # deprecated: withdrawn, not published
    dialog.target_field.setText(f"oci://{oci.host}/demo/refused")
    dialog.insecure.setChecked(True)
    qtbot.mouseClick(dialog.push_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.push_button.isEnabled(), timeout=120_000)
    assert "retired version is not pushed" in dialog.status.text()
    assert oci.get("/v2/demo/refused/manifests/1.0.0", accept=modelpack.MANIFEST_MEDIA_TYPE)[0] == 404


def test_a_bad_reference_is_explained_before_anything_runs(qtbot, pushing):
    from PySide6.QtCore import Qt

    dialog = _dialog(qtbot, pushing, "credit-risk@1.1.0")
    dialog.target_field.setText("https://registry.example.com/x")
    qtbot.mouseClick(dialog.push_button, Qt.MouseButton.LeftButton)
    assert dialog.handle is None and "oci://" in dialog.status.text()


@pytest.mark.slow
def test_only_signers_and_admins_get_the_push_action(qtbot, demo_window):
    from tests.gui_support import select

    select(qtbot, demo_window, "credit-risk@1.1.0")
    action = demo_window.version_actions.actions["push"]
    assert not action.isEnabled() and "signer or an admin" in action.toolTip()
