"""The rollback dialog: restore an earlier production version of a model, saying why.

The versions offered come from the core's ``rollback_choices``: the one production last
replaced first (the default), then any other that was in production. The chosen version's
production gates of today (``workflow.rollback_gates``) are shown as a checklist; Roll back
is offered only when they hold. An admin is offered break-glass for validation or signature
gates that do not hold, after a confirmation. The rollback is the core's
``workflow.rollback`` (audited), as ``modelgate rollback NAME --to VERSION [--break-glass]``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QMessageBox, QVBoxLayout, QWidget)

from modelgate.gui.review.gate_checklist import GateChecklist
from modelgate.gui.inspector.widgets import BAD, GOOD
from modelgate.gui.ops import workflow
from modelgate.gui.ops.background import BackgroundOperation, release
from modelgate.gui.ops.workflow import BREAK_GLASS_ROLES, BREAKABLE, PROMOTE_ROLES


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
        self.checklist = GateChecklist()
        self.checklist.setObjectName("rollback-gates")
        self.checklist.show_message("Choose the version to restore; its production gates are checked here.")
        self.gates: list | None = None          # the chosen version's gates, once checked
        self.break_glass = QCheckBox("Break glass: restore although validation or signature gates do not "
                                     "hold (admins only; loudly audited and shown until a normal promotion "
                                     "replaces it)", objectName="rollback-break-glass")
        # Only admins are offered it; the core refuses anyone else anyway.
        self.may_break_glass = connection.holds(*BREAK_GLASS_ROLES)
        self.break_glass.setVisible(self.may_break_glass)
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
        layout.addWidget(self.checklist)
        layout.addWidget(self.break_glass)
        layout.addWidget(self.confirm)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.buttons.rejected.connect(self.reject)
        self.rollback_button.clicked.connect(self.roll_back)
        for signal in (self.reason_edit.textChanged, self.confirm.toggled, self.version_box.currentTextChanged,
                       self.break_glass.toggled):
            signal.connect(self._update)
        self.version_box.currentIndexChanged.connect(lambda _i: self._check_gates())
        self._update()
        self._read_choices()

    def _read_choices(self) -> None:
        connection, name = self.connection, self.name
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: workflow.rollback_choices(connection, name=name)) \
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
        self._check_gates()

    def _check_gates(self) -> None:
        """Judge today's production gates for the chosen version (registry worker; re-hashes it)."""
        target = self.target
        self.gates = None
        self._update()
        if target is None:
            return
        self.checklist.show_message(f"Checking {self.name}@{target} against today's production gates…")
        connection, name = self.connection, self.name
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda progress: workflow.rollback_gates(connection, name=name, to_version=target,
                                                                          progress=progress)) \
            .on_success(lambda result: self._on_gates(target, result)) \
            .on_failure(lambda error: self._on_gates_failed(target, error)).start()

    def _on_gates(self, target: str, result) -> None:
        if target != self.target:
            return  # another version was chosen meanwhile
        _, gates = result
        self.gates = list(gates)
        self.checklist.show_gates(self.gates)
        self._update()

    def _on_gates_failed(self, target: str, error) -> None:
        from modelgate.gui.dialogs.error import explain

        if target != self.target:
            return
        message, _ = explain(error)
        self.checklist.show_message(f"The gates could not be checked: {message}")
        self._update()

    @property
    def blocking(self) -> list:
        """The gates of the chosen version that do not hold (empty before they are known)."""
        return [gate for gate in self.gates or [] if gate.blocking]

    @property
    def needs_break_glass(self) -> bool:
        """Whether restoring the chosen version overrides a gate (only breakable ones can be)."""
        return bool(self.blocking)

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
        if self.gates is None:
            return "Wait for the production gates to be checked."
        if self.blocking:
            unbreakable = [gate.name for gate in self.blocking if gate.name not in BREAKABLE]
            if unbreakable:
                return (f"{self.name}@{self.target} cannot be restored: {', '.join(unbreakable)} does not hold, "
                        "and break-glass never overrides it.")
            if not self.may_break_glass:
                return (f"{self.name}@{self.target} does not pass today's production gates "
                        f"({', '.join(g.name for g in self.blocking)}); only an admin may restore it by break-glass.")
            if not self.break_glass.isChecked():
                return (f"{self.name}@{self.target} does not pass today's production gates "
                        f"({', '.join(g.name for g in self.blocking)}); tick break-glass to restore it anyway.")
        if not self.reason_edit.text().strip():
            return "Say why: the reason is kept in the audit log."
        if not self.confirm.isChecked():
            return "Tick the confirmation first."
        return None

    def _update(self) -> None:
        if self.target is not None:
            self.confirm.setText(f"Move {self.name}@{self.current} to deprecated and put "
                                 f"{self.name}@{self.target} back in production")
        self.break_glass.setEnabled(bool(self.blocking) and not self.running and self.result is None)
        self.confirm.setEnabled(self.target is not None)
        why = self.refusal()
        self.rollback_button.setEnabled(why is None and self.result is None and not self.running)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not self.running)
        self.rollback_button.setText("Break glass and roll back" if self.needs_break_glass else "Roll back")
        self.rollback_button.setToolTip(why or "Roll back now")

    def confirm_break_glass(self) -> bool:
        """Ask once more, naming the gates overridden; a break-glass restore is never one click."""
        gates = "; ".join(f"{gate.name}: {gate.reason}" for gate in self.blocking)
        answer = QMessageBox.warning(
            self, "Break glass?",
            f"{self.name}@{self.target} does not pass today's production gates:\n\n{gates}\n\n"
            "Restore it to production anyway? This is recorded in the audit log as a break-glass "
            "rollback and shown on every screen until a normal promotion replaces it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

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
        break_glass = self.needs_break_glass
        if break_glass and not self.confirm_break_glass():
            return
        connection, name, target, reason = self.connection, self.name, self.target, self.reason_edit.text()
        current = self.current
        self.running = True
        self._update()
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: workflow.rollback(connection, name=name, reason=reason, to_version=target,
                                                              expected_current=current, break_glass=break_glass,
                                                              progress=_p)) \
            .with_progress(panel=self._progress, label=f"Rolling back {name}", cancellable=False) \
            .on_success(self._on_rolled_back).on_failure(self._on_failed).start()

    def _on_rolled_back(self, result) -> None:
        self.running = False
        self.result = result
        if result.break_glass:
            self.message.setText(f"BREAK-GLASS: {result.restored} is in production again although "
                                 f"{', '.join(result.broken)} did not hold; {result.demoted} moved to deprecated.")
            self.message.setStyleSheet(f"color: {BAD};")
        else:
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
