"""TFLite: the graph's operators and ports, read from the flatbuffer."""

from __future__ import annotations

from modelgate.core.formats import registry
from tests.core.formats import _writers


def test_tflite_facts_are_the_graph(tmp_path):
    fmt = registry.by_name("tflite")
    facts = fmt.read(path=_writers.write_tflite(tmp_path / "m.tflite"), label="m.tflite")
    assert facts.interface() == {"inputs": [{"name": "input", "dtype": "float32", "shape": ["dim0", 4]}],
                                 "outputs": [{"name": "output", "dtype": "float32", "shape": ["dim0", 3]}]}
    assert facts.operators == (("FULLY_CONNECTED", 9),) and facts.custom_operators == ()
    assert [(t.name, t.nbytes) for t in facts.tensors] == [("dense/weights", 48)]
    custom = fmt.read(path=_writers.write_tflite(tmp_path / "c.tflite", custom="MyOp"), label="c")
    assert custom.custom_operators == ("MyOp",)
