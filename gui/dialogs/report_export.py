"""Exporting a version's auditor report: pick PDF or HTML and a file, the report is written in the
background, then the dialog says where it went and how big it is, with a button to open its folder.

The report itself is the core's (:mod:`modelgate.core.evidence`), the same file ``modelgate
report`` writes. Collecting re-hashes the stored bundle and verifies the audit chain, and drawing
its charts loads matplotlib, so the work runs in a worker process (which opens the registry
itself) with the status bar's progress and Cancel.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from modelgate.gui.app.theme import BAD, GOOD
from modelgate.core.evidence.formats import FORMATS, format_for
from modelgate.gui.ops.background import BackgroundOperation, release

#: Each format's choice as the dialog offers it, and the file-chooser filter for it.
CHOICES = {"pdf": ("PDF — to file and print", "PDF documents (*.pdf)"),
           "html": ("HTML — one self-contained file for a browser", "HTML files (*.html *.htm)")}


@dataclass(frozen=True)
class ExportedReport:
    """What the background work wrote, and the verdicts the report carries at its top."""

    path: Path
    size: int
    format: str
    chain_verdict: str
    chain_ok: bool
    stored_problem: str | None


def _default_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


class ReportExportDialog(QDialog):
    """Asks for the format and the file of ``name@version``'s auditor report and writes it."""

    report_exported = Signal(object)        # ExportedReport

    def __init__(self, *, connection, workers, progress_panel, name: str, version: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report-export-dialog")
        self.setWindowTitle(f"Export the auditor report of {name}@{version}")
        self.setMinimumWidth(620)
        self._connection, self._workers, self._progress = connection, workers, progress_panel
        self.name, self.version = name, version
        self.handle = None
        self.exported: ExportedReport | None = None
        self._confirmed: Path | None = None     # a file the file chooser already asked to replace

        ref = html.escape(f"{name}@{version}")
        intro = QLabel(f"The evidence pack of <b>{ref}</b>: manifest summary, validation findings "
                       "with the policy digest, approvals, signatures with key fingerprints, promotion history, "
                       "the audit chain's verification and the benchmark charts.")
        intro.setWordWrap(True)
        self.formats = QButtonGroup(self)
        format_row = QVBoxLayout()
        for key, (text, _) in CHOICES.items():
            button = QRadioButton(text, objectName=f"report-format-{key}")
            button.setChecked(key == "pdf")
            self.formats.addButton(button)
            format_row.addWidget(button)
        self.formats.buttonToggled.connect(self._on_formats_button_toggled)
        self.path_field = QLineEdit(str(_default_folder() / f"{name}-{version}-audit-report.pdf"),
                                    objectName="report-path")
        choose = QPushButton("Choose…", objectName="report-choose")
        choose.clicked.connect(self._on_choose_clicked)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_field, 1)
        file_row.addWidget(choose)
        form = QFormLayout()
        form.addRow("Format:", format_row)
        form.addRow("File:", file_row)

        self.status, self.verdict = QLabel(objectName="report-status"), QLabel(objectName="report-verdict")
        for label in (self.status, self.verdict):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            # Room for the outcome from the start, so the dialog does not jump when it arrives.
            label.setMinimumHeight(label.fontMetrics().lineSpacing() * 2)
        self.open_folder = QPushButton("Open containing folder", objectName="report-open-folder")
        self.open_folder.setVisible(False)
        self.open_folder.clicked.connect(self._on_open_folder_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("report-export")
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.export)
        buttons.rejected.connect(self.reject)
        result_row = QHBoxLayout()
        outcome = QVBoxLayout()
        outcome.addWidget(self.status)
        outcome.addWidget(self.verdict)
        result_row.addLayout(outcome, 1)
        result_row.addWidget(self.open_folder, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(result_row)
        layout.addWidget(buttons)

    @property
    def chosen_format(self) -> str:
        checked = self.formats.checkedButton()
        return checked.objectName().removeprefix("report-format-") if checked else "pdf"

    @property
    def path(self) -> Path:
        return Path(self.path_field.text().strip()).expanduser()

    # ------------------------------------------------------------------ exporting
    def export(self) -> None:
        """Write the report to the chosen file in the background (asks first before replacing one)."""
        if self.handle is not None and self.handle.running:
            return
        path, format_ = self.path, self.chosen_format
        from modelgate.core.outputs import MissingFolder, check_writable

        try:
            check_writable(path)
            format_for(path, chosen=format_)
        except Exception as error:
            self._show_problem(error)
            return
        try:
            check_writable(path, create_folders=False)
        except MissingFolder as missing:
            if not self._create_folder(missing):
                return
        if path.exists() and path != self._confirmed and not self._confirm_replace(path):
            return
        name, version, processes = self.name, self.version, self._workers.processes
        url, user = self._connection.url, self._connection.actor

        def work(progress) -> ExportedReport:
            written = processes.run("report", url=url, user=user, name=name, version=version, path=path,
                                    format=format_, progress=progress)
            return ExportedReport(path, written["size"], format_, written["chain_verdict"], written["chain_ok"],
                                  written["stored_problem"])

        self.export_button.setEnabled(False)
        self.open_folder.setVisible(False)
        self._set_status(f"Writing {path}…", None)
        self.handle = (BackgroundOperation(parent=self, executor=self._workers.bundles, work=work)
                       .with_progress(panel=self._progress, label=f"Exporting the report of {name}@{version}")
                       .on_success(self._on_export_succeeded).on_failure(self._on_export_failed)
                       .on_cancelled(self._on_export_cancelled).start())

    def _create_folder(self, missing) -> bool:
        """Ask before making a folder the user may have mistyped; whether it exists now."""
        answer = QMessageBox.question(self, "Create the folder?", f"The folder {missing.folder} does not exist. "
                                      "Create it and write the report there?")
        if answer != QMessageBox.StandardButton.Yes:
            self._set_status(f"Not written: the folder {missing.folder} does not exist.", BAD)
            return False
        try:
            missing.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self._show_problem(error)
            return False
        return True

    def _confirm_replace(self, path: Path) -> bool:
        answer = QMessageBox.question(self, "Replace the file?", f"{path} already exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    def _set_status(self, text: str, colour: str | None, *, verdict: str = "", verdict_colour: str | None = None) -> None:
        for label, shown, tint in ((self.status, text, colour), (self.verdict, verdict, verdict_colour)):
            label.setStyleSheet(f"color: {tint};" if tint else "")
            label.setText(shown)

    def _show_problem(self, error: BaseException) -> None:
        from modelgate.gui.dialogs.error import explain

        message, hint = explain(error)
        self._set_status(message + (f"\n{hint}" if hint else ""), BAD)

    def reject(self) -> None:
        if self.handle is not None and self.handle.running:
            self.handle.cancel()
        super().reject()

    def done(self, code: int) -> None:
        release(owner=self)     # reads still running stop, and their outcomes are dropped
        super().done(code)

    # ------------------------------------------------------------------ slots
    def _on_export_succeeded(self, exported: ExportedReport) -> None:
        self.exported = exported
        self.export_button.setEnabled(True)
        size = QLocale().formattedDataSize(exported.size)
        problems = [] if exported.chain_ok else [exported.chain_verdict]
        if exported.stored_problem:
            problems.append(f"stored bundle not intact: {exported.stored_problem}")
        verdicts = [p[0].upper() + p[1:] + " — the report says where and why." for p in problems] or [
            exported.chain_verdict[0].upper() + exported.chain_verdict[1:] + "."]
        self._set_status(f"Wrote {exported.path} ({exported.format.upper()}, {size}).", None,
                         verdict="\n".join(verdicts), verdict_colour=BAD if problems else GOOD)
        self.open_folder.setVisible(True)
        self.report_exported.emit(exported)

    def _on_export_failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        self._show_problem(error)

    def _on_export_cancelled(self) -> None:
        self.export_button.setEnabled(True)
        self._set_status("Cancelled: no file was written.", None)

    def _on_formats_button_toggled(self, _button, checked: bool) -> None:
        if not checked:
            return
        text = self.path_field.text().strip()
        if text:
            self.path_field.setText(str(Path(text).with_suffix(FORMATS[self.chosen_format][0])))

    def _on_choose_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the auditor report", str(self.path),
                                              CHOICES[self.chosen_format][1])
        if path:
            self._confirmed = Path(path)
            self.path_field.setText(path)

    def _on_open_folder_clicked(self) -> None:
        if self.exported is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.exported.path.parent)))


def export_report(*, parent: QWidget, connection, workers, progress_panel, name: str,
                  version: str) -> ReportExportDialog:
    """Open the export dialog for ``name@version`` of the registry behind ``connection`` (returns
    at once; the dialog writes the file when the user presses Export)."""
    dialog = ReportExportDialog(connection=connection, workers=workers, progress_panel=progress_panel,
                                name=name, version=version, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
