"""The inspector: the selected version (or a bundle opened on its own) in nine tabs.

Showing a version takes up to three background steps, each dropped when the user has
moved on meanwhile: its registry record (registry worker), then the bundle's facts
(a worker process, with progress), then a validation for the stage it is judged for (a
worker process, with progress and Cancel, which kills it). Tabs fill in as their data arrives.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from modelgate.core.policy.stages import STAGES, target_stage
from modelgate.gui.inspector import facts as bundle_facts
from modelgate.gui.inspector.benchmarks import BenchmarksTab
from modelgate.gui.inspector.history import HistoryTab
from modelgate.gui.inspector.interface import InterfaceTab
from modelgate.gui.inspector.license import LicenseTab
from modelgate.gui.inspector.model_card import ModelCardTab
from modelgate.gui.inspector.overview import OverviewTab
from modelgate.gui.inspector.provenance import ProvenanceTab
from modelgate.gui.inspector.signatures import SignaturesTab
from modelgate.gui.inspector.validation import ValidationTab
from modelgate.gui.ops.background import BackgroundOperation

TAB_TITLES = ("Overview", "Model card", "License", "Interface and graph", "Benchmarks", "Validation",
              "Provenance", "Signatures", "History")
EMPTY_TEXT = "Select a version on the left, or open a bundle with File › Open bundle… (Ctrl+O)."


class Inspector(QWidget):
    """The right side of the main window."""

    subject_shown = Signal(object)          # Subject: every tab filled but the verdict
    validation_finished = Signal(object)    # Report
    graph_requested = Signal(object, str)   # Subject, artifact path
    parent_requested = Signal(str, str)     # name, version
    loading_failed = Signal(str)
    record_read = Signal(object)            # VersionDetail of the version asked for

    def __init__(self, *, workers, progress_panel, trust_store: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        self._progress = progress_panel
        self.trust_store = trust_store
        self.subject: bundle_facts.Subject | None = None
        self.report = None
        self._generation = 0
        self._handles: list = []
        self._validation = None     # the handle of the validation whose outcome the tabs await

        self.title = QLabel(objectName="inspector-title")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)         # a long name wraps rather than widening the window
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.stage_box = QComboBox(objectName="judged-stage")
        self.stage_box.addItems(STAGES)
        self.stage_box.setToolTip("The stage whose policy gates the checks, the verdict and the charts use")
        self.overview, self.card, self.license = OverviewTab(), ModelCardTab(), LicenseTab()
        self.interface, self.validation = InterfaceTab(), ValidationTab()
        self.benchmarks = BenchmarksTab(workers=workers)
        self.provenance, self.signatures, self.history = ProvenanceTab(), SignaturesTab(), HistoryTab()
        self.tabs = QTabWidget(objectName="inspector-tabs")
        for widget, title in zip(self.tab_widgets, TAB_TITLES):
            self.tabs.addTab(widget, title)
        self.empty = QLabel(EMPTY_TEXT, objectName="inspector-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tabs)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(QLabel("Judged for:"))
        header.addWidget(self.stage_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        self.stage_box.setEnabled(False)
        self.stage_box.currentTextChanged.connect(self._on_stage_box_current_text_changed)
        self.validation.rerun_requested.connect(self.rerun_validation)
        self.interface.graph_requested.connect(self._on_interface_graph_requested)
        self.provenance.parent_requested.connect(self.parent_requested)

    @property
    def tab_widgets(self) -> tuple[QWidget, ...]:
        return (self.overview, self.card, self.license, self.interface, self.benchmarks, self.validation,
                self.provenance, self.signatures, self.history)

    # ------------------------------------------------------------------ what to show
    def inspect_version(self, *, connection, info) -> None:
        """Show ``info`` (a VersionInfo) of the registry behind ``connection``."""
        generation = self._restart(f"{info.name} {info.version} · {info.stage}")

        def record(progress):
            return (connection.detail(name=info.name, version=info.version),
                    connection.champion(name=info.name, version=info.version))

        def loaded(found) -> None:
            detail, champion = found
            if generation == self._generation:
                self.record_read.emit(detail)
            self._load(generation, path=detail.store_path, policy=connection.policy, detail=detail,
                       champion=champion, stage=target_stage(detail.info.stage))

        self._track(BackgroundOperation(parent=self, executor=self._workers.registry, work=record)
                    .on_success(loaded).on_failure(self._failed(generation)).start())

    def inspect_bundle(self, *, path: Path, policy_file: Path | None) -> None:
        """Show the bundle at ``path`` (a folder or an archive), which is in no registry, judged by
        the policy in ``policy_file`` (``None``: the default policy), loaded off the UI thread."""
        generation = self._restart(f"{Path(path).name} · not in a registry")
        self._load(generation, path=Path(path), policy=policy_file, detail=None, champion=None,
                   stage=target_stage(None))

    def release(self) -> None:
        """Stop showing anything and close the shown bundle now (the app is closing)."""
        self._restart("")
        if self.subject is not None:
            self.subject.facts.close()
            self.subject = None
        self.stack.setCurrentWidget(self.empty)

    def rerun_validation(self) -> None:
        """Validate the shown bundle again for the chosen stage."""
        if self.subject is not None:
            self._validate(self._generation)

    # ------------------------------------------------------------------ the steps
    def _restart(self, title: str) -> int:
        for handle in self._handles:
            handle.cancel()
        self._handles = []
        self._generation += 1
        self.title.setText(title)
        return self._generation

    def _track(self, handle) -> None:
        self._handles = [h for h in self._handles if h.running] + [handle]

    def _failed(self, generation: int):
        def failed(error) -> None:
            from modelgate.gui.dialogs.error import explain, show_error

            if generation == self._generation:
                message, hint = explain(error)
                self.empty.setText(f"{message}\n\n{hint or ''}".strip())
                self.stack.setCurrentWidget(self.empty)
                self.loading_failed.emit(message)
                show_error(parent=self, error=error, action=f"Opening {self.title.text()}")
        return failed

    def _load(self, generation: int, *, path: Path, policy, detail, champion, stage: str) -> None:
        """Gather the bundle's facts; ``policy`` is a Policy, or the file of one (``None``: the default)."""
        if generation != self._generation:
            return
        label = detail.info.ref if detail is not None else Path(path).name

        processes = self._workers.processes

        def gather(progress):
            return processes.run("gather", path=path, policy=policy, champion=champion, progress=progress)

        def gathered(found) -> None:
            judged_by, facts = found
            self._show(generation, bundle_facts.Subject(facts, judged_by, stage, detail, champion, self.trust_store))

        self._track(BackgroundOperation(parent=self, executor=self._workers.bundles, work=gather)
                    .with_progress(panel=self._progress, label=f"Reading {label}")
                    .on_success(gathered).on_failure(self._failed(generation)).start())

    def _show(self, generation: int, subject) -> None:
        if generation != self._generation:
            self._close_later(subject)
            return
        if self.subject is not None:
            self._close_later(self.subject)
        self.subject, self.report = subject, None
        self.stage_box.blockSignals(True)
        self.stage_box.setCurrentText(subject.stage)
        self.stage_box.blockSignals(False)
        self.stage_box.setEnabled(True)
        # The tab in front first, then one tab per turn of the event loop: filling all nine at
        # once can take a tenth of a second, and the window must keep answering meanwhile.
        current = self.tabs.currentWidget()
        pending = [current] + [tab for tab in self.tab_widgets if tab is not current]
        self.stack.setCurrentWidget(self.tabs)
        self._fill(generation, subject, pending)

    def _fill(self, generation: int, subject, pending: list) -> None:
        if generation != self._generation or subject is not self.subject:
            return
        pending[0].show_subject(subject)
        if len(pending) > 1:
            QTimer.singleShot(0, self, lambda: self._fill(generation, subject, pending[1:]))
            return
        self.subject_shown.emit(subject)
        self._validate(generation)

    def _validate(self, generation: int) -> None:
        subject = self.subject
        if self._validation is not None:
            self._validation.cancel()    # a stage change or Re-run overtakes it
        stage = subject.stage
        self.overview.banner.show_checking(label=subject.label, stage=stage)
        self.validation.show_checking(label=subject.label, stage=stage)

        processes = self._workers.processes

        def validate(progress):
            return processes.run("validate", subject=subject, stage=stage, progress=progress)

        def current() -> bool:
            return generation == self._generation and self._validation is handle

        def validated(report) -> None:
            if current():
                self.report = report
                self.overview.show_report(report=report, subject=subject)
                self.validation.show_report(report)
                self.validation_finished.emit(report)

        def failed(error) -> None:
            from modelgate.gui.dialogs.error import explain, show_error

            if current():
                message = explain(error)[0]
                self.overview.show_checks_failed(message=message)
                self.validation.show_failure(message=message)
                show_error(parent=self, error=error, action=f"Validating {subject.label}")

        def cancelled() -> None:
            if current():
                self.overview.show_checks_cancelled()
                self.validation.show_failure(message="cancelled")

        handle = (BackgroundOperation(parent=self, executor=self._workers.bundles, work=validate)
                  .with_progress(panel=self._progress, label=f"Validating {subject.label} for {stage}")
                  .on_success(validated).on_failure(failed).on_cancelled(cancelled).start())
        self._validation = handle
        self._track(handle)

    def _close_later(self, subject) -> None:
        """Close a bundle no tab shows any more (an archive's folder is removed) off the UI thread."""
        closing = BackgroundOperation(parent=self, executor=self._workers.bundles,
                                      work=lambda _p: subject.facts.close()).start()
        if closing.finished:  # never queued: the workers are gone, the window is closing
            subject.facts.close()

    # ------------------------------------------------------------------ slots
    def _on_stage_box_current_text_changed(self, stage: str) -> None:
        if self.subject is None or stage == self.subject.stage:
            return
        self.subject.stage = stage
        self.overview.show_subject(self.subject)
        self.benchmarks.show_subject(self.subject)
        self.rerun_validation()

    def _on_interface_graph_requested(self, artifact: str) -> None:
        if self.subject is not None:
            self.graph_requested.emit(self.subject, artifact)
