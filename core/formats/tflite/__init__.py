"""TFLite: the mobile flatbuffer format, read with the ``tflite`` schema package."""

from __future__ import annotations

from pathlib import Path

from modelgate.core.formats.interface import ModelFacts, RuntimeUnavailable, Starter, single_file
from modelgate.core.formats.tflite.reader import IDENTIFIER, read_file


class TfliteFormat:
    """TensorFlow Lite models: a graph with its inputs, outputs, operators and weights."""

    names = ("tflite",)
    title = "TFLite"
    suffixes = (".tflite",)
    runtimes = ("tflite",)
    executes_code = False
    onnx_checks = False

    def detect(self, *, head: bytes, path: Path) -> bool:
        """The flatbuffer file identifier ``TFL3`` sits at bytes 4-8."""
        return head[4:8] == IDENTIFIER

    def read(self, *, path: Path, label: str) -> ModelFacts:
        """Operators, the interface and buffer bounds, from the mapped flatbuffer."""
        return read_file(path, label=label)

    def companions(self, *, path: Path) -> tuple[str, ...]:
        """The artifact is this one file."""
        return single_file(path=path)

    def cross_check(self, *, facts: ModelFacts, manifest):
        """The interface is compared by the contract checks; nothing else binds the manifest."""
        return iter(())

    def starter(self, *, path: Path, facts: ModelFacts) -> Starter:
        """The graph's interface, and int8 when the weights are integer-quantised."""
        quantised = bool(facts.tensors) and facts.dtypes[0] in ("int8", "uint8")
        return Starter(variant="int8" if quantised else None, interface=facts.interface())

    def runtime_check(self, *, path: Path) -> str | None:
        """Allocate the model's tensors in the LiteRT interpreter, where it is installed."""
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            try:
                from tflite_runtime.interpreter import Interpreter
            except ImportError:
                raise RuntimeUnavailable("neither ai-edge-litert nor tflite-runtime is installed") from None
        try:
            Interpreter(model_path=str(path)).allocate_tensors()
        except Exception as error:  # the interpreter raises ValueError or RuntimeError on bad models
            return f"the TFLite interpreter cannot load the model: {error}"
        return None


FORMAT = TfliteFormat()
