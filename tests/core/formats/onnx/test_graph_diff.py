"""What changed in the ONNX graphs between two bundles, on small real models built with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from modelgate.core.formats.onnx import graph_diff as graphdiff
from modelgate.core.bundle.reader import open_bundle
from modelgate.core.errors import OperationCancelled
from modelgate.core.formats.onnx.graph_diff import diff_graphs, pair_artifacts
from modelgate.core.progress import Progress

ARTIFACT = "model/model.onnx"


def weights(inputs: int = 4, outputs: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((inputs, outputs)).astype("float32"),
            "B": rng.standard_normal(outputs).astype("float32")}


def write_model(path: Path, *, tensors: dict[str, np.ndarray], relu: bool = False, custom: bool = False,
                opset: int = 17, ir: int = 9, producer: str = "modelgate-tests", external: str | None = None) -> None:
    """features[batch, N] -> MatMul W -> Add B (-> Relu) (-> a custom-domain op) -> out."""
    inputs = tensors["W"].shape[0]
    nodes = [helper.make_node("MatMul", ["features", "W"], ["mm"]), helper.make_node("Add", ["mm", "B"], ["out0"])]
    last = "out0"
    if relu:
        nodes.append(helper.make_node("Relu", [last], ["relu"]))
        last = "relu"
    opsets = [helper.make_opsetid("", opset)]
    if custom:
        nodes.append(helper.make_node("FusedGelu", [last], ["gelu"], domain="com.example"))
        opsets.append(helper.make_opsetid("com.example", 1))
        last = "gelu"
    nodes.append(helper.make_node("Identity", [last], ["out"]))
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", inputs])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", tensors["W"].shape[1]])],
        initializer=[numpy_helper.from_array(value, name) for name, value in tensors.items()])
    model = helper.make_model(graph, opset_imports=opsets, producer_name=producer)
    model.ir_version = ir
    path.parent.mkdir(parents=True, exist_ok=True)
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=external, size_threshold=0)
    else:
        onnx.save_model(model, str(path))


def manifest(*artifacts: tuple[str, str]) -> dict:
    return {"artifacts": [{"path": path, "format": "onnx", "variant": variant} for path, variant in artifacts]}


def diff(tmp_path: Path, make_a, make_b, *, artifacts_a=((ARTIFACT, "fp32"),), artifacts_b=((ARTIFACT, "fp32"),),
         progress: Progress | None = None):
    for side, make in (("a", make_a), ("b", make_b)):
        (tmp_path / side).mkdir(parents=True, exist_ok=True)
        make(tmp_path / side)
    with open_bundle(tmp_path / "a") as a, open_bundle(tmp_path / "b") as b:
        return diff_graphs(a=a, manifest_a=manifest(*artifacts_a), b=b, manifest_b=manifest(*artifacts_b),
                           progress=progress)


def test_identical_graphs_show_no_change(tmp_path):
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights()),
                   lambda d: write_model(d / ARTIFACT, tensors=weights()))
    assert only.change == "compared" and not only.changed
    assert only.parameters == (10, 10) and only.initializer_count == (2, 2) and only.initializers == ()
    assert only.ops == () and only.opsets == (("", 17, 17),) and only.nodes == (3, 3)


def test_operators_added_and_removed_by_type_with_their_domain(tmp_path):
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights(), relu=True),
                   lambda d: write_model(d / ARTIFACT, tensors=weights(), custom=True))
    assert {(o.op, o.a, o.b, o.change) for o in only.ops} == {
        ("Relu", 1, 0, "removed"), ("com.example.FusedGelu", 0, 1, "added")}
    assert only.opset_changes == (("com.example", None, 1),)
    assert only.initializers == () and only.changed


def test_an_initializer_changed_in_content_only(tmp_path):
    changed = weights()
    changed["B"] = changed["B"] + np.float32(0.5)
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights()),
                   lambda d: write_model(d / ARTIFACT, tensors=changed))
    assert [(i.name, i.change, i.differs) for i in only.initializers] == [("B", "changed", ("content",))]
    assert only.initializers[0].describe() == "B: content"
    assert only.parameters == (10, 10) and only.ops == ()


def test_a_shape_change_counts_parameters_and_opset_ir_and_producer_changes(tmp_path):
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights()),
                   lambda d: write_model(d / ARTIFACT, tensors={"W": weights(inputs=8)["W"], "B": weights()["B"],
                                                                "extra": np.zeros(3, "int64")},
                                         opset=19, ir=10, producer="exporter-2"))
    assert only.parameters == (10, 21) and only.initializer_count == (2, 3)
    by_name = {i.name: i for i in only.initializers}
    assert by_name["W"].differs == ("shape",) and by_name["W"].describe() == "W: shape [4, 2] -> [8, 2]"
    assert by_name["extra"].change == "added" and by_name["extra"].describe() == "extra added (int64[3])"
    assert "B" not in by_name                        # same values
    assert only.opset_changes == (("", 17, 19),)
    assert only.ir_version == (9, 10) and only.producer == ("modelgate-tests", "exporter-2")


def test_external_data_is_hashed_from_the_files_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(graphdiff, "CHUNK", 7)       # many reads per tensor
    changed = weights()
    changed["W"][0, 0] += 1
    progress = Progress()
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights(), external="weights.bin"),
                   lambda d: write_model(d / ARTIFACT, tensors=changed, external="weights.bin"), progress=progress)
    assert [(i.name, i.differs) for i in only.initializers] == [("W", ("content",))]
    assert only.parameters == (10, 10) and only.not_compared == ()
    assert progress.done == progress.total == 2 * 10 * 4   # every weight byte of both sides, once


def test_external_and_inline_copies_of_the_same_values_are_the_same_content(tmp_path):
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights(), external="weights.bin"),
                   lambda d: write_model(d / ARTIFACT, tensors=weights()))
    assert only.initializers == () and only.not_compared == ()


def test_missing_external_data_is_named_and_parameters_still_come_from_shapes(tmp_path):
    def broken(folder: Path) -> None:
        write_model(folder / ARTIFACT, tensors=weights(), external="weights.bin")
        (folder / "model" / "weights.bin").unlink()

    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights(), external="weights.bin"), broken)
    assert only.parameters == (10, 10)
    assert only.not_compared == ("W: its external data file model/weights.bin is not in the bundle",
                                 "B: its external data file model/weights.bin is not in the bundle")


def test_artifacts_are_paired_by_path_then_by_variant_and_the_rest_added_or_removed():
    a = manifest(("model/m.onnx", "fp32"), ("model/old.int8.onnx", "int8"), ("model/gone.onnx", "fp16"))
    b = manifest(("model/m.onnx", "fp32"), ("model/new.int8.onnx", "int8"), ("model/extra.onnx", "bf16"))
    assert pair_artifacts(a, b) == [("model/m.onnx", "model/m.onnx", "fp32"),
                                    ("model/old.int8.onnx", "model/new.int8.onnx", "int8"),
                                    ("model/gone.onnx", None, "fp16"), (None, "model/extra.onnx", "bf16")]


def test_added_removed_and_unreadable_artifacts(tmp_path):
    def two(folder: Path) -> None:
        write_model(folder / ARTIFACT, tensors=weights())
        (folder / "model" / "broken.onnx").write_bytes(b"not a model")

    results = diff(tmp_path, lambda d: write_model(d / "model" / "old.onnx", tensors=weights(inputs=6)), two,
                   artifacts_a=(("model/old.onnx", "fp32"), ("model/broken.onnx", "fp16")),
                   artifacts_b=((ARTIFACT, "fp32"), ("model/broken.onnx", "fp16")))
    renamed, broken = results
    assert renamed.title == "model/old.onnx -> model/model.onnx" and renamed.parameters == (14, 10)
    assert broken.problem == "model/broken.onnx is listed in bundle.yaml but is not in the bundle"
    results = diff(tmp_path / "again", lambda d: None, two,
                   artifacts_a=(), artifacts_b=((ARTIFACT, "fp32"), ("model/broken.onnx", "fp16")))
    added, unreadable = results
    assert (added.change, added.parameters, added.initializer_count) == ("added", (0, 10), (0, 2))
    assert unreadable.change == "added" and unreadable.problem.startswith("not a readable ONNX model")


def test_cancelling_stops_the_hashing(tmp_path):
    progress = Progress()
    progress.cancel()
    with pytest.raises(OperationCancelled):
        diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights(), external="weights.bin"),
             lambda d: write_model(d / ARTIFACT, tensors=weights(seed=1), external="weights.bin"), progress=progress)


def test_the_json_form_has_every_change(tmp_path):
    changed = weights()
    changed["W"] = changed["W"] * 2
    (only,) = diff(tmp_path, lambda d: write_model(d / ARTIFACT, tensors=weights()),
                   lambda d: write_model(d / ARTIFACT, tensors=changed, relu=True, opset=18))
    data = only.as_dict()
    assert data["ops"] == [{"op": "Relu", "a": 0, "b": 1, "change": "added"}]
    assert data["opsets"] == [{"domain": "ai.onnx", "a": 17, "b": 18}]
    assert data["initializers"] == [{"name": "W", "change": "changed", "differs": ["content"],
                                     "a": {"dtype": "float32", "shape": [4, 2]},
                                     "b": {"dtype": "float32", "shape": [4, 2]}}]
    assert data["parameters"] == {"a": 10, "b": 10} and data["changed"] is True
