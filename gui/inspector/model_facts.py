"""A model file in a format other than ONNX, as the Interface tab shows it: a format badge, what
reading it found wrong, its metadata, the interface it states (or that it states none), and a
tensor table with each tensor's share of the total."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from modelgate.core.formats import registry
from modelgate.core.outputs import human_bytes
from modelgate.gui.inspector.widgets import BAD, GOOD, form, note, section, table

#: Metadata values longer than this are shortened (the table cell keeps the full text as tooltip).
_SHOWN = 160


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _interface(model: dict) -> QWidget:
    interface = model["interface"]
    if interface is None:
        return note("This file stores weights only; it states no inputs or outputs. The interface in "
                    "bundle.yaml is the manifest's promise alone and is not checked against the file.")
    rows = [(direction[:-1], port["name"], port["dtype"], _shape(port["shape"]))
            for direction in ("inputs", "outputs") for port in interface[direction]]
    return table(("", "Name", "Dtype", "Shape"), rows, stretch=1, object_name="model-ports")


def _tensors(model: dict) -> QWidget:
    rows = [(t["name"], t["dtype"], _shape(t["shape"]), human_bytes(t["bytes"]) if t["bytes"] is not None else "—",
             f"{t['share']:.1%}" if t["share"] is not None else "—") for t in model["tensors"]]
    rows.append(("Total", ", ".join(model["dtypes"][:4]), f"{model['parameters']:,} parameters",
                 human_bytes(model["tensor_bytes"]), "100%" if model["tensor_bytes"] else "—"))
    widget = table(("Tensor", "Dtype", "Shape", "Size", "Share"), rows, stretch=0, object_name="model-tensors",
                   wrap=False)
    # Tensor names are paths (model.layers.0.self_attn.q_proj.weight) that differ in their last
    # parts: a narrow column keeps the end, not the prefix every row shares.
    widget.setTextElideMode(Qt.TextElideMode.ElideLeft)
    return widget


def model_sections(graph) -> list[QWidget]:
    """The sections for one non-ONNX artifact (``graph`` is an ``ArtifactGraph`` with ``model``)."""
    model = graph.model
    verdict = (note("Reading the file found nothing wrong.", colour=GOOD) if not graph.warnings else
               note("\n".join(graph.warnings), colour=BAD))
    fmt = registry.by_name(model["format"])
    title = fmt.title if fmt is not None else model["format"]
    facts = form([("Format", title), ("Size", human_bytes(model["size"])),
                  ("Tensors", f"{model['tensor_count']:,}"), ("Parameters", f"{model['parameters']:,}"),
                  ("Types", ", ".join(model["dtypes"]) or "—")])
    sections = [section(f"{title} file", verdict, facts), section("Interface", _interface(model))]
    if model["metadata"]:
        rows = [(key, value if len(value) <= _SHOWN else value[:_SHOWN] + "…")
                for key, value in model["metadata"].items()]
        sections.append(section("Metadata", table(("Key", "Value"), rows, stretch=1, object_name="model-metadata",
                                                  wrap=False)))
    if model["operators"]:
        rows = [(o["name"], o["version"]) for o in model["operators"]]
        sections.append(section("Operators", table(("Operator", "Version"), rows, stretch=0,
                                                   object_name="model-operators")))
    if model["imports"]:
        sections.append(section("Callables the pickle imports (it is never loaded)",
                                table(("Import",), [(name,) for name in model["imports"]], stretch=0,
                                      object_name="model-imports")))
    sections.append(section("Tensors", _tensors(model)))
    return sections
