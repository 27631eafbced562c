"""Hypothesis strategies for every document a bundle carries, valid first and then mutated.

Structure-aware generation starts from the JSON Schemas shipped in resources/ (so a
generated manifest, policy or benchmark file is what a real user could write) and then
breaks it the way hostile or careless input does: wrong types, huge and odd numbers,
odd Unicode, keys dropped or added. Byte-level mutations (flips, truncations, insertions)
then hit whole files, ONNX protobufs and archives.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
import zipfile

import yaml
from hypothesis import strategies as st

from modelgate.core import resources
# ------------------------------------------------------------------ odd values

#: Text that trips naive handling: control and format characters, surrogate-free
#: astral characters, right-to-left marks, NUL, very long runs, YAML/Markdown syntax.
ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["", " ", "\x00", "\u202e\u202d", "\ufeff", "\U0001f600" * 3, "a\u0301" * 5,
                     "..", "../../etc/passwd", "/abs", "C:\\x", "*", "~", "null", "NaN", "-.inf",
                     "0x_1", "1e999", "!!python/object:os.system", "&a [*a]", "- - -", "---",
                     "<script>alert(1)</script>", "[x](javascript:alert(1))", "# h\n## h",
                     "x" * 5000, "é" * 300, "\r\n\r\n", "\t"]),
)

#: Numbers from ordinary to absurd: huge ints, signed zero, infinities, NaN, tiny floats.
ODD_NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-320, 1e308, float("inf"), float("nan")]),
)

ODD_SCALAR = st.one_of(st.none(), st.booleans(), ODD_NUMBER, ODD_TEXT)

#: The wrong-type values that most often break code expecting another type.
CONFUSION = st.sampled_from([None, 0, -1, 2**64, 10**400, -(10**400), float("nan"), float("inf"), True, "",
                             "x", "0", [], {}, [None], [{}], [[]], {"a": 1}, {"": None}, [1, "a"]])


def odd_value(max_leaves: int = 6) -> st.SearchStrategy:
    """Any JSON/YAML-like value, nested, built from odd scalars."""
    return st.recursive(
        ODD_SCALAR,
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(st.one_of(ODD_TEXT, st.integers(), st.booleans()),
                                                inner, max_size=4)),
        max_leaves=max_leaves,
    )


# ------------------------------------------------------------------ JSON Schema -> strategy

def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _string(schema: dict) -> st.SearchStrategy:
    min_size = schema.get("minLength", 0)
    max_size = min(schema.get("maxLength", 24), 24)
    if "pattern" in schema:
        strategy = st.from_regex(schema["pattern"], fullmatch=True)
        if "maxLength" in schema or "minLength" in schema:
            strategy = strategy.filter(lambda s: min_size <= len(s) <= schema.get("maxLength", 10**9))
        return strategy
    if schema.get("format") == "date":
        return st.dates().map(str)
    return st.text(min_size=min_size, max_size=max(max_size, min_size))


def from_schema(schema: dict, root: dict | None = None, *, depth: int = 0) -> st.SearchStrategy:
    """A strategy for values valid under (the subset of JSON Schema the shipped schemas use).

    Optional properties are included at random, arrays kept short, so that one example is
    a small but complete document.
    """
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_schema(option, root, depth=depth + 1) for option in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}, root, depth=depth) for k in kind])
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        low = schema.get("minimum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        return st.integers(min_value=low, max_value=schema.get("maximum", (low or 0) + 10**6))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        return st.floats(min_value=low, max_value=schema.get("maximum"), allow_nan=False, allow_infinity=False,
                         exclude_min="exclusiveMinimum" in schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array" or "items" in schema:
        items = schema.get("items", {})
        element = from_schema(items, root, depth=depth + 1) if items else odd_value(3)
        max_size = 0 if depth > 6 else 3
        min_size = schema.get("minItems", 0)
        unique = schema.get("uniqueItems", False)
        return st.lists(element, min_size=min_size, max_size=max(max_size, min_size),
                        unique_by=(lambda v: json.dumps(v, sort_keys=True, default=str)) if unique else None)
    if kind == "object" or "properties" in schema or "patternProperties" in schema:
        return _object(schema, root, depth)
    return odd_value(3)


def _object(schema: dict, root: dict, depth: int) -> st.SearchStrategy:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {name: from_schema(sub, root, depth=depth + 1) for name, sub in properties.items() if name in required}
    optional = {name: from_schema(sub, root, depth=depth + 1) for name, sub in properties.items()
                if name not in required}
    extra = []
    for pattern, sub in schema.get("patternProperties", {}).items():
        extra.append(st.dictionaries(st.from_regex(pattern, fullmatch=True),
                                     from_schema(sub, root, depth=depth + 1), max_size=2))
    additional = schema.get("additionalProperties", True)
    if isinstance(additional, dict) and not properties:
        names = _string(_resolve(schema.get("propertyNames", {"type": "string", "minLength": 1}), root))
        extra.append(st.dictionaries(names, from_schema(additional, root, depth=depth + 1), max_size=2))
    min_properties = schema.get("minProperties", 0)

    @st.composite
    def build(draw):
        value = draw(st.fixed_dictionaries(fixed, optional=optional))
        for strategy in extra:
            value.update(draw(strategy))
        if len(value) < min_properties and optional:
            name = draw(st.sampled_from(sorted(optional)))
            value[name] = draw(optional[name])
        return value

    return build()


def schema(name: str) -> dict:
    return json.loads(resources.text(name))


# ------------------------------------------------------------------ structural mutations

def _paths(value, prefix=()):
    """Every (path, node) in a nested document, containers included."""
    yield prefix, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


def _parent(document, path):
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated(draw, base: st.SearchStrategy, *, rounds: int = 3):
    """A document from ``base`` with up to ``rounds`` structural mutations applied.

    Each mutation picks a node and replaces it with an odd value, deletes it, adds an
    unknown sibling key, duplicates a list element, or swaps it for a container of the
    wrong kind.
    """
    document = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(min_value=0, max_value=rounds))):
        paths = [path for path, _ in _paths(document)]
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add_key", "duplicate", "wrap"]))
        if not path:
            if action == "replace":
                document = draw(odd_value())
            continue
        parent, key = _parent(document, path), path[-1]
        if action == "replace":
            parent[key] = draw(st.one_of(CONFUSION, odd_value()))
        elif action == "delete":
            del parent[key]
        elif action == "add_key" and isinstance(parent, dict):
            parent[draw(st.one_of(ODD_TEXT, st.integers(), st.booleans()))] = draw(odd_value(3))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif action == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"value": parent[key]}, str(parent[key])]))
    return document


# ------------------------------------------------------------------ serialisation

def _yaml_safe(value):
    """YAML can't represent every Python value PyYAML's safe dumper is given: map keys to strings where needed."""
    if isinstance(value, dict):
        return {(k if isinstance(k, (str, int, bool, float)) or k is None else str(k)): _yaml_safe(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_safe(v) for v in value]
    return value


def to_yaml(document) -> bytes:
    return yaml.safe_dump(_yaml_safe(document), sort_keys=False, allow_unicode=True).encode("utf-8")


def to_json(document) -> bytes:
    return json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")


#: Raw YAML snippets that a serialiser never writes but a hand or an attacker can.
RAW_YAML_TAILS = [
    b"\nextra: &a [*a]\n", b"\nhuge: 0x_ff\n", b"\nbig: " + b"9" * 5000 + b"\n",
    b"\n!!binary AAAA\n", b"\nx: !!python/name:os.system\n", b"\n? [a, b]\n: c\n",
    b"\n<<: {name: other}\n", b"\ndate: 2026-13-45\n", b"\n\t- tab\n", b"\n%YAML 9.9\n---\n",
    b"\n...\n--- second: document\n", b"\n\xff\xfe\n",
]


@st.composite
def yaml_text(draw, document_strategy: st.SearchStrategy):
    """YAML bytes of a document, sometimes with a raw hostile snippet or a byte mutation."""
    data = to_yaml(draw(document_strategy))
    how = draw(st.sampled_from(["plain", "plain", "tail", "bytes"]))
    if how == "tail":
        data += draw(st.sampled_from(RAW_YAML_TAILS))
    elif how == "bytes":
        data = draw(byte_mutation(data))
    return data


# ------------------------------------------------------------------ byte-level mutations

@st.composite
def byte_mutation(draw, data: bytes, *, rounds: int = 4):
    """``data`` with a few bit flips, byte sets, truncations, insertions or chunk duplications."""
    out = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=rounds))):
        action = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "duplicate"]))
        if not out:
            out += draw(st.binary(min_size=1, max_size=16))
            continue
        at = draw(st.integers(min_value=0, max_value=len(out) - 1))
        if action == "flip":
            out[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif action == "set":
            out[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0x0A, 0x22, 0x3A, 0x2D]))
        elif action == "truncate":
            del out[at:]
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif action == "delete":
            del out[at:at + draw(st.integers(min_value=1, max_value=64))]
        elif action == "duplicate":
            chunk = bytes(out[at:at + draw(st.integers(min_value=1, max_value=256))])
            out[at:at] = chunk * draw(st.integers(min_value=1, max_value=8))
    return bytes(out)


# ------------------------------------------------------------------ model cards

_HEADINGS = ["Intended use", "Limitations", "Training data", "Evaluation", "Ethical considerations",
             "intended USE", "Other", ""]


@st.composite
def model_card(draw):
    """A model card: optional YAML front matter (valid or mutated) and Markdown with odd blocks."""
    parts = []
    front = draw(st.sampled_from(["none", "valid", "mutated", "raw", "unterminated"]))
    base = st.fixed_dictionaries({"model_name": st.just("tiny-classifier"), "version": st.just("1.0.0"),
                                  "license": st.just("Apache-2.0")},
                                 optional={"tags": st.lists(ODD_TEXT, max_size=3), "language": ODD_TEXT})
    if front == "valid":
        parts.append("---\n" + to_yaml(draw(base)).decode() + "---\n")
    elif front == "mutated":
        parts.append("---\n" + to_yaml(draw(mutated(base))).decode() + "---\n")
    elif front == "raw":
        parts.append("---\n" + draw(st.sampled_from(RAW_YAML_TAILS)).decode("utf-8", "replace") + "---\n")
    elif front == "unterminated":
        parts.append("---\nmodel_name: x\n")
    blocks = st.one_of(
        st.builds(lambda level, title: "#" * level + " " + title, st.integers(1, 8),
                  st.one_of(st.sampled_from(_HEADINGS), ODD_TEXT)),
        st.lists(st.sampled_from(["word", "model", "data", "é", "\u200b", "x" * 100]), max_size=30).map(" ".join),
        st.sampled_from(["```\ncode\n", "```python\n# not a heading\n```", "<div>\n# html\n</div>",
                         "> # quoted", "| a | b |\n|---|---|\n| 1 | 2 |", "Title\n=====", "Sub\n---",
                         "- [ ] item\n  - nested", "<!-- # comment -->", "\\# escaped", "    # indented code",
                         "[link](javascript:alert(1))", "![img](file:///etc/passwd)", "&#0; &#x110000;",
                         "\x00\x01\x1b[31m", "<" * 500, "*" * 1000, "[" * 500 + "]" * 500]),
        ODD_TEXT,
    )
    parts.extend(draw(st.lists(blocks, max_size=25)))
    text = "\n\n".join(parts)
    encoded = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        return encoded
    return draw(byte_mutation(encoded, rounds=2))


# ------------------------------------------------------------------ benchmark files

@st.composite
def benchmark_file(draw):
    """Benchmark JSON: valid under the schema, mutated, with odd numbers, or raw JSON text."""
    valid = from_schema(schema("benchmark.schema.json"))
    document = draw(st.one_of(valid, mutated(valid), st.fixed_dictionaries({"results": st.lists(
        st.fixed_dictionaries({"dataset": st.just("loans"), "split": st.just("test"),
                               "metric": st.sampled_from(["accuracy", "f1", "latency_p95_ms", "auc"]),
                               "value": ODD_NUMBER},
                              optional={"target": ODD_TEXT, "higher_is_better": ODD_SCALAR}),
        max_size=5)})))
    how = draw(st.sampled_from(["json", "json", "raw", "bytes"]))
    if how == "json":
        return json.dumps(document, default=str).encode()  # NaN/Infinity as Python writes them
    if how == "raw":
        return draw(st.sampled_from([
            b'{"results": [{"dataset": "a", "split": "b", "metric": "accuracy", "value": 1' + b"0" * 5000 + b"}]}",
            b'{"results": [{"dataset": "a", "split": "b", "metric": "f1", "value": 1e999}]}',
            b'{"results": ' + b"[" * 100000 + b"]" * 100000 + b"}",
            b'{"results": [], "results": 5}', b"\xef\xbb\xbf{}", b"", b"null", b"[]", b'"x"',
            b'{"results": [{"dataset": "\\ud800", "split": "b", "metric": "f1", "value": 0.5}]}',
        ]))
    return draw(byte_mutation(json.dumps(document, default=str).encode()))


# ------------------------------------------------------------------ ONNX models

_UNARY = ["Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Identity", "Softmax"]


@st.composite
def onnx_model(draw):
    """A small valid ONNX model built with onnx.helper: features[batch, N] -> probabilities[batch, M].

    The graph is MatMul + Add followed by a random chain of element-wise ops; opset,
    IR version, names and sizes vary.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    # Mostly the interface the template bundle declares, so that the deeper checks (the smoke
    # run among them) see the model rather than stop at an interface mismatch.
    inputs = draw(st.one_of(st.just(4), st.just(4), st.integers(1, 8)))
    outputs = draw(st.one_of(st.just(2), st.just(2), st.integers(1, 4)))
    opset = draw(st.integers(13, 21))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    weight = numpy_helper.from_array(rng.standard_normal((inputs, outputs)).astype("float32"), "W")
    bias = numpy_helper.from_array(rng.standard_normal(outputs).astype("float32"), "B")
    nodes = [helper.make_node("MatMul", ["features", "W"], ["h0"]), helper.make_node("Add", ["h0", "B"], ["h1"])]
    current = "h1"
    for index, op in enumerate(draw(st.lists(st.sampled_from(_UNARY), max_size=3))):
        attrs = {"axis": -1} if op == "Softmax" else {}
        nodes.append(helper.make_node(op, [current], [f"u{index}"], **attrs))
        current = f"u{index}"
    nodes.append(helper.make_node("Identity", [current], ["probabilities"]))
    graph = helper.make_graph(
        nodes, draw(st.sampled_from(["tiny", "g\u00e9"])),
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", inputs])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", outputs])],
        initializer=[weight, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="modelgate-fuzz")
    model.ir_version = draw(st.integers(7, 10))
    return model


_FIELD_MUTATIONS = ["ir_version", "opset", "op_type", "input_name", "elem_type", "dims", "dim_param",
                    "initializer_dims", "initializer_data", "external_data", "drop_node", "attribute",
                    "domain", "metadata", "subgraph", "cycle", "many_inputs"]


@st.composite
def onnx_field_mutation(draw, model):
    """A protobuf-level mutation of ``model`` (a copy): a field set to something no exporter writes."""
    from onnx import AttributeProto, TensorProto, helper

    model = copy.deepcopy(model)
    graph = model.graph
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(_FIELD_MUTATIONS))
        if action == "ir_version":
            model.ir_version = draw(st.sampled_from([0, 1, 3, 11, 99, 2**62]))
        elif action == "opset":
            model.opset_import[0].version = draw(st.sampled_from([0, 1, 6, 22, 23, 999, 2**62]))
            if draw(st.booleans()):
                model.opset_import.add(domain=draw(ODD_TEXT), version=draw(st.integers(-5, 2**40)))
        elif action == "op_type" and graph.node:
            node = draw(st.sampled_from(list(graph.node)))
            node.op_type = draw(st.one_of(st.sampled_from(["Loop", "If", "Scan", "Custom", "", "MatMul",
                                                           "Conv", "Reshape", "TopK"]), ODD_TEXT))
        elif action == "input_name":
            target = draw(st.sampled_from(list(graph.input) + list(graph.output)))
            target.name = draw(st.one_of(ODD_TEXT, st.sampled_from(["", "features", "probabilities", "W"])))
        elif action == "elem_type":
            value = draw(st.sampled_from(list(graph.input) + list(graph.output)))
            value.type.tensor_type.elem_type = draw(st.sampled_from([0, 8, 13, 16, 22, 23, 25, 26, 99, 2**30]))
        elif action == "dims":
            value = draw(st.sampled_from(list(graph.input) + list(graph.output)))
            shape = value.type.tensor_type.shape
            for _ in range(draw(st.integers(0, 3))):
                shape.dim.add().dim_value = draw(st.sampled_from([0, 1, -1, 2**40, 2**62]))
            if shape.dim and draw(st.booleans()):
                shape.dim[0].dim_value = draw(st.sampled_from([0, -7, 2**62]))
            if draw(st.booleans()):
                value.type.tensor_type.ClearField("shape")
        elif action == "dim_param":
            value = draw(st.sampled_from(list(graph.input) + list(graph.output)))
            for dim in value.type.tensor_type.shape.dim:
                dim.dim_param = draw(ODD_TEXT)
        elif action == "initializer_dims" and graph.initializer:
            tensor = draw(st.sampled_from(list(graph.initializer)))
            del tensor.dims[:]
            tensor.dims.extend(draw(st.lists(st.sampled_from([0, 1, 3, -1, 2**31, 2**62]), max_size=4)))
        elif action == "initializer_data" and graph.initializer:
            tensor = draw(st.sampled_from(list(graph.initializer)))
            tensor.raw_data = draw(st.binary(max_size=64))
            tensor.data_type = draw(st.sampled_from([1, 2, 7, 8, 10, 16, 17, 21, 25, 99]))
        elif action == "external_data" and graph.initializer:
            tensor = draw(st.sampled_from(list(graph.initializer)))
            tensor.data_location = TensorProto.EXTERNAL
            tensor.ClearField("raw_data")
            for key, value in draw(st.lists(st.tuples(
                    st.sampled_from(["location", "offset", "length", "checksum", "junk"]),
                    st.one_of(st.sampled_from(["../../etc/passwd", "/etc/passwd", "weights.bin",
                                               "model.onnx", "", "-1", "99999999999999999999",
                                               "0x10", "nan", "C:\\w", "a\x00b", "."]), ODD_TEXT)),
                    min_size=1, max_size=4)):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
        elif action == "drop_node" and graph.node:
            del graph.node[draw(st.integers(0, len(graph.node) - 1))]
        elif action == "attribute" and graph.node:
            node = draw(st.sampled_from(list(graph.node)))
            kind = draw(st.sampled_from(["int", "float", "string", "ints", "tensor", "graph", "bad"]))
            name = draw(st.sampled_from(["axis", "perm", "to", "value", "body", ""]))
            if kind == "int":
                node.attribute.append(helper.make_attribute(name or "x", draw(st.integers(-(2**63), 2**63 - 1))))
            elif kind == "float":
                node.attribute.append(helper.make_attribute(name or "x", draw(st.floats())))
            elif kind == "string":
                node.attribute.append(helper.make_attribute(name or "x", draw(st.binary(max_size=16))))
            elif kind == "ints":
                node.attribute.append(helper.make_attribute(name or "x", draw(st.lists(st.integers(-9, 9), min_size=1, max_size=4))))
            elif kind == "tensor":
                length = draw(st.integers(0, 4))  # onnx.helper wants as many values as the dims say
                node.attribute.append(helper.make_attribute(name or "x", helper.make_tensor(
                    "t", TensorProto.FLOAT, [length], [0.0] * length, raw=False)))
            elif kind == "graph":
                node.attribute.append(helper.make_attribute(name or "body", copy.deepcopy(graph)))
            else:
                attribute = node.attribute.add()
                attribute.name = name
                # A declared type whose value field is empty, or an undefined type.
                # A closed proto2 enum: the library refuses unknown values (byte mutations reach them).
                attribute.type = draw(st.sampled_from(list(AttributeProto.AttributeType.values())))
        elif action == "domain" and graph.node:
            draw(st.sampled_from(list(graph.node))).domain = draw(st.sampled_from(
                ["com.microsoft", "ai.onnx.ml", "evil.domain", "", "ai.onnx.preview.training"]))
        elif action == "metadata":
            for _ in range(draw(st.integers(1, 3))):
                prop = model.metadata_props.add()
                prop.key, prop.value = draw(ODD_TEXT), draw(ODD_TEXT)
            model.producer_name = draw(ODD_TEXT)
            model.doc_string = draw(ODD_TEXT)
        elif action == "subgraph" and graph.node:
            node = draw(st.sampled_from(list(graph.node)))
            node.op_type = "If"
            node.attribute.append(helper.make_attribute("then_branch", copy.deepcopy(graph)))
            node.attribute.append(helper.make_attribute("else_branch", copy.deepcopy(graph)))
        elif action == "cycle" and len(graph.node) >= 2:
            graph.node[0].input[0] = graph.node[-1].output[0]
        elif action == "many_inputs":
            for index in range(draw(st.integers(1, 300))):
                graph.input.append(helper.make_tensor_value_info(f"in{index}", TensorProto.FLOAT, ["batch", 1]))
    return model


@st.composite
def onnx_bytes(draw):
    """Serialised ONNX: valid, field-mutated, byte-mutated, or both."""
    model = draw(onnx_model())
    how = draw(st.sampled_from(["valid", "field", "field", "bytes", "both"]))
    if how in ("field", "both"):
        model = draw(onnx_field_mutation(model))
    data = model.SerializeToString()
    if how in ("bytes", "both"):
        data = draw(byte_mutation(data))
    return data


# ------------------------------------------------------------------ archives

ARCHIVE_KINDS = (".zip", ".tar", ".tar.gz")


def pack(files: dict[str, bytes], kind: str, *, prefix: str = "") -> bytes:
    """An archive (``kind`` one of :data:`ARCHIVE_KINDS`) of ``files`` under ``prefix``."""
    buffer = io.BytesIO()
    if kind == ".zip":
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(prefix + name, data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz" if kind == ".tar.gz" else "w") as archive:
            for name, data in files.items():
                info = tarfile.TarInfo(prefix + name)
                info.size = len(data)
                info.mtime = 0
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()



#: Member names an archive should never be trusted with, mixed into otherwise sane archives.
ODD_MEMBER_NAMES = ["../escape.txt", "/abs.txt", "model/../../up.txt", "C:/win.txt", "a\\b.txt", "",
                    "./bundle.yaml", "model//model.onnx", "x" * 300, "\u202egnp.exe", "con", "a\x00b",
                    "signatures/x.sig", "deep/" * 70 + "f"]


@st.composite
def archive_bytes(draw, files: dict[str, bytes], kind: str):
    """An archive of a bundle's ``files``: members byte-mutated, dropped or added, then the archive bytes too."""
    members = dict(files)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["mutate", "drop", "add", "rename"]))
        name = draw(st.sampled_from(sorted(members))) if members else None
        if action == "mutate" and name:
            members[name] = draw(byte_mutation(members[name], rounds=2))
        elif action == "drop" and name:
            del members[name]
        elif action == "add":
            members[draw(st.one_of(st.sampled_from(ODD_MEMBER_NAMES), ODD_TEXT))] = draw(st.binary(max_size=64))
        elif action == "rename" and name:
            members[draw(st.sampled_from(ODD_MEMBER_NAMES))] = members.pop(name)
    prefix = draw(st.sampled_from(["", "", "bundle/", "a/b/"]))
    try:
        data = pack(members, kind, prefix=prefix)
    except (ValueError, UnicodeEncodeError, IndexError):  # a name the archive format itself cannot hold
        data = pack(files, kind, prefix=prefix)
    if draw(st.booleans()):
        data = draw(byte_mutation(data))
    return data
