"""Importing from an OCI registry or an OCI image layout: name the artifact, the app fetches it
into a private folder and verifies every digest (as ``modelgate pull`` does), shows what was
verified, and only then offers to import it into the registry (as ``modelgate import``).

Both steps run in the background with the status bar's progress and Cancel. Nothing reaches
the registry's store before the verification has been shown; the private folder is removed
when the dialog closes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from modelgate.gui.app.theme import BAD, GOOD
from modelgate.gui.ops.background import BackgroundOperation, release



class OciImportDialog(QDialog):
    """Verify, then import, a ModelPack artifact pushed or exported by ModelGate."""

    imported = Signal(object)       # the registry's ImportResult

    def __init__(self, *, connection, workers, progress_panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("oci-import-dialog")
        self.setWindowTitle("Import from an OCI registry or image layout")
        self.setMinimumWidth(620)
        self._connection, self._workers, self._progress = connection, workers, progress_panel
        self.handle = None
        self.pulled = None
        self._scratch = Path(tempfile.mkdtemp(prefix="modelgate-oci-import-"))
        intro = QLabel("A registry artifact (oci://HOST[:PORT]/REPO:TAG) or one in an OCI image layout folder "
                       "(oci:DIR:TAG). Every digest is verified before anything is imported.")
        intro.setWordWrap(True)
        self.source_field = QLineEdit(objectName="oci-import-source")
        self.source_field.setPlaceholderText("oci://registry.example.com/models/resnet:1.2.0")
        self.insecure = QCheckBox("Plain HTTP (a registry on this machine only)", objectName="oci-import-insecure")
        form = QFormLayout()
        form.addRow("Artifact:", self.source_field)
        form.addRow("", self.insecure)
        self.status = QLabel(objectName="oci-import-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumHeight(self.status.fontMetrics().lineSpacing() * 4)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.verify_button = buttons.addButton("Verify", QDialogButtonBox.ButtonRole.ActionRole)
        self.verify_button.setObjectName("oci-import-verify")
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("oci-import-import")
        self.import_button.setEnabled(False)
        self.verify_button.clicked.connect(self.verify)
        buttons.accepted.connect(self.import_verified)
        buttons.rejected.connect(self.reject)
        self.source_field.textChanged.connect(self._on_source_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def verify(self) -> None:
        """Fetch the artifact into the private folder, verifying every byte."""
        if self.handle is not None and self.handle.running:
            return
        from modelgate.core.store.interface import open_source

        try:
            source = open_source(text=self.source_field.text().strip(), insecure=self.insecure.isChecked())
        except Exception as error:
            self._show_problem(error)
            return
        self._discard_pulled()
        dest = self._scratch / "bundle"

        def work(progress):
            from modelgate.core.store.oci import pull_bundle

            return pull_bundle(client=source, dest=dest, progress=progress)

        self._busy(f"Fetching and verifying {self.source_field.text().strip()}…")
        self.handle = (BackgroundOperation(parent=self, executor=self._workers.registry, work=work)
                       .with_progress(panel=self._progress, label="Verifying the artifact")
                       .on_success(self._on_verified).on_failure(self._on_failed)
                       .on_cancelled(self._on_cancelled).start())

    def import_verified(self) -> None:
        """Import the verified folder into the registry."""
        if self.pulled is None or (self.handle is not None and self.handle.running):
            return
        folder, connection = self.pulled.folder, self._connection

        def work(progress):
            return connection.registry.import_bundle(path=folder, progress=progress)

        self._busy(f"Importing {self.pulled.name}@{self.pulled.version}…")
        self.handle = (BackgroundOperation(parent=self, executor=self._workers.registry, work=work)
                       .with_progress(panel=self._progress, label=f"Importing {self.pulled.name}@{self.pulled.version}")
                       .on_success(self._on_imported).on_failure(self._on_failed)
                       .on_cancelled(self._on_cancelled).start())

    # ------------------------------------------------------------------ state
    def _busy(self, text: str) -> None:
        self.verify_button.setEnabled(False)
        self.import_button.setEnabled(False)
        self._set_status(text, None)

    def _set_status(self, text: str, colour: str | None) -> None:
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setText(text)

    def _show_problem(self, error: BaseException) -> None:
        from modelgate.gui.dialogs.error import explain

        message, hint = explain(error)
        self._set_status(message + (f"\n{hint}" if hint else ""), BAD)

    def _discard_pulled(self) -> None:
        from modelgate.core import fsutil

        self.pulled = None
        self.import_button.setEnabled(False)
        fsutil.remove_tree(self._scratch / "bundle", ignore_errors=True)

    def _on_source_changed(self, _text: str) -> None:
        if self.handle is None or not self.handle.running:
            self._discard_pulled()

    def _on_verified(self, pulled) -> None:
        self.pulled = pulled
        self.verify_button.setEnabled(True)
        self.import_button.setEnabled(True)
        self._set_status(f"✔ {pulled.name}@{pulled.version}: {pulled.files} file(s), every digest verified "
                         f"against the manifest {pulled.digest} and bundle.yaml.\n{len(pulled.signatures)} "
                         f"signature(s) and {len(pulled.decisions)} decision record(s) came with it. "
                         "Import it as a draft?", GOOD)

    def _on_imported(self, result) -> None:
        self.verify_button.setEnabled(True)
        said = "imported as a draft" if result.created else "was already in the registry"
        self._set_status(f"{result.name}@{result.version} {said}.", GOOD)
        self.imported.emit(result)

    def _on_failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.import_button.setEnabled(self.pulled is not None)
        self._show_problem(error)

    def _on_cancelled(self) -> None:
        self.verify_button.setEnabled(True)
        self._discard_pulled()
        self._set_status("Cancelled: nothing was imported.", None)

    def reject(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()
        super().reject()

    def done(self, code: int) -> None:
        from modelgate.core import fsutil

        release(owner=self)
        fsutil.remove_tree(self._scratch, ignore_errors=True)
        super().done(code)
