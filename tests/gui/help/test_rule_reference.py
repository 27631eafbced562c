"""Help › Rule reference shows the catalogue `modelgate explain` prints, and searches it."""

from __future__ import annotations

from modelgate.core.checks.catalog import catalog


def test_every_rule_is_listed_with_its_rationale_and_fix(qtbot):
    from modelgate.gui.help.rule_reference import RuleReferenceDialog

    dialog = RuleReferenceDialog()
    qtbot.addWidget(dialog)
    rules = catalog()
    assert dialog.visible_ids() == list(rules) and len(rules) > 50
    assert dialog.count.text() == f"{len(rules)} rules"
    for rule in list(rules.values())[::7]:
        dialog.show_rule(rule.id)
        shown = " ".join(dialog.text.toPlainText().split())
        assert f"{rule.id} — {rule.title}" in shown
        assert rule.rationale in shown and rule.fix in shown and rule.family in shown


def test_the_text_is_what_modelgate_explain_prints(qtbot, capsys):
    from modelgate.core.cli.main import main
    from modelgate.gui.help.rule_reference import RuleReferenceDialog

    dialog = RuleReferenceDialog(rule_id="MG101")
    qtbot.addWidget(dialog)
    assert main(["explain", "MG101"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    shown = " ".join(dialog.text.toPlainText().split())
    rule = catalog()["MG101"]
    for part in (rule.rationale, rule.fix, rule.title):
        assert part in printed and part in shown


def test_search_narrows_by_every_word_and_says_what_it_hides(qtbot):
    from modelgate.gui.help.rule_reference import RuleReferenceDialog

    dialog = RuleReferenceDialog()
    qtbot.addWidget(dialog)
    rules = catalog()
    dialog.search.setText("license")
    hits = dialog.visible_ids()
    expected = [r.id for r in rules.values()
                if "license" in " ".join((r.id, r.title, r.family, r.rationale, r.fix)).lower()]
    assert hits == expected and 0 < len(hits) < len(rules)
    assert dialog.count.text() == f"{len(hits)} of {len(rules)} rules match 'license'"
    assert dialog.list.currentItem().data(0x0100) == hits[0]     # the first match is shown
    some = list(rules)[3]
    dialog.search.setText(some.lower())         # an id, in any case
    assert some in dialog.visible_ids()
    dialog.search.setText("license zzzunknownword")
    assert dialog.visible_ids() == []
    assert dialog.count.text() == f"No rule matches 'license zzzunknownword' — all {len(rules)} hidden by the search"
    assert "Clear the search" in dialog.text.toPlainText()
    dialog.search.clear()
    assert len(dialog.visible_ids()) == len(rules)


def test_the_menu_reads_the_catalogue_off_the_ui_thread_then_opens_the_reference(qtbot, gui_settings):
    from modelgate.gui.help.rule_reference import RuleReferenceDialog
    from tests.gui_support import make_window

    window = make_window(qtbot, gui_settings)
    window.actions_by_name["Rule reference"].trigger()
    qtbot.waitUntil(lambda: bool(window.findChildren(RuleReferenceDialog)), timeout=30_000)
    (dialog,) = window.findChildren(RuleReferenceDialog)
    assert dialog.isVisible() and dialog.visible_ids() == list(catalog())
    dialog.close()
