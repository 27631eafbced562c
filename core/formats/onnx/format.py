"""ONNX behind the format interface: the existing readers, wrapped.

The ONNX checks proper (external data, onnx's checker, the interface contract, smoke
inference: MG201-MG216) keep their own engine in core/checks/model.py; this object lets
everything else (inspect, compare, init, the app) ask about an ONNX file the same way
it asks about any other format.
"""

from __future__ import annotations

from pathlib import Path

from modelgate.core.formats.interface import (FormatError, ModelFacts, Port, RuntimeUnavailable, Starter,
                                              TensorInfo, single_file)
from modelgate.core.formats.onnx.info import default_opset, dtype_name, graph_interface, load_header
from modelgate.core.formats.onnx.load import _expected_bytes
from modelgate.core.formats.onnx.ortcompat import foreign_ops


def _ports(entries: list[dict]) -> tuple[Port, ...]:
    return tuple(Port(e["name"], e["dtype"], tuple(e["shape"])) for e in entries)


class OnnxFormat:
    """ONNX protobuf models: a graph, its opsets and initializers."""

    names = ("onnx",)
    title = "ONNX"
    suffixes = (".onnx",)
    runtimes = ("onnxruntime",)
    executes_code = False
    onnx_checks = True

    def detect(self, *, head: bytes, path: Path) -> bool:
        """A protobuf whose fields are those of an ONNX ModelProto."""
        from modelgate.core.bundle.scope import detect_model_format

        return detect_model_format(path) == "onnx"

    def read(self, *, path: Path, label: str) -> ModelFacts:
        """The graph without its external data: interface, operators, initializers."""
        try:
            model = load_header(path)
        except FormatError:
            raise
        except Exception as error:  # onnx raises DecodeError, ValueError, OSError...
            raise FormatError(f"{label} is not a readable ONNX model ({error.__class__.__name__})") from None
        ports = graph_interface(model)
        opsets = {entry.domain or "ai.onnx": int(entry.version) for entry in model.opset_import}
        operators = {(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}",
                      opsets.get(node.domain or "ai.onnx", 0)): None for node in model.graph.node}
        tensors = tuple(TensorInfo(t.name, dtype_name(t.data_type), tuple(int(d) for d in t.dims), _expected_bytes(t))
                        for t in model.graph.initializer)
        custom = tuple(sorted(f"{domain}.{op}" for domain, ops in foreign_ops(model).items() for op in ops))
        metadata = [("ir_version", str(model.ir_version)), ("opset", str(default_opset(model))),
                    ("producer", f"{model.producer_name} {model.producer_version}".strip())]
        metadata.extend((p.key, p.value[:200]) for p in model.metadata_props)
        return ModelFacts(format="onnx", path=label, size=path.stat().st_size, tensors=tensors,
                          metadata=tuple(metadata), inputs=_ports(ports["inputs"]),
                          outputs=_ports(ports["outputs"]), operators=tuple(operators), custom_operators=custom)

    def companions(self, *, path: Path) -> tuple[str, ...]:
        """The artifact is this one file."""
        return single_file(path=path)

    def cross_check(self, *, facts: ModelFacts, manifest):
        """The ONNX checks (MG2xx) compare the graph with the manifest."""
        return iter(())

    def starter(self, *, path: Path, facts: ModelFacts) -> Starter:
        """The graph states the interface."""
        return Starter(interface=facts.interface())

    def runtime_check(self, *, path: Path) -> str | None:
        """ONNX models run in the smoke-inference sandbox of the MG2xx checks."""
        raise RuntimeUnavailable("ONNX models are run by the smoke inference checks")


FORMAT = OnnxFormat()
