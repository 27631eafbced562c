"""The Settings dialog shows every value in force with its origin, never a blank, and checks edits."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from modelgate.core import settings as core_settings


@pytest.fixture
def clean_environment(monkeypatch):
    for variable in ("MODELGATE_REGISTRY", "MODELGATE_USER", *(s.env for s in core_settings.SETTINGS.values())):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def _dialog(qtbot, settings, **kwargs):
    from modelgate.gui.dialogs.settings_dialog import SettingsDialog

    dialog = SettingsDialog(settings=settings, **kwargs)
    qtbot.addWidget(dialog)
    return dialog


def test_nothing_set_still_shows_what_is_used_and_that_it_is_the_default(qtbot, gui_settings, clean_environment):
    from modelgate.gui.app.settings import SETTINGS
    from modelgate.gui.ops.registry import default_registry_url

    dialog = _dialog(qtbot, gui_settings)
    for key in SETTINGS:
        said = dialog.origins[key].text()
        assert said.startswith("In force: ") and said.endswith(" — from the default"), said
        value = said.removeprefix("In force: ").removesuffix(" — from the default")
        assert value.strip(), f"{key} shows a blank value"
        if key != "theme":
            assert dialog.fields[key].placeholderText() == value
    assert dialog.origins["registry_url"].text() == f"In force: {default_registry_url()} — from the default"


def test_each_origin_is_named(qtbot, gui_settings, clean_environment, tmp_path):
    from modelgate.gui.app.main_window import SessionOverrides

    clean_environment.setenv("MODELGATE_USER", "dana")
    clean_environment.setenv("MODELGATE_REGISTRY", "postgresql+psycopg://dana:pw@db/reg")
    gui_settings.set("theme", "dark")
    policy = tmp_path / "policy.yaml"
    dialog = _dialog(qtbot, gui_settings, overrides=SessionOverrides(policy=policy, user="dana"))
    assert dialog.origins["acting_user"].text() == "In force: dana — from the environment (MODELGATE_USER)"
    said = _dialog(qtbot, gui_settings, overrides=SessionOverrides(user="ben")).origins["acting_user"].text()
    assert said == "In force: ben — from the command line (this session only)"
    assert dialog.origins["registry_url"].text() == ("In force: postgresql+psycopg://dana:***@db/reg — from the "
                                                     "environment (MODELGATE_REGISTRY)")
    assert dialog.origins["theme"].text() == (f"In force: dark — from the settings file "
                                              f"({gui_settings.store.fileName()})")
    assert dialog.origins["policy_file"].text() == f"In force: {policy} — from the command line (this session only)"


def test_the_core_limits_are_listed_with_value_and_origin(qtbot, gui_settings, clean_environment):
    clean_environment.setenv("MODELGATE_MAX_YAML_NODES", "5000")
    clean_environment.setenv("MODELGATE_MAX_NESTING_DEPTH", "deep")
    table = _dialog(qtbot, gui_settings).limits_table
    rows = {table.item(r, 3).text(): (table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    assert set(rows) == {s.env for s in core_settings.SETTINGS.values()}
    assert rows["MODELGATE_MAX_YAML_NODES"] == ("5000", "environment")
    assert rows["MODELGATE_MAX_ARCHIVE_ENTRIES"] == ("10000", "default")
    value, origin = rows["MODELGATE_MAX_NESTING_DEPTH"]         # a wrong value is shown with why, not hidden
    assert origin == "environment" and value.startswith("deep (") and "is not a valid int" in value
    assert all(value.strip() for value, _ in rows.values())


@pytest.mark.parametrize(("key", "text", "said"), [
    ("registry_url", "mysql://db/reg", "Registry URL: 'mysql://db/reg' is not a registry URL"),
    ("registry_url", "sqlite:///{tmp}/missing/registry.db", "Registry URL: the folder {tmp}/missing does not exist."),
    ("acting_user", "ben smith", "Acting user: a user name has no spaces."),
    ("trust_store", "{tmp}/keys", "Trust store: {tmp}/keys does not exist."),
    ("signing_key", "{tmp}", "Signing key: {tmp} is not a file."),
    ("policy_file", "{tmp}/notes.txt", "Policy file: a policy is a .yaml or .yml file."),
])
def test_an_edit_that_cannot_be_used_is_refused_with_why(qtbot, gui_settings, clean_environment, tmp_path, key, text,
                                                         said):
    (tmp_path / "notes.txt").write_text("not a policy", encoding="utf-8")
    dialog = _dialog(qtbot, gui_settings)
    dialog.show()
    dialog.fields[key].setText(text.format(tmp=tmp_path))
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible() and dialog.problem.isVisible()
    assert said.format(tmp=tmp_path) in dialog.problem.text()
    assert gui_settings.store.value(f"settings/{key}") is None          # nothing stored
    dialog.fields[key].setText("")                                      # empty: the fallback again
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible()
