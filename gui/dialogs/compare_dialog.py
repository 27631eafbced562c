"""Choosing the two versions to compare: A, the champion (the baseline), and B, the challenger.

B defaults to the version given (the one selected in the registry) and A to the production
version of B's model; when B is that version, or the model has none, A is the version of
B's model imported before B (else its newest other version). Any two versions of the same or different models may be chosen.
The lists are read from the registry on its worker; **Compare** opens the comparison in
its own window.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from modelgate.core.policy.stages import PRODUCTION
from modelgate.gui.ops.background import BackgroundOperation, release

SIDES = {"a": "A · champion (the baseline)", "b": "B · challenger"}


class SidePicker(QWidget):
    """A model and one of its versions."""

    def __init__(self, *, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_box = QComboBox(objectName=f"compare-{side}-model")
        self.version_box = QComboBox(objectName=f"compare-{side}-version")
        self.model_box.setMinimumContentsLength(18)
        self.version_box.setMinimumContentsLength(22)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.model_box, 1)
        row.addWidget(QLabel("@"))
        row.addWidget(self.version_box, 1)

    @property
    def ref(self) -> tuple[str, str] | None:
        version = self.version_box.currentData()
        return (self.model_box.currentText(), version) if self.model_box.currentText() and version else None

    def show_versions(self, versions, *, chosen: str | None) -> None:
        """Fill the version list (VersionInfos, newest first) and select ``chosen``."""
        self.version_box.blockSignals(True)
        self.version_box.clear()
        for info in versions:
            self.version_box.addItem(f"{info.version}  ·  {info.stage}", info.version)
        index = self.version_box.findData(chosen) if chosen else -1
        self.version_box.setCurrentIndex(index if index >= 0 else 0 if versions else -1)
        self.version_box.blockSignals(False)


class CompareDialog(QDialog):
    """Pick A and B, then **Compare** opens a CompareWindow (kept as :attr:`compare_window`)."""

    choices_loaded = Signal()               # both sides are filled in
    compare_opened = Signal(object)         # CompareWindow

    def __init__(self, *, connection, workers, progress_panel, challenger: tuple[str, str] | None = None,
                 champion: tuple[str, str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare-dialog")
        self.setWindowTitle("Compare two versions")
        self.setMinimumWidth(620)
        self._connection, self._workers, self._progress = connection, workers, progress_panel
        self._wanted = {"a": champion, "b": challenger}
        self._loading = {"a": 0, "b": 0}        # a side's latest request; 0 when none is pending
        self._production: dict[str, str | None] = {}
        self.compare_window = None
        self.pickers = {side: SidePicker(side=side) for side in SIDES}
        self.swap_button = QPushButton("⇅ Swap A and B", objectName="compare-swap")
        self.note = QLabel(objectName="compare-note")
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.compare_button = self.buttons.addButton("Compare", QDialogButtonBox.ButtonRole.AcceptRole)
        self.compare_button.setEnabled(False)
        form = QFormLayout()
        for side, title in SIDES.items():
            form.addRow(f"{title}:", self.pickers[side])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every change reads from A to B; metric deltas are B − A."))
        layout.addLayout(form)
        swap_row = QHBoxLayout()
        swap_row.addStretch(1)
        swap_row.addWidget(self.swap_button)
        layout.addLayout(swap_row)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.swap_button.clicked.connect(self._on_swap_button_clicked)
        for side, picker in self.pickers.items():
            picker.model_box.currentTextChanged.connect(lambda name, side=side: self._load_versions(side, name))
            picker.version_box.currentIndexChanged.connect(self._on_version_box_current_index_changed)
        self._load_models()

    @property
    def chosen(self) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """``(champion, challenger)`` as chosen, each ``(name, version)`` or ``None``."""
        return self.pickers["a"].ref, self.pickers["b"].ref

    # ------------------------------------------------------------------ loading
    def _run(self, work, done) -> None:
        BackgroundOperation(parent=self, executor=self._workers.registry, work=work).on_success(done) \
            .with_progress(panel=self._progress, label="Reading the registry's versions", cancellable=False).start()

    def _load_models(self) -> None:
        connection = self._connection     # the worker reads no attribute of this dialog
        self._run(lambda progress: connection.model_names(), self._on_models_loaded)

    def _on_models_loaded(self, names: list[str]) -> None:
        challenger = self._wanted["b"]
        model_b = challenger[0] if challenger and challenger[0] in names else (names[0] if names else "")
        champion = self._wanted["a"]
        model_a = champion[0] if champion and champion[0] in names else model_b
        if not names:
            self.note.setText("The registry holds no versions to compare.")
        for side, model in (("a", model_a), ("b", model_b)):
            box = self.pickers[side].model_box
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.setCurrentText(model)
            box.blockSignals(False)
            if model:
                self._load_versions(side, model)

    def _load_versions(self, side: str, name: str) -> None:
        self._loading[side] += 1
        request = self._loading[side]
        self.compare_button.setEnabled(False)
        connection = self._connection
        self._run(lambda progress: connection.versions_of(name=name),
                  lambda versions: self._on_versions_loaded(side, name, request, versions))

    def _on_versions_loaded(self, side: str, name: str, request: int, versions) -> None:
        if request != self._loading[side]:
            return                      # another model was chosen meanwhile
        self._loading[side] = 0
        self._production[name] = next((v.version for v in versions if v.stage == PRODUCTION), None)
        self.pickers[side].show_versions(versions, chosen=self._choice(side, name, versions))
        self._update()
        if not any(self._loading.values()):
            self.choices_loaded.emit()

    def _choice(self, side: str, name: str, versions) -> str | None:
        wanted = self._wanted[side]
        if wanted and wanted[0] == name:
            return wanted[1]
        if side == "b":
            return versions[0].version if versions else None
        other = self._wanted["b"] or self.pickers["b"].ref
        production = self._production.get(name)
        if production and other != (name, production):
            return production
        # B is the production version (or there is none): the version before B, else the newest other.
        names = [v.version for v in versions]
        if other and other[0] == name and other[1] in names and names.index(other[1]) + 1 < len(names):
            return names[names.index(other[1]) + 1]
        return next((v for v in names if (name, v) != other), None)

    def _update(self) -> None:
        a, b = self.chosen
        ready = a is not None and b is not None and a != b and not any(self._loading.values())
        self.compare_button.setEnabled(ready)
        if a is not None and a == b:
            self.note.setText("A and B are the same version: choose two different ones.")
        elif a is not None and b is not None:
            production = self._production.get(a[0])
            if production == a[1]:
                role = f"A is the production version of {a[0]}."
            elif b == (a[0], production):
                role = f"B is the production version of {a[0]}; A is another of its versions."
            elif production:
                role = f"A is not the production version of {a[0]} ({production} is)."
            else:
                role = f"{a[0]} has no production version."
            self.note.setText(f"{role} Both are judged for B's next stage under the registry's policy.")

    # ------------------------------------------------------------------ actions
    def accept(self) -> None:
        from modelgate.gui.compare.compare_window import show_comparison

        champion, challenger = self.chosen
        if champion is None or challenger is None or champion == challenger:
            return
        self.compare_window = show_comparison(parent=self.parentWidget(), connection=self._connection,
                                              workers=self._workers, progress_panel=self._progress,
                                              champion=champion, challenger=challenger)
        self.compare_opened.emit(self.compare_window)
        super().accept()

    def done(self, code: int) -> None:
        release(owner=self)     # reads still running stop, and their outcomes are dropped
        super().done(code)

    def _on_swap_button_clicked(self) -> None:
        a, b = self.chosen
        self._wanted = {"a": b, "b": a}
        for side, ref in self._wanted.items():
            box = self.pickers[side].model_box
            if ref is None:
                continue
            if box.currentText() == ref[0]:
                self._load_versions(side, ref[0])
            else:
                box.setCurrentText(ref[0])     # loads that model's versions

    def _on_version_box_current_index_changed(self, _index: int) -> None:
        self._wanted = {"a": self.pickers["a"].ref, "b": self.pickers["b"].ref}
        self._update()
