"""Import from an OCI image layout in the app: verified first, shown, then imported."""

from __future__ import annotations

import pytest

from modelgate.core.store import modelpack
from tests.oci_registry import skopeo_raw


@pytest.fixture
def station(qtbot, demo_registry_copy, tmp_path):
    """A layout exported from the demo registry, and a fresh registry (the air-gapped station)
    opened the way the app opens one."""
    from PySide6.QtWidgets import QWidget

    from modelgate.core.registry import open_registry
    from modelgate.core.registry.publish import export_layout
    from modelgate.gui.app.progress_panel import ProgressPanel
    from modelgate.gui.ops.registry import RegistryConnection
    from modelgate.gui.ops.workers import Workers
    from tests.registry_support import Team

    source = open_registry(url=demo_registry_copy, user="demo-admin")
    try:
        export_layout(source, name="credit-risk", version="1.1.0", dest=tmp_path / "usb")
    finally:
        source.close()
    Team(f"sqlite:///{tmp_path}/station.db", None).close()
    connection = RegistryConnection.open(url=f"sqlite:///{tmp_path}/station.db", user="root")
    workers = Workers()
    parent, panel = QWidget(), ProgressPanel()
    qtbot.addWidget(parent)
    qtbot.addWidget(panel)
    yield {"parent": parent, "connection": connection, "workers": workers, "progress_panel": panel}, tmp_path / "usb"
    workers.shutdown(wait=True)
    connection.close()


def _dialog(qtbot, parts):
    from modelgate.gui.dialogs.oci_import import OciImportDialog

    dialog = OciImportDialog(**parts)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_verification_is_shown_before_the_import(qtbot, station):
    from PySide6.QtCore import Qt

    parts, layout = station
    dialog = _dialog(qtbot, parts)
    assert not dialog.import_button.isEnabled()
    dialog.source_field.setText(f"oci:{layout}:1.1.0")
    qtbot.mouseClick(dialog.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=60_000)
    manifest = skopeo_raw(f"oci:{layout}:1.1.0")
    assert manifest["artifactType"] == modelpack.ARTIFACT_TYPE
    text = dialog.status.text()
    assert "credit-risk@1.1.0" in text and "every digest verified" in text and "1 signature(s)" in text
    assert parts["connection"].registry.list_versions() == []        # nothing imported yet
    with qtbot.waitSignal(dialog.imported, timeout=60_000) as imported:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert imported.args[0].created
    assert [(v.name, v.version) for v in parts["connection"].registry.list_versions()] == [("credit-risk", "1.1.0")]


def test_a_damaged_layout_is_refused_and_cannot_be_imported(qtbot, station):
    from PySide6.QtCore import Qt

    parts, layout = station
    weight = next(layer for layer in skopeo_raw(f"oci:{layout}:1.1.0")["layers"]
                  if layer["mediaType"] == modelpack.WEIGHT)
    blob = layout / "blobs" / "sha256" / weight["digest"].removeprefix("sha256:")
    data = bytearray(blob.read_bytes())
    data[0] ^= 1
    blob.write_bytes(bytes(data))
    dialog = _dialog(qtbot, parts)
    dialog.source_field.setText(f"oci:{layout}:1.1.0")
    qtbot.mouseClick(dialog.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.verify_button.isEnabled(), timeout=60_000)
    assert "does not hash" in dialog.status.text() and not dialog.import_button.isEnabled()
    assert parts["connection"].registry.list_versions() == []
