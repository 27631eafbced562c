"""License: the SPDX expression broken down, each license's standing under the policy, the
license texts and the licenses of the datasets the model was built from."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QWidget

from modelgate.core.policy.licensing import Status
from modelgate.gui.app.theme import follow_theme
from modelgate.gui.inspector.widgets import BAD, STATUS_COLOURS, Page, form, note, section, table

VERDICTS = {
    Status.ALLOWED: "allowed: a licensee can pick an option made only of licenses the policy allows",
    Status.UNKNOWN: "not reviewed: the best option includes licenses the policy neither allows nor denies",
    Status.DENIED: "denied: every option includes a license the policy denies",
}


class LicenseTab(Page):
    """The License tab."""

    def show_subject(self, subject) -> None:
        facts, policy = subject.facts.licenses, subject.policy
        rows = [("As written", facts.expression), ("Normalised (SPDX)", facts.normalized)]
        if facts.problem:
            rows.append(("Problem", facts.problem))
        if facts.evaluation is not None:
            evaluation = facts.evaluation
            rows.append((f"Under policy {policy.name}", VERDICTS[evaluation.status]))
            rows.append(("Best option", " AND ".join(evaluation.chosen)))
            if evaluation.denied:
                rows.append(("Denied, unavoidable", ", ".join(evaluation.denied)))
            if evaluation.unknown:
                rows.append(("Not reviewed", ", ".join(evaluation.unknown)))
        expression = section("License expression", form(rows))
        if facts.evaluation is not None:
            colour = STATUS_COLOURS[facts.evaluation.status.value]
            follow_theme(expression, lambda: expression.setStyleSheet(
                f"QGroupBox {{ border: 2px solid {colour}; border-radius: 6px; margin-top: 1.2em; "
                "padding-top: 0.6em; }"))
        terms = section(f"Each license, under policy {policy.name}", table(
            ("License", "With exception", "Policy"),
            [(t.key, t.exception, t.status.value) for t in facts.terms], stretch=0,
            colours=[STATUS_COLOURS[t.status.value] for t in facts.terms], object_name="license-terms")
            if facts.terms else note("No license could be read from bundle.yaml.", colour=BAD))
        datasets = section(f"Dataset licenses, under policy {policy.name}", table(
            ("Dataset", "Version", "License", "Policy"),
            [(d.name, d.version, d.license, d.status.value if d.status else d.problem) for d in facts.datasets],
            stretch=2, colours=[STATUS_COLOURS[d.status.value] if d.status else BAD for d in facts.datasets],
            object_name="dataset-licenses")
            if facts.datasets else note("bundle.yaml lists no datasets under provenance."))
        self.replace(expression, terms, datasets, section("License texts", self._texts(facts.texts)))

    @staticmethod
    def _texts(texts) -> QWidget:
        if not texts:
            return note("The bundle holds no license text.", colour=BAD)
        tabs = QTabWidget(objectName="license-texts")
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for name, text in texts:
            view = QPlainTextEdit(text)
            view.setReadOnly(True)
            view.setFont(fixed)
            view.setMinimumHeight(260)
            tabs.addTab(view, name)
        return tabs
