"""Interface and graph: the inputs and outputs declared in bundle.yaml beside the ones the graph
really has, differences highlighted; the graph's opset, producer, operators, parameters and size;
and **Open graph**, which shows the whole graph in Netron."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from modelgate.core.outputs import human_bytes
from modelgate.gui.inspector.model_facts import model_sections
from modelgate.gui.app import theme
from modelgate.gui.inspector.widgets import BAD, GOOD, Page, form, note, section, table

#: The table's columns holding each side's dtype and shape, by the difference they show.
DIFFERENCE_COLUMNS = {"dtype": (2, 4), "shape": (3, 5), "missing in graph": (4, 5), "not declared": (2, 3)}


def _shape(shape) -> str:
    return "—" if shape is None else "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


class InterfaceTab(QWidget):
    """The Interface and graph tab."""

    graph_requested = Signal(str)       # the artifact's path inside the bundle

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.artifact_box = QComboBox(objectName="artifact-choice")
        self.open_button = QPushButton("Open graph", objectName="open-graph")
        self.open_button.setToolTip("Show the whole graph in Netron, offline")
        self.graph_note = QLabel(objectName="graph-note")
        self.graph_note.setWordWrap(True)
        self.page = Page()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Artifact:"))
        bar.addWidget(self.artifact_box, 1)
        bar.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graph_note)
        layout.addWidget(self.page, 1)
        self.graph_note.setVisible(False)
        self._graphs = []
        self.artifact_box.currentIndexChanged.connect(self._on_artifact_box_current_index_changed)
        self.open_button.clicked.connect(self._on_open_button_clicked)

    def show_subject(self, subject) -> None:
        self._graphs = subject.facts.graphs
        self.graph_note.setVisible(False)
        self.artifact_box.blockSignals(True)
        self.artifact_box.clear()
        for graph in self._graphs:
            self.artifact_box.addItem(f"{graph.path} ({graph.variant})" if graph.variant else graph.path)
        self.artifact_box.blockSignals(False)
        self.artifact_box.setEnabled(len(self._graphs) > 1)
        self._show(0)

    def show_graph_note(self, text: str) -> None:
        """Say what happened to the last Open graph (e.g. why the viewer could not run)."""
        self.graph_note.setText(text)
        self.graph_note.setVisible(bool(text))

    @property
    def current_artifact(self) -> str | None:
        index = self.artifact_box.currentIndex()
        return self._graphs[index].path if 0 <= index < len(self._graphs) else None

    def _show(self, index: int) -> None:
        if not self._graphs:
            self.open_button.setEnabled(False)
            self.page.replace(note("bundle.yaml lists no artifact.", colour=BAD))
            return
        graph = self._graphs[index]
        self.open_button.setEnabled(graph.summary is not None or graph.model is not None)
        if graph.model is not None:
            self.page.replace(*model_sections(graph))
            return
        if graph.summary is None:
            self.page.replace(note(graph.problem or "The graph cannot be read.", colour=BAD))
            return
        summary = graph.summary
        different = [p for p in graph.ports if not p.matches]
        verdict = (note("Declared and real interface agree.", colour=GOOD) if not different else
                   note(f"{len(different)} input(s)/output(s) differ from what bundle.yaml declares: "
                        + "; ".join(f"{p.direction} {p.name} ({', '.join(p.differences)})" for p in different),
                        colour=BAD))
        facts = form([
            ("Default opset", summary.default_opset),
            ("Operator sets", ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in summary.opsets)),
            ("IR version", summary.ir_version), ("Producer", summary.producer),
            ("Nodes", f"{summary.node_count:,}"),
            ("Parameters", f"{summary.parameter_count:,} in {summary.initializer_count:,} initializers"),
            ("Size", f"{human_bytes(summary.size_bytes)}" + (
                f" (with external data: {', '.join(summary.external_files)})" if summary.external_files else "")),
        ])
        operators = table(("Operator", "Nodes"), summary.op_counts, stretch=0, object_name="op-counts")
        self.page.replace(section("Inputs and outputs: declared beside the graph", verdict, self._ports(graph)),
                          section("Graph", facts), section("Nodes by operator", operators))

    @staticmethod
    def _ports(graph) -> QWidget:
        rows = []
        for port in graph.ports:
            declared = port.declared or (None, None)
            real = port.graph or (None, None)
            rows.append((port.direction, port.name, declared[0] or "—", _shape(declared[1]),
                         real[0] or "—", _shape(real[1]), "matches" if port.matches else ", ".join(port.differences)))
        widget = table(("", "Name", "Declared dtype", "Declared shape", "Graph dtype", "Graph shape", "Status"),
                       rows, stretch=6, object_name="interface-ports")

        def mark_ports() -> None:
            bad, tint = QBrush(BAD.qcolor()), QBrush(theme.tint("bad"))
            for row, port in enumerate(graph.ports):
                for difference in port.differences:
                    for column in (*DIFFERENCE_COLUMNS[difference], 6):
                        item = widget.item(row, column)
                        item.setForeground(bad)
                        item.setBackground(tint)
                if port.matches:
                    widget.item(row, 6).setForeground(QBrush(GOOD.qcolor()))

        theme.follow_theme(widget, mark_ports)
        return widget

    def _on_artifact_box_current_index_changed(self, index: int) -> None:
        if index >= 0:
            self._show(index)

    def _on_open_button_clicked(self) -> None:
        if self.current_artifact:
            self.graph_requested.emit(self.current_artifact)
