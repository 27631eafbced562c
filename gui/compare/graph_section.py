"""What changed in the graphs: per ONNX artifact, the operators by type, the parameter count,
the initializers added, removed or changed, the opsets, IR version and producer."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from modelgate.core.formats.onnx.graph_diff import describe_pair
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED, form, note, section, table

CHANGE_COLOURS = {"added": GOOD, "removed": BAD, "changed": DOUBT}


def _opsets(artifact) -> str:
    shown = []
    for domain, a, b in artifact.opsets:
        name = domain or "ai.onnx"
        shown.append(f"{name} {a}" if a == b else f"{name} {a if a is not None else '—'} → "
                     f"{b if b is not None else '—'}")
    return ", ".join(shown) + ("" if artifact.opset_changes else " (unchanged)")


def _summary(artifact) -> str:
    parts = []
    if artifact.ops:
        added = sum(1 for o in artifact.ops if o.change == "added")
        removed = sum(1 for o in artifact.ops if o.change == "removed")
        parts.append(f"{added} operator type(s) added, {removed} removed, "
                     f"{len(artifact.ops) - added - removed} used a different number of times")
    if artifact.initializers:
        parts.append(f"{len(artifact.initializers)} of {max(artifact.initializer_count):,} initializers differ")
    if artifact.parameters[0] != artifact.parameters[1]:
        parts.append(f"parameters {describe_pair(artifact.parameters)}")
    if artifact.opset_changes:
        parts.append("opsets changed")
    return "; ".join(parts) + "." if parts else "Nothing changed in this graph."


def _artifact(artifact) -> QWidget:
    title = artifact.title + (f" ({artifact.variant})" if artifact.variant else "")
    if artifact.problem:
        return section(title, note(f"Could not be compared: {artifact.problem}", colour=BAD))
    if artifact.change != "compared":
        count = artifact.parameters[1] if artifact.change == "added" else artifact.parameters[0]
        return section(title, note(f"Only in {'B' if artifact.change == 'added' else 'A'}: {artifact.change}, "
                                   f"{count:,} parameters.", colour=CHANGE_COLOURS[artifact.change]))
    widgets = [note(_summary(artifact), colour=DOUBT if artifact.changed else GOOD), form([
        ("Parameters", describe_pair(artifact.parameters)), ("Nodes", describe_pair(artifact.nodes)),
        ("Opsets", _opsets(artifact)), ("IR version", describe_pair(artifact.ir_version)),
        ("Producer", describe_pair(artifact.producer))])]
    if artifact.ops:
        widgets.append(table(("Operator", "A", "B", "Change"), [(o.op, o.a, o.b, o.change) for o in artifact.ops],
                             stretch=0, colours=[CHANGE_COLOURS[o.change] for o in artifact.ops],
                             object_name="op-changes"))
    else:
        widgets.append(note("The same operators, as many times each.", colour=MUTED))
    if artifact.initializers:
        widgets.append(table(
            ("Initializer", "Change", "A", "B", "What differs"),
            [(i.name, i.change, i.a.describe() if i.a else "—", i.b.describe() if i.b else "—",
              ", ".join(i.differs) or i.change) for i in artifact.initializers],
            stretch=0, colours=[CHANGE_COLOURS[i.change] for i in artifact.initializers],
            object_name="initializer-changes", wrap=False))
    widgets += [note(f"Not compared: {why}", colour=DOUBT) for why in artifact.not_compared]
    return section(title, *widgets)


def graph_section(comparison) -> QWidget:
    """The Graph section: one group per ONNX artifact of either side."""
    if not comparison.graphs:
        return section("Graph", note("Neither version lists an ONNX artifact.", colour=MUTED))
    changed = sum(1 for artifact in comparison.graphs if artifact.changed)
    intro = note(f"{changed} of {len(comparison.graphs)} ONNX artifact(s) differ. Weights are compared by "
                 "their SHA-256, read from the stored files.")
    return section("Graph", intro, *[_artifact(artifact) for artifact in comparison.graphs])
