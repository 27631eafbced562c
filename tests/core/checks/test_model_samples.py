"""Smoke runs on honest models: sample inputs, values that matter, types numpy cannot hold,
and failures that belong to the machine."""

from __future__ import annotations

import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from modelgate.core.bundle import safeyaml
from modelgate.core.bundle.lock import dump_manifest, lock_bundle
from modelgate.core.bundle.reader import open_bundle
from modelgate.core.checks.engine import validate_bundle
from modelgate.core.checks.request import ValidationRequest
from modelgate.core.formats.starter import create_starter
from modelgate.core.policy.document import load_policy
from tests.conformance import corpus


def value(name, elem=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def save(path, nodes, inputs, outputs, *, opset=17, domains=()):
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", opset),
                                             *(helper.make_opsetid(d, v) for d, v in domains)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def write_set(folder, inputs=(), outputs=()):
    folder.mkdir(parents=True)
    for k, array in enumerate(inputs):
        (folder / f"input_{k}.pb").write_bytes(numpy_helper.from_array(array).SerializeToString())
    for k, array in enumerate(outputs):
        (folder / f"output_{k}.pb").write_bytes(numpy_helper.from_array(array).SerializeToString())


def wrap_and_validate(tmp_path, model, *, samples=None, stage="draft"):
    root = tmp_path / "bundle"
    create_starter(name="m", directory=root, model=model, samples=samples)
    lock_bundle(root)
    with open_bundle(root) as bundle:
        return validate_bundle(request=ValidationRequest(bundle=bundle, policy=load_policy(), stage=stage))


def by_rule(report, prefix="MG2"):
    return {f.rule: f for f in report.findings if f.rule.startswith(prefix)}


def reshape_model(tmp_path):
    return save(tmp_path / "reshape.onnx", [helper.make_node("Reshape", ["x", "target"], ["y"])],
                [value("x", shape=[2, 3]), value("target", TensorProto.INT64, [2])],
                [value("y", shape=["rows", "cols"])])


def test_value_dependent_input_without_samples_is_not_run_and_says_why(tmp_path):
    report = wrap_and_validate(tmp_path, reshape_model(tmp_path))
    found = by_rule(report)
    assert set(found) == {"MG215"}, [f.message for f in report.findings]
    assert "'target' feeds a shape or count of Reshape" in found["MG215"].message
    assert "samples" in found["MG215"].hint


def test_samples_are_copied_declared_and_fed(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_set(tmp_path / "data" / "test_data_set_0", [x, np.array([3, 2], np.int64)], [x.reshape(3, 2)])
    root_model = tmp_path / "data" / "model.onnx"
    shutil.copy(reshape_model(tmp_path), root_model)
    report = wrap_and_validate(tmp_path, root_model)  # test data beside the model is found
    assert not any(f.rule.startswith("MG2") for f in report.findings), [f.message for f in report.findings]
    manifest = safeyaml.load((tmp_path / "bundle" / "bundle.yaml").read_text())
    assert manifest["bundle_format"] == "modelgate.bundle/v1.1"
    assert manifest["samples"] == {"sets": ["samples/set_0"]}
    assert "samples/set_0/output_0.pb" in manifest["files"]


def test_output_that_differs_from_the_sample_is_an_error(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_set(tmp_path / "set", [x, np.array([3, 2], np.int64)], [x.reshape(3, 2) + 1])
    report = wrap_and_validate(tmp_path, reshape_model(tmp_path), samples=tmp_path / "set")
    found = by_rule(report)
    assert set(found) == {"MG217"}
    assert "6 of 6 values differ" in found["MG217"].message


def test_a_declared_tolerance_is_honoured(tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_set(tmp_path / "set", [x, np.array([3, 2], np.int64)], [x.reshape(3, 2) + 0.01])
    root = tmp_path / "bundle"
    create_starter(name="m", directory=root, model=reshape_model(tmp_path), samples=tmp_path / "set")
    manifest = safeyaml.load((root / "bundle.yaml").read_text())
    manifest["samples"]["atol"] = 0.1
    (root / "bundle.yaml").write_text(dump_manifest(manifest))
    lock_bundle(root)
    with open_bundle(root) as bundle:
        report = validate_bundle(request=ValidationRequest(bundle=bundle, policy=load_policy(), stage="draft"))
    assert "MG217" not in by_rule(report)


def test_bfloat16_output_is_checked_for_type_and_shape(tmp_path):
    model = save(tmp_path / "cast.onnx", [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.BFLOAT16)],
                 [value("x", shape=[3, 4])], [value("y", TensorProto.BFLOAT16, [3, 4])])
    report = wrap_and_validate(tmp_path, model)
    assert not any(f.rule.startswith("MG2") and f.severity.value != "info" for f in report.findings), \
        [f.message for f in report.findings]
    manifest = safeyaml.load((tmp_path / "bundle" / "bundle.yaml").read_text())
    assert manifest["interface"]["outputs"][0]["dtype"] == "bfloat16"


def test_model_without_inputs_is_expressible_and_runs(tmp_path):
    constant = helper.make_tensor("c", TensorProto.FLOAT, [2], [1.0, 2.0])
    model = save(tmp_path / "constant.onnx", [helper.make_node("Constant", [], ["y"], value=constant)],
                 [], [value("y", shape=[2])])
    report = wrap_and_validate(tmp_path, model)
    assert [f.message for f in report.findings if f.severity.value == "error"] == []
    manifest = safeyaml.load((tmp_path / "bundle" / "bundle.yaml").read_text())
    assert manifest["interface"]["inputs"] == []


def test_sequence_types_are_written_and_compared(tmp_path):
    [model] = [p for p in corpus.models() if corpus.case_name(p) == "simple/test_sequence_model1"]
    report = wrap_and_validate(tmp_path, model)
    assert [f.message for f in report.findings if f.severity.value == "error"] == []
    manifest = safeyaml.load((tmp_path / "bundle" / "bundle.yaml").read_text())
    types = {t["dtype"] for t in manifest["interface"]["inputs"] + manifest["interface"]["outputs"]}
    assert any(t.startswith("sequence<") for t in types) or "float32" in types
    manifest["interface"]["outputs"][0]["dtype"] = "sequence<int8>"
    (tmp_path / "bundle" / "bundle.yaml").write_text(dump_manifest(manifest))
    lock_bundle(tmp_path / "bundle")
    with open_bundle(tmp_path / "bundle") as bundle:
        report = validate_bundle(request=ValidationRequest(bundle=bundle, policy=load_policy(), stage="draft"))
    assert "MG209" in by_rule(report)


def test_a_locale_the_machine_lacks_is_the_machines_problem(tmp_path):
    # No machine has this locale: onnxruntime fails as it does on Debian without en_US.UTF-8.
    model = save(tmp_path / "normalize.onnx",
                 [helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="UPPER",
                                   locale="xx_NOWHERE.UTF-8")],
                 [value("x", TensorProto.STRING, [2])], [value("y", TensorProto.STRING, [2])])
    write_set(tmp_path / "set", [np.array(["monday", "tuesday"], dtype=object)])
    report = wrap_and_validate(tmp_path, model, samples=tmp_path / "set")
    found = by_rule(report)
    assert "MG218" in found and found["MG218"].severity.value == "warning"
    assert "locale" in found["MG218"].message
    assert [f.rule for f in report.findings if f.severity.value == "error"] == []


def test_error_inside_a_standard_function_body_is_not_the_models(tmp_path):
    # onnx's own function body for MeanVarianceNormalization fails shape inference.
    model = save(tmp_path / "mvn.onnx", [helper.make_node("MeanVarianceNormalization", ["x"], ["y"])],
                 [value("x", shape=[3, 3, 3, 1])], [value("y", shape=[3, 3, 3, 1])], opset=13)
    report = wrap_and_validate(tmp_path, model)
    assert "MG202" not in by_rule(report)


def test_ml_only_model_needs_no_default_opset(tmp_path):
    model = save(tmp_path / "binarize.onnx",
                 [helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml", threshold=0.5)],
                 [value("x", shape=[3])], [value("y", shape=[3])], opset=17, domains=[("ai.onnx.ml", 1)])
    model_proto = onnx.load(str(model))
    del model_proto.opset_import[0]  # ai.onnx.ml alone
    onnx.save(model_proto, str(model))
    report = wrap_and_validate(tmp_path, model)
    assert "MG205" not in by_rule(report)
    assert [f.message for f in report.findings if f.severity.value == "error"] == []


def test_random_outputs_are_compared_by_shape_only(tmp_path):
    # Dropout in training mode draws a random mask: no sample can predict its values.
    model = save(tmp_path / "dropout.onnx",
                 [helper.make_node("Dropout", ["x", "ratio", "training"], ["y"], seed=0)],
                 [value("x", shape=[2, 3]), value("ratio", shape=[]), value("training", TensorProto.BOOL, [])],
                 [value("y", shape=[2, 3])])
    x = np.ones((2, 3), np.float32)
    write_set(tmp_path / "set", [x, np.array(0.5, np.float32), np.array(True)], [x * 7])
    report = wrap_and_validate(tmp_path, model, samples=tmp_path / "set")
    assert "MG217" not in by_rule(report)
    write_set(tmp_path / "wrong", [x, np.array(0.5, np.float32), np.array(True)], [np.ones((3, 2), np.float32)])
    report = wrap_and_validate(tmp_path / "again", model, samples=tmp_path / "wrong")
    assert "has shape [2, 3]; the sample expects [3, 2]" in by_rule(report)["MG217"].message


def test_small_elements_are_judged_against_the_outputs_scale(tmp_path):
    model = save(tmp_path / "identity.onnx", [helper.make_node("Identity", ["x"], ["y"])],
                 [value("x", shape=[3])], [value("y", shape=[3])])
    x = np.array([1000.0, 1e-3, -500.0], np.float32)
    # 5e-3 off on a tiny element is rounding at this output's scale; 50 off on a large one is not.
    write_set(tmp_path / "near", [x], [x + np.array([0, 5e-3, 0], np.float32)])
    assert "MG217" not in by_rule(wrap_and_validate(tmp_path, model, samples=tmp_path / "near"))
    write_set(tmp_path / "far", [x], [x + np.array([50, 0, 0], np.float32)])
    report = wrap_and_validate(tmp_path / "again", model, samples=tmp_path / "far")
    assert "1 of 3 values differ" in by_rule(report)["MG217"].message


def test_a_packed_int4_input_skips_the_run_instead_of_failing_the_model(tmp_path):
    model = save(tmp_path / "cast.onnx", [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)],
                 [value("x", TensorProto.INT4, [4])], [value("y", shape=[4])], opset=21)
    folder = tmp_path / "set"
    folder.mkdir()
    tensor = helper.make_tensor("x", TensorProto.INT4, [4], [1, -2, 3, -4])
    (folder / "input_0.pb").write_bytes(tensor.SerializeToString())
    report = wrap_and_validate(tmp_path, model, samples=folder)
    found = by_rule(report)
    assert "MG214" not in found
    assert "int4" in found["MG215"].message


def test_a_training_graph_is_named_as_such_and_not_an_error(tmp_path):
    [model] = [p for p in corpus.models() if corpus.case_name(p) == "simple/test_gradient_of_add"]
    report = wrap_and_validate(tmp_path, model)
    assert "it is a training graph" in by_rule(report)["MG215"].message
    assert [f.message for f in report.findings if f.severity.value == "error"] == []


def test_a_stage_that_requires_inference_requires_samples_for_such_models(tmp_path):
    report = wrap_and_validate(tmp_path, reshape_model(tmp_path), stage="staging")
    found = by_rule(report)["MG215"]
    assert found.severity.value == "error"
    assert "the staging stage requires the model to run" in found.message
