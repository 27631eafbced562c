"""Every message the app shows is in human words: no Python repr, no traceback, ever.

The error paths a reviewer meets are driven for real (a tampered store, a registry that is not
there, a bundle that cannot be read, a signature that is garbage, an OCI registry nobody answers
at, a file the system refuses, a defect), and then everything on screen is collected: labels,
buttons, text panes, tooltips, every cell and tooltip of every table and list, message boxes,
dialog status lines and the status bar's messages. None may look like Python talking.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.gui_support import make_window, select

#: What Python prints that a person should never read: a dataclass or namedtuple repr
#: (``Digest(algorithm='sha256', …)``), a default object repr, a traceback, a dict repr.
REPR = re.compile(r"\b[A-Z]\w*\((?:[a-z_]\w*=|b?['\"])|<[\w.]+ object at 0x[0-9a-fA-F]+>|Traceback \(most recent"
                  r"|File \"[^\"]+\", line \d+|[{,]\s*'\w+':\s")


def reprs(texts) -> list[str]:
    return [text for text in texts if text and REPR.search(text)]


def test_the_scanner_knows_a_repr_when_it_sees_one():
    leaks = ["changed (Digest(algorithm='sha256', digest_value=b'\\x01'))", "<modelgate.core.x.Y object at 0x7f3a>",
             "Traceback (most recent call last):", "{'path': 'model.onnx', 'size': 3}",
             "StoreCheck(digest='ab', missing=())", 'File "/x/y.py", line 3, in f']
    fine = ["MG104 model/credit-risk.onnx: sha256 is 13ba…, manifest says cefb…", "No version matches 'xyz'",
            "Registry URL: 'mysql://db' is not a registry URL", 'changed: ["model/a.onnx"]',
            "Promote (Ctrl+Shift+P)", "ModelGate (the default)"]
    assert reprs(leaks) == leaks and reprs(fine) == []


def shown_texts(root) -> list[str]:
    """Every text ``root`` (a window or dialog) and its children show or offer on hover."""
    from PySide6.QtCore import QModelIndex, Qt
    from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QLabel, QLineEdit, QMessageBox, QTabWidget,
                                   QTextEdit, QWidget)

    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        texts.append(widget.toolTip())
        texts.append(widget.statusTip())
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QTextEdit):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
        elif isinstance(widget, QMessageBox):
            texts += [widget.text(), widget.informativeText()]
        elif isinstance(widget, QTabWidget):
            texts += [widget.tabText(i) for i in range(widget.count())]
            texts += [widget.tabToolTip(i) for i in range(widget.count())]
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            try:
                columns = model.columnCount(QModelIndex())
            except TypeError:       # a list model: one column, its count not public
                columns = 1
            for row in range(min(model.rowCount(QModelIndex()), 500)):
                for column in range(columns):
                    for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                        value = model.data(model.index(row, column), role)
                        if isinstance(value, str):
                            texts.append(value)
    return [text for text in texts if text]


@pytest.fixture
def status_messages() -> list[str]:
    """Every message the status bar of a window made by :func:`watched` showed during the test."""
    return []


def watched(window, seen: list[str]):
    window.statusBar().messageChanged.connect(seen.append)
    return window


def _stored_folder(url: str, name: str, version: str) -> Path:
    database = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as db:
        (digest,) = db.execute("SELECT v.digest FROM versions v JOIN models m ON m.id = v.model_id "
                               "WHERE m.name = ? AND v.version = ?", (name, version)).fetchone()
    return database.parent / "registry.store" / digest[:2] / digest


def _tamper(path: Path) -> None:
    for item in (path.parent, path):
        item.chmod(item.stat().st_mode | 0o200)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def _every_tab(qtbot, window) -> list[str]:
    texts = []
    tabs = window.inspector.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        qtbot.wait(300)
        texts += shown_texts(window)
    return texts


@pytest.mark.slow
def test_a_tampered_store_is_told_in_words(qtbot, gui_settings, demo_registry_copy, status_messages):
    folder = _stored_folder(demo_registry_copy, "credit-risk", "1.1.0")
    _tamper(sorted((folder / "model").rglob("*.onnx"))[0])
    window = watched(make_window(qtbot, gui_settings, registry=demo_registry_copy, user="ben"), status_messages)
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=30_000):
        window.open_registry()
    select(qtbot, window, "credit-risk@1.1.0")
    texts = _every_tab(qtbot, window) + status_messages
    assert any("credit-risk.onnx" in t and ("sha256 is" in t or "changed" in t) for t in texts), \
        "the tampering was not shown at all"
    assert reprs(texts) == []


@pytest.mark.slow
def test_bad_bundles_and_a_garbage_signature_are_told_in_words(qtbot, gui_settings, demo_workspace, tmp_path,
                                                               status_messages):
    window = watched(make_window(qtbot, gui_settings), status_messages)
    signed = tmp_path / "signed"
    shutil.copytree(demo_workspace / "bundles" / "credit-risk-1.1.0", signed)
    (signed / "signatures").mkdir(exist_ok=True)
    (signed / "signatures" / "forged.sig").write_text('{"mediaType": "application/vnd.dev.sigstore.bundle+json", '
                                                      '"dsseEnvelope": {"payload": "e30=", "signatures": []}}')
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bundle.yaml").write_text("name: [unclosed\nversion: {: :}\n", encoding="utf-8")
    garbage = tmp_path / "bundle.zip"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    texts = []
    with qtbot.waitSignal(window.inspector.validation_finished, timeout=60_000):
        window.open_bundle(path=signed)
    texts += _every_tab(qtbot, window)
    outcomes = []
    window.inspector.loading_failed.connect(outcomes.append)
    window.inspector.validation_finished.connect(outcomes.append)
    for path in (broken, garbage):
        outcomes.clear()
        window.open_bundle(path=path)
        qtbot.waitUntil(lambda: bool(outcomes), timeout=60_000)
        texts += _every_tab(qtbot, window)
    texts += status_messages
    assert any("forged.sig" in t for t in texts), "the garbage signature was not shown"
    assert reprs(texts) == []


@pytest.mark.slow
def test_a_missing_registry_and_an_unreachable_oci_registry_are_told_in_words(qtbot, gui_settings, demo_registry_copy,
                                                                              tmp_path, status_messages):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from modelgate.gui.dialogs.oci_import import OciImportDialog

    window = watched(make_window(qtbot, gui_settings), status_messages)
    window.open_registry(url=f"sqlite:///{tmp_path / 'nowhere' / 'registry.db'}")
    qtbot.waitUntil(lambda: bool(window.findChildren(QMessageBox)), timeout=30_000)
    texts = shown_texts(window)
    assert any("no registry at" in t for t in texts)
    with qtbot.waitSignal(window.registry_opened, timeout=30_000):
        window.open_registry(url=demo_registry_copy, user="ben")
    dialog = OciImportDialog(connection=window.connection, workers=window.workers, progress_panel=window.progress,
                             parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.source_field.setText("oci://127.0.0.1:9/models/credit-risk:1.1.0")
    dialog.insecure.setChecked(True)
    qtbot.mouseClick(dialog.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.verify_button.isEnabled() and bool(dialog.status.text()), timeout=60_000)
    texts += shown_texts(dialog) + status_messages
    assert "127.0.0.1:9" in dialog.status.text()
    assert reprs(texts) == []


def test_a_refused_file_and_a_defect_are_told_in_words(qapp):
    from modelgate.gui.dialogs.error import DEFECT, explain

    message, hint = explain(PermissionError(13, "Permission denied", "/srv/models/registry.db"))
    assert message == "Permission denied (/srv/models/registry.db)" and hint
    for defect in (KeyError("missing"), RuntimeError(repr(object())), ValueError({"path": "x"}),
                   TypeError("Digest(algorithm='sha256')"), OSError("no strerror given")):
        message, hint = explain(defect)
        assert message == DEFECT and reprs([message, hint]) == []
