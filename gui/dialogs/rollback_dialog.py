"""The rollback dialog: restore an earlier production version of a model, saying why.

The versions offered come from the core's ``rollback_choices``: the one production last
replaced first (the default), then any other that was in production. The rollback is
the core's ``workflow.rollback`` (audited), as ``modelgate rollback NAME --to VERSION``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QVBoxLayout, QWidget)

from modelgate.core.registry.workflow import PROMOTE_ROLES
from modelgate.gui.inspector.widgets import BAD, GOOD
from modelgate.gui.operations import BackgroundOperation, release


class RollbackDialog(QDialog):
    """Roll back model ``name`` from its production version ``current``."""

    rolled_back = Signal(object)        # RollbackResult

    def __init__(self, *, connection, workers, progress_panel, name: str, current: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rollback-dialog")
        self.setWindowTitle(f"Roll back {name}")
        self.setMinimumWidth(620)
        self.connection, self.name, self.current = connection, name, current
        self._workers, self._progress = workers, progress_panel
        self.result = None
        self.running = False

        intro = QLabel(f"{name}@{current} is in production. A rollback moves it to deprecated and puts an "
                       "earlier production version back, in one step recorded in the audit log.")
        intro.setWordWrap(True)
        self.version_box = QComboBox(objectName="rollback-version")
        self.reason_edit = QLineEdit(objectName="rollback-reason")
        self.reason_edit.setPlaceholderText("Why (required; kept in the audit log)")
        self.confirm = QCheckBox(objectName="rollback-confirm")
        self.message = QLabel("Reading the versions that can be restored…", objectName="rollback-message")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.rollback_button = self.buttons.addButton("Roll back", QDialogButtonBox.ButtonRole.AcceptRole)
        self.rollback_button.setObjectName("rollback-button")
        form = QFormLayout()
        form.addRow("Restore:", self.version_box)
        form.addRow("Reason:", self.reason_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.confirm)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.buttons.rejected.connect(self.reject)
        self.rollback_button.clicked.connect(self.roll_back)
        for signal in (self.reason_edit.textChanged, self.confirm.toggled, self.version_box.currentTextChanged):
            signal.connect(self._update)
        self._update()
        self._read_choices()

    def _read_choices(self) -> None:
        from modelgate.core.registry.workflow import rollback_choices

        registry, name = self.connection.registry, self.name
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: rollback_choices(registry, name=name)) \
            .on_success(self._on_choices_read).start()

    def _on_choices_read(self, choices) -> None:
        versions = [v for v in choices.versions if v != self.current]
        for version in versions:
            label = f"{version}  (production last replaced)" if version == choices.default else \
                f"{version}  (taken out of production by a rollback)"
            self.version_box.addItem(label, version)
        self.message.setText("" if versions else f"No earlier production version of {self.name} is left to "
                             "restore.")
        self._update()

    @property
    def target(self) -> str | None:
        return self.version_box.currentData()

    def refusal(self) -> str | None:
        """Why Roll back is disabled now, or None."""
        refused = self.connection.role_refusal(*PROMOTE_ROLES, doing="a rollback")
        if refused:
            return refused
        if self.target is None:
            return "There is no version to restore."
        if not self.reason_edit.text().strip():
            return "Say why: the reason is kept in the audit log."
        if not self.confirm.isChecked():
            return "Tick the confirmation first."
        return None

    def _update(self) -> None:
        if self.target is not None:
            self.confirm.setText(f"Move {self.name}@{self.current} to deprecated and put "
                                 f"{self.name}@{self.target} back in production")
        self.confirm.setEnabled(self.target is not None)
        why = self.refusal()
        self.rollback_button.setEnabled(why is None and self.result is None and not self.running)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not self.running)
        self.rollback_button.setToolTip(why or "Roll back now")

    def reject(self) -> None:
        if self.running:        # the rollback's outcome must reach this dialog and the window
            return
        super().reject()

    def done(self, code: int) -> None:
        release(owner=self)     # reads still running stop, and their outcomes are dropped
        super().done(code)

    def roll_back(self) -> None:
        """Roll back through the core (registry worker), refused if production changed meanwhile."""
        if self.running or self.refusal() is not None:
            return
        from modelgate.core.registry import workflow

        registry, name, target, reason = self.connection.registry, self.name, self.target, self.reason_edit.text()
        current = self.current
        self.running = True
        self._update()
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: workflow.rollback(registry, name=name, reason=reason, to_version=target,
                                                              expected_current=current)) \
            .with_progress(panel=self._progress, label=f"Rolling back {name}", cancellable=False) \
            .on_success(self._on_rolled_back).on_failure(self._on_failed).start()

    def _on_rolled_back(self, result) -> None:
        self.running = False
        self.result = result
        self.message.setText(f"{result.restored} is in production again; {result.demoted} moved to deprecated.")
        self.message.setStyleSheet(f"color: {GOOD};")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self._update()
        self.rolled_back.emit(result)

    def _on_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import explain

        self.running = False
        message, hint = explain(error)
        self.message.setText(f"Not rolled back: {message}" + (f"\n{hint}" if hint else ""))
        self.message.setStyleSheet(f"color: {BAD};")
        self._update()
