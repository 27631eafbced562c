"""Help › Bundle format reference: the shipped standard, rendered and cleaned as a model card is."""

from __future__ import annotations

import re

from modelgate.core import resources


def test_the_shipped_standard_is_shown_whole_and_findable(qtbot):
    from modelgate.gui.help.format_reference import SPEC, FormatReferenceDialog

    dialog = FormatReferenceDialog()
    qtbot.addWidget(dialog)
    shown = dialog.browser.toPlainText()
    sections = re.findall(r"^## (\d+\. .+)$", resources.text(SPEC), flags=re.MULTILINE)
    assert len(sections) >= 9
    for heading in sections:       # every numbered section, as a heading, its Markdown markers gone
        assert f"\n{heading.replace('`', '')}\n" in shown and f"## {heading}" not in shown
    assert not shown.startswith("#") and shown.startswith("ModelGate bundle standard")
    dialog.find.setText("bundle_format")
    assert dialog.find_next() and dialog.browser.textCursor().selectedText() == "bundle_format"
    first = dialog.browser.textCursor().position()
    assert dialog.find_next() and dialog.browser.textCursor().position() > first
    dialog.find.setText("no such words in the standard")
    assert not dialog.find_next() and dialog.found.text() == "'no such words in the standard' is not in the reference"


def test_the_reference_is_sanitised_like_any_rendered_markdown(qtbot, monkeypatch):
    from modelgate.gui.help import format_reference

    monkeypatch.setattr(format_reference.resources, "text",
                        lambda name: "# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <b>ok</b>")
    dialog = format_reference.FormatReferenceDialog()
    qtbot.addWidget(dialog)
    html = dialog.browser.toHtml()
    assert "alert" not in html and "javascript:" not in html and "ok" in dialog.browser.toPlainText()
