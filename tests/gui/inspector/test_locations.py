"""The Overview says where a version's bytes live: the registry's store, and each push or export."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from PySide6.QtWidgets import QLabel, QLineEdit, QTableWidget

from modelgate.core.registry.audit import AuditEvent
from modelgate.gui.inspector.overview import OverviewTab

DIGEST = "ab" * 32


def _detail(*events: AuditEvent, stored_at: str = ""):
    folder = Path("/data/registry.store/ab") / DIGEST
    return SimpleNamespace(store_path=folder, info=SimpleNamespace(digest=DIGEST), events=list(events),
                           stored_at=stored_at or str(folder))


def _event(action: str, seq: int, **payload) -> AuditEvent:
    return AuditEvent(seq=seq, created_at="2026-12-07T10:00:00+00:00", actor="sam", action=action,
                      subject="tiny@1.0.0", payload=payload)


def test_pushes_and_exports_are_listed_with_their_manifest_digests(qtbot):
    detail = _detail(_event("promote", 1),
                     _event("store.pushed", 2, reference="oci://registry:5000/models/tiny:1.0.0",
                            manifest_digest="sha256:" + "c" * 64),
                     _event("store.exported", 3, reference="oci:/media/usb/tiny:1.0.0", manifest_digest="sha256:" + "d" * 64))
    (box,) = OverviewTab._locations(detail)
    qtbot.addWidget(box)
    table = box.findChild(QTableWidget, "locations")
    rows = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
    assert [row[1:4] for row in rows] == [
        ["pushed", "oci://registry:5000/models/tiny:1.0.0", "sha256:" + "c" * 64],
        ["exported", "oci:/media/usb/tiny:1.0.0", "sha256:" + "d" * 64]]
    assert rows[0][4] == "sam" and rows[0][0].startswith("2026-12-07")
    assert any(DIGEST in shown.text() for shown in box.findChildren(QLabel) + box.findChildren(QLineEdit))


def test_a_version_only_in_the_store_says_so(qtbot):
    (box,) = OverviewTab._locations(_detail(_event("promote", 1)))
    qtbot.addWidget(box)
    assert box.findChild(QTableWidget, "locations") is None
    assert any("Only in the registry's store" in label.text() for label in box.findChildren(QLabel))


def test_a_bundle_outside_a_registry_has_no_locations_section():
    assert OverviewTab._locations(None) == []


def test_a_version_in_an_oci_store_names_its_repository_and_manifest_digest(qtbot):
    where = "oci://registry:5000/models/tiny@sha256:" + "e" * 64
    (box,) = OverviewTab._locations(_detail(stored_at=where))
    qtbot.addWidget(box)
    texts = [shown.text() for shown in box.findChildren(QLabel) + box.findChildren(QLineEdit)]
    assert where in texts and any("OCI registry" in text for text in texts)
    (folder_box,) = OverviewTab._locations(_detail())
    qtbot.addWidget(folder_box)
    assert any("(folder)" in label.text() for label in folder_box.findChildren(QLabel))
