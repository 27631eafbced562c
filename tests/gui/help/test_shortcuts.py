"""Help › Keyboard shortcuts lists what the window's actions really answer to."""

from __future__ import annotations

from tests.gui_support import make_window


def test_the_list_is_the_window_s_own_actions(qtbot, gui_settings):
    from PySide6.QtGui import QAction, QKeySequence

    from modelgate.gui.help.shortcuts import ShortcutsDialog, shortcuts

    window = make_window(qtbot, gui_settings)
    listed = shortcuts(window)
    assert {"File", "View", "Version", "Help"} <= set(listed)
    flat = {(text, keys) for rows in listed.values() for text, keys, _ in rows}
    expected = {(a.text().replace("&", "").rstrip("…"), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for a in window.findChildren(QAction) if not a.shortcut().isEmpty() and a in window.actions()}
    assert expected and expected <= flat
    assert ("Rule reference", "F1") in flat and ("Promote", "Ctrl+Shift+P") in flat
    # An action added later is listed too: nothing is kept by hand.
    extra = QAction("Zoom the graph", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+Z"))
    window.addAction(extra)
    assert ("Zoom the graph", "Ctrl+Alt+Z", "") in shortcuts(window)["Other"]
    dialog = ShortcutsDialog(window=window)
    qtbot.addWidget(dialog)
    rows = [dialog.tree.topLevelItem(i).child(j).text(0) for i in range(dialog.tree.topLevelItemCount())
            for j in range(dialog.tree.topLevelItem(i).childCount())]
    assert "Rule reference" in rows and "Zoom the graph" in rows
