"""The promotion dialog: the target stage, every gate of the policy for it, then Promote.

The gates come from the core's ``workflow.gates`` on the registry worker, as ``modelgate
promote`` judges them, and are checked again when the target changes, on Check again,
and every :data:`REFRESH_MS` while the dialog is open (a reviewer may approve or the
release officer sign meanwhile). Promote is enabled only when every gate holds; the
promotion itself is ``workflow.promote``, which checks the gates once more inside its
transaction and audits the outcome either way.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QPushButton, QVBoxLayout, QWidget)

from modelgate.core.policy.stages import STAGES
from modelgate.gui.review.gate_checklist import GateChecklist
from modelgate.gui.inspector.widgets import BAD, GOOD
from modelgate.gui.ops import workflow
from modelgate.gui.ops.background import BackgroundOperation, release
from modelgate.gui.ops.workflow import PROMOTE_ROLES

REFRESH_MS = 15_000


def targets_of(stage: str) -> list[str]:
    """The stages after ``stage``; the next one first."""
    return list(STAGES[STAGES.index(stage) + 1:])


class PromotionDialog(QDialog):
    """Promote one registry version; :attr:`promoted` carries the core's PromotionResult."""

    promoted = Signal(object)
    gates_checked = Signal(object)      # the list of GateResult just shown

    def __init__(self, *, connection, workers, progress_panel, info, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promotion-dialog")
        self.setWindowTitle(f"Promote {info.ref}")
        self.setMinimumSize(760, 420)
        self.connection, self.info = connection, info
        self._workers, self._progress = workers, progress_panel
        self._checking = None
        self._generation = 0
        self.result = None
        self.promoting = False
        self.check_failure: str | None = None

        self.heading = QLabel(f"{info.ref} is at <b>{info.stage}</b>, submitted by {info.submitter}.")
        self.target_box = QComboBox(objectName="promotion-target")
        self.target_box.addItems(targets_of(info.stage))
        self.checklist = GateChecklist()
        self.reason_edit = QLineEdit(objectName="promotion-reason")
        self.reason_edit.setPlaceholderText("Why now (recorded with the promotion and in the audit log)")
        self.outcome = QLabel(objectName="promotion-outcome")
        self.outcome.setWordWrap(True)
        self.check_button = QPushButton("Check again")
        self.check_button.setToolTip("Evaluate every gate again now")
        self.buttons = QDialogButtonBox()
        self.promote_button = self.buttons.addButton("Promote", QDialogButtonBox.ButtonRole.AcceptRole)
        self.promote_button.setObjectName("promote-button")
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.check_button, QDialogButtonBox.ButtonRole.ActionRole)

        form = QFormLayout()
        form.addRow("Promote to:", self.target_box)
        form.addRow("Reason:", self.reason_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(QLabel("Gates of the registry's policy for this move:"))
        layout.addWidget(self.checklist, 1)
        layout.addWidget(self.outcome)
        layout.addWidget(self.buttons)

        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.check)
        self.target_box.currentTextChanged.connect(self._on_target_box_current_text_changed)
        self.check_button.clicked.connect(self.check)
        self.promote_button.clicked.connect(self.promote)
        self.close_button.clicked.connect(self.reject)
        self._set_promote_enabled()
        self.check()
        self.timer.start()

    @property
    def target(self) -> str:
        return self.target_box.currentText()

    # ------------------------------------------------------------------ gates
    def check(self) -> None:
        """Evaluate the gates for the chosen target in the background. The first check of a
        target hashes the stored bundles; the timer's re-checks read the registry only."""
        if self._checking is not None and self._checking.running or self.result is not None or self.promoting:
            return
        self._generation += 1
        generation, target, info, connection = self._generation, self.target, self.info, self.connection
        first = not self.checklist.gates
        self.check_failure = None
        if first:
            self.checklist.show_message(f"Checking the gates for {target}…")
        self._checking = BackgroundOperation(
            parent=self, executor=self._workers.registry,
            work=lambda progress: workflow.gates(connection, name=info.name, version=info.version,
                                                 to_stage=target, progress=progress, verify_store=first)) \
            .with_progress(panel=self._progress, label=f"Checking the gates of {info.ref} for {target}") \
            .on_success(lambda gates: self._on_gates_checked(generation, gates)) \
            .on_failure(self._on_check_failed).start()

    def _on_gates_checked(self, generation: int, gates) -> None:
        if generation != self._generation or self.result is not None:
            return
        self.checklist.show_gates(gates)
        self._set_promote_enabled()
        self.gates_checked.emit(list(gates))

    def _on_check_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import explain

        if self.result is not None or self.promoting:
            return
        self.check_failure = explain(error)[0]
        self.checklist.show_message(f"The gates could not be checked: {self.check_failure}")
        self._set_promote_enabled()

    def _set_promote_enabled(self) -> None:
        why = self.connection.role_refusal(*PROMOTE_ROLES, doing="promoting")
        if why:
            pass
        elif self.check_failure:
            why = f"The gates could not be checked ({self.check_failure}); try Check again."
        elif self.promoting:
            why = f"Promoting {self.info.ref}…"
        elif not self.checklist.gates:
            why = "The gates are being checked."
        elif not self.checklist.all_hold:
            unmet = ", ".join(g.name for g in self.checklist.gates if g.blocking)
            why = f"Not every gate holds: {unmet}."
        self.promote_button.setEnabled(why is None and self.result is None and not self.promoting)
        self.promote_button.setToolTip(why or f"Move {self.info.ref} to {self.target}")
        if self.result is None:
            self.outcome.setText(why or "Every gate holds.")
            self.outcome.setStyleSheet(f"color: {GOOD if why is None else BAD};")

    def _on_target_box_current_text_changed(self, _text: str) -> None:
        self.checklist.show_gates([])
        self._generation += 1
        if self._checking is not None:
            self._checking.cancel()
            self._checking = None
        self._set_promote_enabled()
        self.check()

    # ------------------------------------------------------------------ promote
    def promote(self) -> None:
        """Promote through the core; it checks every gate again and audits the outcome."""
        info, target, connection = self.info, self.target, self.connection
        reason = self.reason_edit.text().strip() or None
        if self.promoting or not self.promote_button.isEnabled():
            return
        self.timer.stop()
        self._generation += 1               # a check still running must not re-enable Promote
        if self._checking is not None:
            self._checking.cancel()
        self.promoting = True
        self._set_promote_enabled()
        self.close_button.setEnabled(False)
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda progress: workflow.promote(connection, name=info.name, version=info.version,
                                                                   to_stage=target, reason=reason,
                                                                   progress=progress)) \
            .with_progress(panel=self._progress, label=f"Promoting {info.ref} to {target}", cancellable=False) \
            .on_success(self._on_promoted).on_failure(self._on_promote_failed).start()

    def _on_promoted(self, result) -> None:
        self.promoting = False
        self.close_button.setEnabled(True)
        self.result = result
        self.checklist.show_gates(result.gates)
        text = (f"{self.info.ref} moved from {result.from_stage} to {result.to_stage}; the promotion is in "
                "the audit log." if result.moved else f"{self.info.ref} already was at {result.to_stage}.")
        if result.superseded:
            text += f" {result.superseded} moved to deprecated."
        self.outcome.setText(text)
        self.outcome.setStyleSheet(f"color: {GOOD};")
        self.target_box.setEnabled(False)
        self.reason_edit.setEnabled(False)
        self.check_button.setEnabled(False)
        self.promote_button.setEnabled(False)
        self.promoted.emit(result)

    def _on_promote_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import explain, show_error

        self.promoting = False
        self.close_button.setEnabled(True)
        self.timer.start()
        if isinstance(error, workflow.WorkflowRefused) and getattr(error, "gates", None):
            self.checklist.show_gates(error.gates)  # something changed since the last check
            self._set_promote_enabled()
            self.outcome.setText(f"Refused, and recorded in the audit log: {explain(error)[0]}")
            self.outcome.setStyleSheet(f"color: {BAD};")
            return
        self._set_promote_enabled()
        show_error(parent=self, error=error, action=f"Promoting {self.info.ref}")

    def reject(self) -> None:
        if self.promoting:      # the promotion's outcome must reach this dialog and the window
            return
        super().reject()

    def done(self, code: int) -> None:
        self.timer.stop()
        release(owner=self)     # a gate check still running stops, and its outcome is dropped
        super().done(code)
