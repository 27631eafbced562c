"""Which inputs need real values: data flow from each graph input to shape-like operands."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

from modelgate.core.formats.onnx.value_inputs import value_dependent_inputs
from tests.conformance import corpus


def graph(nodes, inputs, outputs, *, initializers=()):
    return helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(initializers)),
                             opset_imports=[helper.make_opsetid("", 17)])


def value(name, elem=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def used(model) -> dict[str, str]:
    return {use.input: use.operator for use in value_dependent_inputs(model)}


def test_an_input_that_becomes_a_reshape_target_through_arithmetic_is_found():
    model = graph([helper.make_node("Add", ["target", "one"], ["t"]),
                   helper.make_node("Reshape", ["x", "t"], ["y"])],
                  [value("x", shape=[2, 3]), value("target", TensorProto.INT64, [2]),
                   value("one", TensorProto.INT64, [2])], [value("y")])
    assert used(model) == {"target": "Reshape", "one": "Reshape"}
    [use] = [u for u in value_dependent_inputs(model) if u.input == "target"]
    assert "feeds a shape or count of Reshape" in use.describe()


def test_a_shape_taken_with_shape_depends_on_no_values():
    model = graph([helper.make_node("Shape", ["x"], ["s"]),
                   helper.make_node("Reshape", ["x", "s"], ["y"])],
                  [value("x", shape=[2, 3])], [value("y")])
    assert used(model) == {}


def test_a_loop_trip_count_and_an_outer_value_read_inside_a_body_are_found():
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Expand", ["v_in", "outer_shape"], ["v_out"])],
        "body", [value("i", TensorProto.INT64, []), value("cond_in", TensorProto.BOOL, []),
                 value("v_in")], [value("cond_out", TensorProto.BOOL, []), value("v_out")])
    model = graph([helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)],
                  [value("trips", TensorProto.INT64, []), value("x", shape=[1]),
                   value("outer_shape", TensorProto.INT64, [1])], [value("y")])
    assert used(model) == {"trips": "Loop", "outer_shape": "Expand"}


def test_integer_divisors_need_values_and_float_ones_do_not():
    nodes = [helper.make_node("Div", ["a", "b"], ["y"])]
    ints = graph(nodes, [value("a", TensorProto.INT32, [3]), value("b", TensorProto.INT32, [3])],
                 [value("y", TensorProto.INT32, [3])])
    floats = graph(nodes, [value("a", shape=[3]), value("b", shape=[3])], [value("y", shape=[3])])
    assert used(ints) == {"b": "Div"}
    assert used(floats) == {}


def test_text_inputs_need_values_and_initializers_are_not_inputs():
    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [6])
    model = graph([helper.make_node("Reshape", ["x", "shape"], ["y"]),
                   helper.make_node("Identity", ["words"], ["w"])],
                  [value("x", shape=[2, 3]), value("shape", TensorProto.INT64, [1]),
                   value("words", TensorProto.STRING, [2])], [value("y"), value("w")],
                  initializers=[shape])
    [use] = value_dependent_inputs(model)
    assert (use.input, use.why) == ("words", "text")


@pytest.mark.parametrize("case, expected", [
    ("simple/test_expand_shape_model1", {"shape"}),   # Expand's shape is a graph input
    ("simple/test_single_relu_model", set()),
    ("simple/test_sequence_model1", set()),
])
def test_shipped_conformance_models(case, expected):
    [path] = [p for p in corpus.models() if corpus.case_name(p) == case]
    model = onnx.load(str(path))
    assert {use.input for use in value_dependent_inputs(model)} >= expected
    if not expected:
        assert value_dependent_inputs(model) == []
