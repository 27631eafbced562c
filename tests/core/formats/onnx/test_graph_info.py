"""Graph summaries and the declared interface beside the graph's."""

from __future__ import annotations

from modelgate.core.bundle.reader import open_bundle
from modelgate.core.formats.onnx.graph_info import compare_ports, summarise_graph
from tests.factory import clean_manifest, make_bundle


def test_a_graph_summary_counts_operators_parameters_and_bytes(template):
    with open_bundle(template) as bundle:
        summary = summarise_graph(bundle, "model/model.onnx")
    assert summary.node_count == 3
    assert dict(summary.op_counts) == {"MatMul": 1, "Add": 1, "Softmax": 1}
    assert summary.parameter_count == 4 * 2 + 2 and summary.initializer_count == 2
    assert summary.default_opset == 17 and summary.ir_version == 9
    assert summary.producer == "modelgate-tests"
    assert summary.size_bytes == (template / "model" / "model.onnx").stat().st_size
    assert summary.inputs == ("features",) and summary.outputs == ("probabilities",)


def test_a_matching_interface_has_no_differences(template):
    manifest = clean_manifest()
    with open_bundle(template) as bundle:
        rows = compare_ports(manifest, summarise_graph(bundle, "model/model.onnx"))
    assert [(r.direction, r.name, r.matches) for r in rows] == [
        ("input", "features", True), ("output", "probabilities", True)]
    assert rows[0].declared == rows[0].graph == ("float32", ("batch", 4))


def test_differences_name_what_disagrees(tmp_path):
    manifest = clean_manifest()
    manifest["interface"]["inputs"] = [{"name": "features", "dtype": "float64", "shape": ["batch", 4]},
                                       {"name": "mask", "dtype": "bool", "shape": ["batch"]}]
    manifest["interface"]["outputs"] = [{"name": "probabilities", "dtype": "float32", "shape": ["batch", 5]}]
    root = make_bundle(tmp_path / "b", manifest=manifest)
    with open_bundle(root) as bundle:
        rows = {(r.direction, r.name): r for r in compare_ports(manifest, summarise_graph(bundle, "model/model.onnx"))}
    assert rows["input", "features"].differences == ("dtype",)
    assert rows["input", "mask"].differences == ("missing in graph",) and rows["input", "mask"].graph is None
    assert rows["output", "probabilities"].differences == ("shape",)
    assert rows["output", "probabilities"].graph == ("float32", ("batch", 2))


def test_graph_ports_the_manifest_leaves_out_are_listed(template):
    manifest = clean_manifest()
    manifest["interface"] = {"inputs": [], "outputs": []}
    with open_bundle(template) as bundle:
        rows = compare_ports(manifest, summarise_graph(bundle, "model/model.onnx"))
    assert [(r.name, r.differences, r.declared) for r in rows] == [
        ("features", ("not declared",), None), ("probabilities", ("not declared",), None)]
