"""The main window as a desktop user expects it: menus, shortcuts, About, Settings, theme, and
the window's layout coming back next time."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QDialogButtonBox, QLineEdit, QMessageBox

from modelgate.core import __version__
from modelgate.gui.dialogs.settings_dialog import SettingsDialog
from modelgate.gui.app.settings import SETTINGS, GuiSettings
from modelgate.gui.app.theme import apply_theme
from tests.gui_support import make_window, select


def shortcut(window, name: str) -> str:
    return window.actions_by_name[name].shortcut().toString(QKeySequence.SequenceFormat.PortableText)


def test_menus_hold_what_a_desktop_user_expects_with_their_shortcuts(qtbot, gui_settings):
    window = make_window(qtbot, gui_settings)
    menus = {action.text().replace("&", ""): [a.text().replace("&", "") for a in action.menu().actions()
                                              if not a.isSeparator()]
             for action in window.menuBar().actions()}
    assert list(menus) == ["File", "View", "Version", "Help"]
    assert menus["File"][:4] == ["Open bundle…", "Open bundle archive…", "Open registry…",
                                 "Import bundle into the registry…"]
    assert menus["Version"] == ["My queue", "Registry", "Audit log", "Promote…", "Signing station…", "Roll back…",
                                 "Compare…", "Export auditor report…", "Push to OCI registry…"]
    assert "Import from an OCI registry or layout…" in menus["File"]
    assert menus["File"][-1] == "Quit" and "Settings…" in menus["File"]
    assert menus["View"][:2] == ["Refresh", "Find"] and "Re-run validation" in menus["View"]
    assert menus["Help"] == ["Rule reference", "Bundle format reference", "Keyboard shortcuts",
                             "Report a problem…", "About ModelGate"]
    assert shortcut(window, "Rule reference") == "F1"
    assert shortcut(window, "Open bundle") == "Ctrl+O"
    assert shortcut(window, "Open registry") == "Ctrl+Shift+O"
    assert shortcut(window, "Quit") == "Ctrl+Q"
    assert shortcut(window, "Refresh") == "F5"
    assert shortcut(window, "Find") == "Ctrl+F"
    assert shortcut(window, "Overview") == "Ctrl+1" and shortcut(window, "History") == "Ctrl+9"
    assert shortcut(window, "My queue") == "Ctrl+Shift+Q" and shortcut(window, "Import bundle into the registry") == "Ctrl+I"
    # Without a version in view, the workflow actions say why they are off.
    promote = window.version_actions.actions["promote"]
    assert not promote.isEnabled() and promote.toolTip() == "Select a version of the registry first."


@pytest.mark.slow
def test_tab_shortcuts_switch_the_inspector(qtbot, demo_window):
    select(qtbot, demo_window, "credit-risk@1.1.0")
    demo_window.actions_by_name["Validation"].trigger()
    assert demo_window.inspector.tabs.currentWidget() is demo_window.inspector.validation


@pytest.mark.slow
def test_refresh_reloads_the_listing_and_checks_the_version_again(qtbot, demo_window):
    inspector = select(qtbot, demo_window, "credit-risk@1.1.0")
    first = inspector.report
    with qtbot.waitSignals([inspector.validation_finished, demo_window.registry_panel.model.page_loaded],
                           timeout=60_000):
        demo_window.actions_by_name["Refresh"].trigger()
    assert inspector.report is not first
    current = demo_window.registry_panel.table.currentIndex()
    assert demo_window.registry_panel.model.version_at(current.row()).ref == "credit-risk@1.1.0"


def test_about_names_the_version(qtbot, gui_settings):
    window = make_window(qtbot, gui_settings)
    window.actions_by_name["About ModelGate"].trigger()
    box = next(b for b in window.findChildren(QMessageBox) if b.objectName() == "about-box")
    assert f"ModelGate {__version__}" in box.text() and "Qt " in box.text()
    box.close()


def test_settings_are_edited_stored_and_applied(qtbot, gui_settings, tmp_path):
    dialog = SettingsDialog(settings=gui_settings)
    qtbot.addWidget(dialog)
    assert set(dialog.fields) == set(SETTINGS)
    assert dialog.fields["theme"].currentText() == "system"
    dialog.fields["registry_url"].setText(f"sqlite:///{tmp_path}/registry.db")
    dialog.fields["acting_user"].setText("ben")
    dialog.fields["trust_store"].setText(str(tmp_path))
    dialog.fields["theme"].setCurrentText("dark")
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    again = GuiSettings.at(path=gui_settings.store.fileName())
    assert again.get("registry_url") == f"sqlite:///{tmp_path}/registry.db"
    assert again.get("acting_user") == "ben" and again.get("theme") == "dark"
    assert again.get("policy_file") == ""                                    # untouched: its default


def test_the_settings_dialog_applies_the_theme(qtbot, gui_settings, monkeypatch, tmp_path):
    window = make_window(qtbot, gui_settings)
    hints = QApplication.instance().styleHints()
    (tmp_path / "keys").mkdir()

    def choose(dialog_self):
        dialog_self.findChild(QComboBox, "setting-theme").setCurrentText("dark")
        dialog_self.findChild(QLineEdit, "setting-trust_store").setText(str(tmp_path / "keys"))
        SettingsDialog.accept(dialog_self)
        return True

    monkeypatch.setattr(SettingsDialog, "exec", choose)
    app = QApplication.instance()
    try:
        window.actions_by_name["Settings"].trigger()
        # Dark either way: the platform switched, or (offscreen) the app set a dark palette.
        assert hints.colorScheme() == Qt.ColorScheme.Dark or app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        qtbot.waitUntil(lambda: window.palette().color(QPalette.ColorRole.Base).lightness() < 80)
        assert window.inspector.trust_store == str(tmp_path / "keys")
    finally:
        apply_theme(app, theme="system")
    assert gui_settings.get("theme") == "dark"
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180


def test_a_broken_setting_falls_back_to_its_default(gui_settings):
    gui_settings.store.setValue("settings/theme", "sepia")
    assert gui_settings.get("theme") == "system"


def test_geometry_and_splitters_come_back_next_time(qtbot, demo_window, demo_workspace):
    from modelgate.gui.app.main_window import MainWindow, SessionOverrides

    demo_window.resize(760, 560)              # within the offscreen screen, which restoring respects
    demo_window.splitter.setSizes([300, 600])
    saved = (demo_window.width(), demo_window.height())
    split = demo_window.splitter.sizes()
    demo_window.inspector.validation.splitter.setSizes([700, 300])
    demo_window.close()
    again = MainWindow(settings=GuiSettings.at(path=demo_window.settings.store.fileName()),
                       overrides=SessionOverrides(registry=f"sqlite:///{demo_workspace / 'registry.db'}"))
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.registry_panel.model.page_loaded, timeout=30_000):
        again.open_registry()
    assert (again.width(), again.height()) == saved
    assert again.splitter.sizes() == split, (split, again.splitter.sizes())
    left, right = again.inspector.validation.splitter.sizes()
    assert left > 2 * right


def test_version_compare_opens_the_chooser_for_the_version_in_view(qtbot, demo_window):
    select(qtbot, demo_window, "credit-risk@1.2.0")
    demo_window.version_actions.actions["compare"].trigger()
    dialog = demo_window.version_actions.dialog
    qtbot.waitUntil(lambda: None not in dialog.chosen, timeout=30_000)
    assert dialog.chosen == (("credit-risk", "1.1.0"), ("credit-risk", "1.2.0"))
    dialog.reject()
