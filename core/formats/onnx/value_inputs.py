"""Which graph inputs a model needs real values for, found by data flow over the graph.

A smoke run feeds made-up numbers. That is fine for an input whose values only
flow through arithmetic, but not for one whose values become a shape, a count or
an index range: a ``Reshape`` target, a ``Loop`` trip count, ``TopK``'s k,
``Resize`` scales, ``Slice`` starts, ``OneHot`` depth. Zeros there make an honest
model fail or produce empty outputs, so the run would prove nothing about the
model. Strings are the same: a tokenizer or a regular expression needs text that
means something.

The analysis follows every value from each graph input through every node,
subgraph bodies included (a body reads outer values by name), and stops at
operators that read only the *shape* of their input (``Shape``, ``Size``...).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Operands (input positions) whose values set an output's shape, a count or a range.
#: Positions a given opset does not have are simply absent from the node.
SHAPE_OPERANDS: dict[str, tuple[int, ...]] = {
    "Reshape": (1,), "Expand": (1,), "Tile": (1,), "ConstantOfShape": (0,), "Range": (0, 1, 2),
    "OneHot": (1,), "TopK": (1,), "Slice": (1, 2, 3, 4), "Resize": (1, 2, 3), "Upsample": (1,),
    "Pad": (1, 3), "Loop": (0, 1), "If": (0,), "Squeeze": (1,), "Unsqueeze": (1,), "Split": (1,),
    "ReduceSum": (1,), "ReduceMean": (1,), "ReduceMax": (1,), "ReduceMin": (1,), "ReduceProd": (1,),
    "ReduceL1": (1,), "ReduceL2": (1,), "ReduceLogSum": (1,), "ReduceLogSumExp": (1,),
    "ReduceSumSquare": (1,), "NonMaxSuppression": (2, 3, 4), "Compress": (1,), "NonZero": (0,),
    "CenterCropPad": (1,), "MaxUnpool": (2,), "DFT": (1, 2), "STFT": (1, 3), "CumSum": (1,),
    "HannWindow": (0,), "HammingWindow": (0,), "BlackmanWindow": (0,), "MelWeightMatrix": (0, 1, 2),
    "AffineGrid": (1,), "Col2Im": (1, 2), "SplitToSequence": (1,), "SequenceAt": (1,),
    "SequenceErase": (1,), "SequenceInsert": (2,), "ReverseSequence": (1,), "Mod": (1,),
    "Div": (1,),
}
#: Operators whose output depends only on their input's shape or type, never its values.
SHAPE_ONLY = frozenset({"Shape", "Size", "EyeLike", "RandomUniformLike", "RandomNormalLike",
                        "ConstantOfShape", "OptionalHasElement", "SequenceLength"})
#: Integer element types (a made-up divisor of 0 is a division by zero, not a model fault).
_INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 12, 13, 21, 22, 25, 26})
#: Arithmetic operands that matter only for integer types (division by zero).
_INTEGER_ONLY = frozenset({"Div", "Mod"})


@dataclass(frozen=True)
class ValueUse:
    """A graph input whose values the model needs: which operator reads them, and how."""

    input: str
    operator: str
    why: str  # "a shape or count", "text", "a divisor"

    def describe(self) -> str:
        if self.why == "text":
            return f"input {self.input!r} holds text"
        return f"input {self.input!r} feeds {self.why} of {self.operator}"


def _element_types(model) -> dict[str, int]:
    """Element type of every tensor the graph declares a type for (inputs, outputs, value_info)."""
    types = {}
    for info in [*model.graph.input, *model.graph.output, *model.graph.value_info]:
        if info.type.WhichOneof("value") == "tensor_type":
            types[info.name] = info.type.tensor_type.elem_type
    return types


def _subgraphs(node):
    for attribute in node.attribute:
        if attribute.HasField("g"):
            yield attribute.g
        yield from attribute.graphs


def _walk(graph, tainted: dict[str, set[str]], uses: dict, types: dict) -> None:
    """Propagate ``tainted`` (value name -> graph inputs it carries) through ``graph``."""
    for node in graph.node:
        carried: set[str] = set()
        for name in node.input:
            carried |= tainted.get(name, set())
        for body in _subgraphs(node):
            # A body's own inputs carry whatever the node's inputs carry; names it reads from
            # the enclosing scope carry what they carry there.
            inner = dict(tainted)
            for info in body.input:
                inner[info.name] = set(carried)
            _walk(body, inner, uses, types)
            for info in body.output:
                carried |= inner.get(info.name, set())
        for position in SHAPE_OPERANDS.get(node.op_type, ()):
            if position >= len(node.input) or not node.input[position]:
                continue
            operand = node.input[position]
            sources = tainted.get(operand, set())
            if not sources:
                continue
            if node.op_type in _INTEGER_ONLY and types.get(operand, 0) not in _INTEGER_TYPES:
                continue
            why = "a divisor" if node.op_type in _INTEGER_ONLY else "a shape or count"
            for source in sources:
                uses.setdefault(source, ValueUse(source, node.op_type, why))
        if node.op_type in SHAPE_ONLY:
            continue
        for name in node.output:
            if name:
                tainted[name] = set(carried)


def value_dependent_inputs(model) -> list[ValueUse]:
    """The graph inputs (initializers excluded) whose values the model needs, in input order."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [info for info in model.graph.input if info.name not in initializers]
    tainted = {info.name: {info.name} for info in inputs}
    uses: dict[str, ValueUse] = {}
    for info in inputs:
        if info.type.WhichOneof("value") == "tensor_type" and info.type.tensor_type.elem_type == 8:
            uses[info.name] = ValueUse(info.name, "", "text")
    _walk(model.graph, tainted, uses, _element_types(model))
    return [uses[info.name] for info in inputs if info.name in uses]


#: Operators whose outputs are random draws: a sample cannot say what they will be.
RANDOM = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                    "Multinomial", "Bernoulli"})


def random_operators(graph) -> set[str]:
    """The random operators in ``graph`` and its subgraphs; ``Dropout`` counts when it is
    given a ``training_mode`` operand (in inference it is the identity)."""
    found = set()
    for node in graph.node:
        if node.op_type in RANDOM or node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
            found.add(node.op_type)
        for body in _subgraphs(node):
            found |= random_operators(body)
    return found
