"""Help › Rule reference: every rule with why it matters and how to fix it, searchable.

The text is the catalogue's (:func:`modelgate.core.checks.catalog.catalog`), the same data
``modelgate rules`` and ``modelgate explain`` print, so the app and the command line never
disagree about a rule.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QListView, QListWidget, QListWidgetItem,
                               QSplitter, QTextBrowser, QVBoxLayout, QWidget)

from modelgate.core.checks.catalog import catalog
from modelgate.core.rules import Rule


def rule_html(rule: Rule) -> str:
    """One rule as the reference shows it (rich text): what ``modelgate explain`` prints."""
    return (f"<h3>{escape(rule.id)} — {escape(rule.title)}</h3>"
            f"<p>Family: {escape(rule.family)} · default severity: {escape(rule.severity.value)}</p>"
            f"<h4>Why it matters</h4><p>{escape(rule.rationale)}</p>"
            f"<h4>How to fix it</h4><p>{escape(rule.fix)}</p>"
            "<h4>In a policy</h4><p>A policy can change its severity or disable it:</p>"
            f"<pre>rules:\n  {escape(rule.id)}: {{severity: warning}}</pre>"
            f"<p>On the command line: <code>modelgate explain {escape(rule.id)}</code></p>")


def matches(rule: Rule, text: str) -> bool:
    """Whether every word of ``text`` appears in the rule's id, title, family, rationale or fix."""
    haystack = " ".join((rule.id, rule.title, rule.family, rule.severity.value, rule.rationale, rule.fix)).lower()
    return all(word in haystack for word in text.lower().split())


class RuleReferenceDialog(QDialog):
    """The rule list on the left, filtered as the user types; the chosen rule's text on the right."""

    def __init__(self, *, parent: QWidget | None = None, rule_id: str | None = None,
                 rules: dict[str, Rule] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rule-reference")
        self.setWindowTitle("Rule reference")
        self.resize(900, 600)
        self.rules = rules if rules is not None else catalog()
        self.search = QLineEdit(objectName="rule-search", placeholderText="Search rules: id, words of the title, "
                                                                          "rationale or fix")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(objectName="rule-list")
        # A long title wraps onto a second line within the list's width, never scrolled or cut.
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        for rule in self.rules.values():
            item = QListWidgetItem(f"{rule.id}  {rule.title}")
            item.setData(Qt.ItemDataRole.UserRole, rule.id)
            item.setToolTip(f"{rule.id} {rule.title} ({rule.family} · {rule.severity.value})")
            self.list.addItem(item)
        self.text = QTextBrowser(objectName="rule-text")
        self.text.setOpenLinks(False)
        self.count = QLabel(objectName="rule-count")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(self.text)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.count)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self._on_search_text_changed("")
        if rule_id is not None:
            self.show_rule(rule_id)

    def visible_ids(self) -> list[str]:
        """The ids the list shows now, in order."""
        return [self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())
                if not self.list.item(row).isHidden()]

    def show_rule(self, rule_id: str) -> None:
        """Select ``rule_id`` (clearing the search if it hides it)."""
        if rule_id not in self.visible_ids():
            self.search.clear()
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == rule_id:
                self.list.setCurrentRow(row)

    def _on_search_text_changed(self, text: str) -> None:
        shown = 0
        for row in range(self.list.count()):
            item = self.list.item(row)
            hit = matches(self.rules[item.data(Qt.ItemDataRole.UserRole)], text)
            item.setHidden(not hit)
            shown += hit
        total = len(self.rules)
        if not text.strip():
            self.count.setText(f"{total} rules")
        elif shown:
            self.count.setText(f"{shown} of {total} rules match '{text.strip()}'")
        else:
            self.count.setText(f"No rule matches '{text.strip()}' — all {total} hidden by the search")
        current = self.list.currentItem()
        if current is None or current.isHidden():
            visible = self.visible_ids()
            if visible:
                self.show_rule(visible[0])
            else:
                self.list.setCurrentRow(-1)
                self.text.setPlainText(f"No rule matches '{text.strip()}'. Clear the search to see all {total}.")

    def _on_list_current_item_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is not None:
            self.text.setHtml(rule_html(self.rules[current.data(Qt.ItemDataRole.UserRole)]))


def show_rule_reference(*, parent: QWidget, workers=None) -> None:
    """Open the rule reference (non-modal; returns at once). With ``workers`` (the window's), the
    catalogue, which imports every check module the first time, is read off the UI thread."""
    def open_with(rules: dict[str, Rule]) -> None:
        dialog = RuleReferenceDialog(parent=parent, rules=rules)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    if workers is None:
        open_with(catalog())
        return
    from modelgate.gui.ops.background import BackgroundOperation

    BackgroundOperation(parent=parent, executor=workers.bundles, work=lambda _progress: catalog()) \
        .on_success(open_with).start()
