"""What a reviewer reads about an ONNX artifact: its graph's size and make-up, and its real
inputs and outputs beside the ones the manifest declares.

The graph is read without its external data (:func:`modelgate.core.formats.onnx.info.load_header`),
so a model of many gigabytes is summarised from its header alone; parameter counts come
from the initializers' shapes. onnx is imported inside the functions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from modelgate.core.formats.onnx import load as onnxload
from modelgate.core.bundle.reader import Bundle
from modelgate.core.bundle.manifest_types import Manifest, typed_manifest


@dataclass(frozen=True)
class GraphSummary:
    """One artifact's graph: who made it, which operators, how many parameters, how big."""

    path: str
    ir_version: int
    producer: str
    opsets: tuple[tuple[str, int], ...]          # (domain, version); "" is the default ONNX domain
    node_count: int
    op_counts: tuple[tuple[str, int], ...]        # (operator, nodes), most used first
    parameter_count: int
    initializer_count: int
    size_bytes: int                               # the model file and its external data files
    external_files: tuple[str, ...]
    inputs: tuple[str, ...]                       # what a caller feeds (initializers left out)
    outputs: tuple[str, ...]
    values: dict                                  # name -> (kind, dtype, shape), see onnxload.graph_values

    @property
    def default_opset(self) -> int | None:
        return next((version for domain, version in self.opsets if domain in ("", "ai.onnx")), None)


@dataclass(frozen=True)
class PortComparison:
    """One input or output as declared in the manifest beside what the graph has.

    ``declared`` or ``graph`` is ``None`` when that side lacks the tensor; ``differences``
    names what disagrees: "dtype", "shape", "missing in graph", "not declared".
    """

    direction: str        # "input" or "output"
    name: str
    declared: tuple[str | None, tuple | None] | None
    graph: tuple[str | None, tuple | None] | None
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences


def _nodes(graph):
    """Every node of ``graph`` and of the subgraphs its nodes hold (If, Loop, Scan bodies)."""
    pending = [graph]
    while pending:
        current = pending.pop()
        for node in current.node:
            yield node
            for attribute in node.attribute:
                if attribute.HasField("g"):
                    pending.append(attribute.g)
                pending.extend(attribute.graphs)


def summarise_graph(bundle: Bundle, path: str) -> GraphSummary:
    """Summarise artifact ``path`` of ``bundle``; raises what onnx raises for an unreadable file."""
    from modelgate.core.formats.onnx.info import load_header

    return summarise_model(bundle, path, load_header(bundle.resolve(path)))


def summarise_model(bundle: Bundle, path: str, model) -> GraphSummary:
    """Summarise ``model``, artifact ``path`` of ``bundle`` already loaded without its external data."""
    ops = Counter((f"{node.domain}." if node.domain not in ("", "ai.onnx") else "") + node.op_type
                  for node in _nodes(model.graph))
    parameters = sum(math.prod(tensor.dims) for tensor in model.graph.initializer)
    _, data_files = onnxload.check_external_data(bundle, path, onnxload.external_refs(model))
    producer = " ".join(part for part in (model.producer_name, model.producer_version) if part)
    weights = {tensor.name for tensor in model.graph.initializer}
    return GraphSummary(
        path=path, ir_version=int(model.ir_version), producer=producer or "not recorded",
        opsets=tuple((entry.domain, int(entry.version)) for entry in model.opset_import),
        node_count=sum(ops.values()), op_counts=tuple(ops.most_common()),
        parameter_count=int(parameters), initializer_count=len(model.graph.initializer),
        size_bytes=bundle.size(path) + sum(bundle.size(name) for name in data_files),
        external_files=tuple(sorted(data_files)),
        inputs=tuple(v.name for v in model.graph.input if v.name not in weights),
        outputs=tuple(v.name for v in model.graph.output), values=onnxload.graph_values(model))


def _declared_shape(shape) -> tuple | None:
    if shape is None:
        return None
    return tuple(onnxload.manifest_dim(d) for d in shape)


def compare_ports(manifest: dict | Manifest, graph: GraphSummary) -> list[PortComparison]:
    """Each declared tensor beside the graph's, then the graph's undeclared ones, inputs first.

    Dimensions differ when both are numbers and unequal, when one is fixed and the other
    symbolic, or when both are named differently (the checks report the same as MG2xx).
    """
    interface = (manifest if isinstance(manifest, Manifest) else typed_manifest(manifest)).interface
    rows = []
    for direction, key in (("input", "inputs"), ("output", "outputs")):
        declared = [t for t in getattr(interface, key) if t.name is not None]
        in_graph = graph.values
        names = {t.name for t in declared}
        ports = graph.inputs if direction == "input" else graph.outputs
        for tensor in declared:
            mine = (tensor.dtype, _declared_shape(tensor.shape))
            if tensor.name not in ports:
                rows.append(PortComparison(direction, tensor.name, mine, None, ("missing in graph",)))
                continue
            theirs = _graph_side(in_graph[tensor.name])
            rows.append(PortComparison(direction, tensor.name, mine, theirs, _differences(mine, theirs)))
        rows.extend(PortComparison(direction, name, None, _graph_side(in_graph[name]), ("not declared",))
                    for name in ports if name not in names)
    return rows


def _graph_side(value: tuple) -> tuple[str | None, tuple | None]:
    _, dtype, shape = value
    return dtype, tuple(shape) if shape is not None else None


def _differences(mine: tuple, theirs: tuple) -> tuple[str, ...]:
    found = []
    if mine[0] is not None and mine[0] != theirs[0]:
        found.append("dtype")
    wanted, shape = mine[1], theirs[1]
    if wanted is not None and shape is not None:
        if len(wanted) != len(shape) or any(
                w is not None and w != s and not (isinstance(w, str) and s is None)
                for w, s in zip(wanted, shape)):
            found.append("shape")
    return tuple(found)
