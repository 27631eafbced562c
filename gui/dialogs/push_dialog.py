"""Pushing a version to an OCI registry: name the repository, the push runs in the background
with the status bar's progress and Cancel, then the dialog says where it went and its digest.

The push is the core's (:func:`modelgate.core.registry.publish.push_version`), the same one
``modelgate push`` makes: only a version whose stage's gates hold leaves, by a signer or an
admin, and the audit log records it only once the registry holds it. Credentials come
from the Docker/Podman auth files, never from this dialog.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from modelgate.gui.app.theme import BAD, GOOD
from modelgate.gui.ops.background import BackgroundOperation, release



def default_target(*, name: str) -> str:
    """The repository the ``store`` setting names for ``name``, or an example to edit."""
    from modelgate.core import settings
    from modelgate.core.store.reference import SCHEME

    prefix = settings.get(settings.OCI_STORE) or settings.get(settings.STORE)
    if prefix.startswith(SCHEME):
        return f"{prefix.rstrip('/')}/{name}"
    return f"oci://registry.example.com/models/{name}"


class PushDialog(QDialog):
    """Asks for the repository of ``name@version`` and pushes it there."""

    pushed = Signal(object)     # the core's Pushed

    def __init__(self, *, connection, workers, progress_panel, name: str, version: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("push-dialog")
        self.setWindowTitle(f"Push {name}@{version} to an OCI registry")
        self.setMinimumWidth(600)
        self._connection, self._workers, self._progress = connection, workers, progress_panel
        self.name, self.version = name, version
        self.handle = None

        from modelgate.core.store.reference import tag_for

        intro = QLabel(f"<b>{html.escape(f'{name}@{version}')}</b> goes out as a CNCF ModelPack artifact tagged "
                       f"<b>{html.escape(tag_for(version))}</b>, with its release signatures and decision record "
                       "attached, if the gates of its stage hold today. Credentials come from "
                       "<tt>docker login</tt> / <tt>podman login</tt>.")
        intro.setWordWrap(True)
        self.target_field = QLineEdit(default_target(name=name), objectName="push-target")
        self.insecure = QCheckBox("Plain HTTP (a registry on this machine only)", objectName="push-insecure")
        form = QFormLayout()
        form.addRow("Repository:", self.target_field)
        form.addRow("", self.insecure)
        self.status = QLabel(objectName="push-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumHeight(self.status.fontMetrics().lineSpacing() * 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.push_button = buttons.addButton("Push", QDialogButtonBox.ButtonRole.AcceptRole)
        self.push_button.setObjectName("push-start")
        self.push_button.setDefault(True)
        buttons.accepted.connect(self.push)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def push(self) -> None:
        """Check the reference, then push in the background."""
        if self.handle is not None and self.handle.running:
            return
        from modelgate.core.store.reference import parse_reference

        try:
            target = parse_reference(text=self.target_field.text().strip(), need_target=False)
            if target.target:
                from modelgate.core.errors import UsageError

                raise UsageError("name the repository only: the tag is the version")
        except Exception as error:
            self._show_problem(error)
            return
        name, version, insecure, connection = self.name, self.version, self.insecure.isChecked(), self._connection

        def work(progress):
            return connection.push(name=name, version=version, target=target, insecure=insecure, progress=progress)

        self.push_button.setEnabled(False)
        self._set_status(f"Checking the gates of {name}@{version}, then pushing to {target}…", None)
        self.handle = (BackgroundOperation(parent=self, executor=self._workers.registry, work=work)
                       .with_progress(panel=self._progress, label=f"Pushing {name}@{version}")
                       .on_success(self._on_pushed).on_failure(self._on_failed)
                       .on_cancelled(self._on_cancelled).start())

    def _set_status(self, text: str, colour: str | None) -> None:
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setText(text)

    def _show_problem(self, error: BaseException) -> None:
        from modelgate.gui.dialogs.error import explain

        message, hint = explain(error)
        self._set_status(message + (f"\n{hint}" if hint else ""), BAD)

    def reject(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()
        super().reject()

    def done(self, code: int) -> None:
        release(owner=self)
        super().done(code)

    def _on_pushed(self, pushed) -> None:
        self.push_button.setEnabled(True)
        how = "referrers API" if pushed.referrers_api else "referrers tag fallback"
        self._set_status(f"Pushed to {pushed.reference}\nmanifest {pushed.digest}\n{pushed.layers} layer(s), "
                         f"{pushed.attachments} attachment(s) ({how}).", GOOD)
        self.pushed.emit(pushed)

    def _on_failed(self, error: BaseException) -> None:
        self.push_button.setEnabled(True)
        self._show_problem(error)

    def _on_cancelled(self) -> None:
        self.push_button.setEnabled(True)
        self._set_status("Push cancelled: nothing was recorded.", None)
