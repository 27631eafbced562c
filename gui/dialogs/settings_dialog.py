"""The Settings dialog: one field per declared setting (see :mod:`modelgate.gui.app.settings`)."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from modelgate.gui.app.settings import POLICY_FILE, SETTINGS, SIGNING_KEY, THEME, THEMES, TRUST_STORE, GuiSettings

#: Settings whose value is a path, and whether the chooser picks a folder or a file.
PATHS = {TRUST_STORE.key: "file or folder", POLICY_FILE.key: "file", SIGNING_KEY.key: "file"}


class SettingsDialog(QDialog):
    """Edits every setting; OK stores them, Cancel forgets the edits."""

    def __init__(self, *, settings: GuiSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle("ModelGate settings")
        self.setMinimumWidth(560)
        self.settings = settings
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        form = QFormLayout()
        for key, setting in SETTINGS.items():
            if setting is THEME:
                field = QComboBox(objectName=f"setting-{key}")
                field.addItems(THEMES)
                field.setCurrentText(settings.get(key))
                widget = field
            else:
                field = QLineEdit(settings.get(key), objectName=f"setting-{key}")
                widget = self._with_chooser(key, field) if key in PATHS else field
            field.setToolTip(setting.help)
            self.fields[key] = field
            help_label = QLabel(setting.help)
            help_label.setWordWrap(True)
            help_label.setStyleSheet("color: palette(placeholder-text); font-size: small;")
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(help_label)
            form.addRow(f"{setting.label}:", column)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

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

    def accept(self) -> None:
        for key, value in self.values().items():
            self.settings.set(key, value)
        self.settings.sync()
        super().accept()
