"""The Settings dialog: one field per declared setting (see :mod:`modelgate.gui.app.settings`), each
with the value in force and where it came from, and the core's limits with theirs.

An empty field is never shown as nothing: below it the dialog says what is used instead
(the command line's value, an environment variable, a default). Edits are checked before
they are stored; OK keeps the dialog open and says what is wrong until every field can be used.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QFrame, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QScrollArea,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from modelgate.gui.app.settings import POLICY_FILE, SETTINGS, SIGNING_KEY, THEME, THEMES, TRUST_STORE, GuiSettings
from modelgate.gui.app.settings_origin import in_force, limits, problem

#: Settings whose value is a path, and whether the chooser picks a folder or a file.
PATHS = {TRUST_STORE.key: "file or folder", POLICY_FILE.key: "file", SIGNING_KEY.key: "file"}
#: The limits table's columns.
LIMIT_COLUMNS = ("Limit", "Value", "From", "Environment variable")


class SettingsDialog(QDialog):
    """Edits every setting; OK stores them once each can be used, Cancel forgets the edits."""

    def __init__(self, *, settings: GuiSettings, overrides=None, registry_url: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle("ModelGate settings")
        self.setMinimumWidth(560)
        self.resize(900, 760)
        self.settings = settings
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        self.origins: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, setting in SETTINGS.items():
            shown = in_force(settings, setting, overrides=overrides, registry_url=registry_url)
            if setting is THEME:
                field = QComboBox(objectName=f"setting-{key}")
                field.addItems(THEMES)
                field.setCurrentText(settings.get(key))
                widget = field
            else:
                stored = settings.store.value(f"settings/{key}")
                field = QLineEdit("" if stored is None else str(settings.get(key)), objectName=f"setting-{key}")
                field.setPlaceholderText(shown.value)
                widget = self._with_chooser(key, field) if key in PATHS else field
            field.setToolTip(setting.help)
            self.fields[key] = field
            origin = QLabel(shown.sentence, objectName=f"origin-{key}")
            origin.setWordWrap(True)
            self.origins[key] = origin
            help_label = QLabel(setting.help)
            help_label.setWordWrap(True)
            help_label.setStyleSheet("color: palette(placeholder-text); font-size: small;")
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(origin)
            column.addWidget(help_label)
            form.addRow(f"{setting.label}:", column)
        self.problem = QLabel(objectName="settings-problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("font-weight: bold;")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        # Scrolled as one page, so that on a small screen every row keeps the height its
        # wrapped text needs instead of being squashed over its neighbours.
        content = QWidget(objectName="settings-content")
        column = QVBoxLayout(content)
        column.addLayout(form)
        column.addWidget(self._limits_box(), 1)
        scroll = QScrollArea(objectName="settings-scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _limits_box(self) -> QGroupBox:
        box = QGroupBox("Limits (set by environment variables; read-only here)")
        rows = limits()
        table = QTableWidget(len(rows), len(LIMIT_COLUMNS), objectName="settings-limits")
        table.setHorizontalHeaderLabels(LIMIT_COLUMNS)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, resolved in enumerate(rows):
            cells = (resolved.setting.name.replace("_", " "), resolved.shown, resolved.origin,
                     resolved.setting.env)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(resolved.setting.help)
                table.setItem(row, column, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.setMinimumHeight(table.verticalHeader().defaultSectionSize() * 9)
        self.limits_table = table
        column = QVBoxLayout(box)
        column.addWidget(table)
        return box

    def _with_chooser(self, key: str, field: QLineEdit) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(field, 1)
        button = QPushButton("Choose…")
        button.clicked.connect(lambda: self._choose(key, field))
        row.addWidget(button)
        return holder

    def _choose(self, key: str, field: QLineEdit) -> None:
        if key == POLICY_FILE.key:
            path, _ = QFileDialog.getOpenFileName(self, "Policy file", field.text(), "Policies (*.yaml *.yml)")
        elif key == SIGNING_KEY.key:
            path, _ = QFileDialog.getOpenFileName(self, "Signing key", field.text(),
                                                  "Private keys (*.key *.pem);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Trust store folder", field.text())
        if path:
            field.setText(path)

    def values(self) -> dict[str, str]:
        """What the fields hold now."""
        return {key: field.currentText() if isinstance(field, QComboBox) else field.text().strip()
                for key, field in self.fields.items()}

    def problems(self) -> dict[str, str]:
        """Why fields cannot be used, by key; empty when every one can."""
        found = {key: problem(SETTINGS[key], value) for key, value in self.values().items()}
        return {key: said for key, said in found.items() if said}

    def accept(self) -> None:
        found = self.problems()
        if found:
            self.problem.setText("⚠ " + "\n⚠ ".join(found.values()))
            self.problem.show()
            self.fields[next(iter(found))].setFocus()
            return
        for key, value in self.values().items():
            self.settings.set(key, value)
        self.settings.sync()
        super().accept()
