"""The comparison's smaller sections: interface, license and targets, findings only one side
has, and what could not be compared."""

from __future__ import annotations

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QWidget

from modelgate.core.compare.manifest_diff import show
from modelgate.gui.compare.graph_section import CHANGE_COLOURS
from modelgate.gui.app.theme import follow_theme
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED, form, note, section, table, value_label

SEVERITY_COLOURS = {"error": BAD, "warning": DOUBT, "info": MUTED}


def _tensor(tensor) -> str:
    return "—" if tensor is None else f"{tensor.dtype or '?'} {show(tensor.shape)}"


def interface_section(comparison) -> QWidget:
    """Inputs and outputs added, removed or changed, as the manifests declare them."""
    changes = comparison.interface
    if not changes:
        return section("Interface", note("Inputs and outputs are unchanged.", colour=GOOD))
    rows = [(c.kind, c.name, c.change, _tensor(c.a), _tensor(c.b)) for c in changes]
    widget = table(("", "Name", "Change", "A", "B"), rows, stretch=4,
                   colours=[CHANGE_COLOURS[c.change] for c in changes], object_name="interface-changes")
    return section("Interface", note(f"{len(changes)} input(s) or output(s) differ: a caller of A may need "
                                     "changes to call B.", colour=DOUBT), widget)


def license_targets_section(comparison) -> QWidget:
    """The license expressions, and the deployment targets added, removed or changed."""
    a, b = comparison.a, comparison.b
    if comparison.license_changed:
        text = value_label(f"{a.license or 'none'} → {b.license or 'none'}")
        follow_theme(text, lambda: text.setStyleSheet(f"color: {DOUBT}; font-weight: bold;"))
    else:
        text = value_label(f"{a.license or 'none'} (unchanged)")
    widgets = [form([("License", text)])]
    if comparison.targets:
        rows = [(t.name, t.change, "; ".join(f"{k}: {show(x)} → {show(y)}" for k, x, y in t.fields) or "—")
                for t in comparison.targets]
        widgets.append(table(("Target", "Change", "What changed"), rows, stretch=2,
                             colours=[CHANGE_COLOURS[t.change] for t in comparison.targets],
                             object_name="target-changes"))
    else:
        widgets.append(note("Deployment targets are unchanged.", colour=GOOD))
    return section("License and targets", *widgets)


def _findings_table(findings, name: str) -> QWidget:
    rows = [(f.severity.value, f.rule, f.message, str(f.location)) for f in findings]
    widget = table(("Severity", "Rule", "Message", "Where"), rows, stretch=2, object_name=name)
    for row, finding in enumerate(findings):
        if finding.hint:
            widget.item(row, 2).setToolTip(f"{finding.message}\n\nHow to fix: {finding.hint}")

    def colour() -> None:
        for row, finding in enumerate(findings):
            widget.item(row, 0).setForeground(QBrush(SEVERITY_COLOURS[finding.severity.value].qcolor()))
    follow_theme(widget, colour)
    return widget


def _judgement(side, role: str) -> str:
    verdict = "passes" if side.passed else "does not pass"
    return f"{role} {side.label} {verdict} ({side.count_text()}): {side.describe()}."


def findings_section(comparison) -> QWidget:
    """The findings only A has (gone in B) and only B has (new in B)."""
    found = comparison.findings
    if found is None:
        return section("Findings only one side has", note("The findings were not compared.", colour=MUTED))
    widgets = [note(f"Both validated for {found.stage} under policy {found.policy_name}, each as its promotion "
                    f"gate would judge it. {found.in_both} finding(s) are in both."),
               note(_judgement(found.a, "A"), colour=GOOD if found.a.passed else BAD),
               note(_judgement(found.b, "B"), colour=GOOD if found.b.passed else BAD)]
    for title, rows, name in ((f"Only in B, new in {found.b.label}", found.only_in_b, "findings-only-in-b"),
                              (f"Only in A, gone in {found.b.label}", found.only_in_a, "findings-only-in-a")):
        content = _findings_table(rows, name) if rows else note("None.", colour=MUTED)
        widgets.append(section(f"{title} ({len(rows)})", content))
    return section("Findings only one side has", *widgets)


def problems_section(comparison) -> QWidget | None:
    """What could not be read, if anything."""
    if not comparison.problems:
        return None
    return section("Could not compare", *[note(problem, colour=DOUBT) for problem in comparison.problems])
