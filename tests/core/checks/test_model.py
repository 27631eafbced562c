"""MG2xx: the ONNX model and its interface contract, on real ONNX files."""

from __future__ import annotations

import copy

import pytest

from modelgate.core.checks import model as model_checks
from modelgate.core.bundle.lock import lock_bundle
from tests.factory import findings, clean_manifest, edit_manifest, make_bundle, rules_of, tiny_model, validate


def mg2(report, severity: str | None = None) -> set[str]:
    return {rule for rule in rules_of(report, severity) if rule.startswith("MG2")}


def save_graph(path, nodes, inputs, outputs, *, initializers=(), opsets=(("", 17),), ir=9):
    """Write a hand-built graph without checking it (some tests need broken models)."""
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    model.ir_version = ir
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def tensor(name, shape, elem=None):
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, elem or TensorProto.FLOAT, shape)


def features_to(path, nodes, out_shape, **kwargs):
    """A graph features[batch, 4] -> probabilities[out_shape] made of ``nodes``."""
    save_graph(path, nodes, [tensor("features", ["batch", 4])],
               [tensor("probabilities", out_shape)], **kwargs)


def external_model(path, edit=None):
    """tiny_model with its weights in model/weights.bin; ``edit(tensors)`` alters the records."""
    import onnx

    tiny_model(path)
    onnx.save_model(onnx.load(str(path)), str(path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    if edit is not None:
        header = onnx.load(str(path), load_external_data=False)
        edit({t.name: {e.key: e for e in t.external_data} for t in header.graph.initializer})
        onnx.save(header, str(path))


def declare(section: str, **fields):
    """A manifest change: update the first tensor of ``interface.<section>``."""
    return lambda manifest: manifest["interface"][section][0].update(fields)


INT8 = {"path": "model/model.int8.onnx", "format": "onnx", "variant": "int8"}


def bundle(tmp_path, model=tiny_model, change=None, name="b"):
    manifest = clean_manifest()
    if change is not None:
        change(manifest)
    return make_bundle(tmp_path / name, manifest=manifest, model=model)


@pytest.fixture
def opened(monkeypatch):
    """Record every model the MG2 checks hand to onnx's checker and to onnxruntime (both run
    in the bounded model process, so the record is of the jobs sent to it)."""
    calls = []
    real_run = model_checks.sandbox.run
    names = {"check": "checker", "session": "onnxruntime", "smoke": "onnxruntime"}

    def run(job, path, *args, **kwargs):
        calls.append((names[job], str(path)))
        return real_run(job, path, *args, **kwargs)

    monkeypatch.setattr(model_checks.sandbox, "run", run)
    return calls


# ----------------------------------------------------------------------------- clean bundles

def test_clean_bundle_has_no_model_findings_and_runs_once(tmp_path, opened):
    report = validate(bundle(tmp_path))
    assert mg2(report) == set()
    assert [kind for kind, _ in opened] == ["checker", "onnxruntime"]


def test_external_data_inside_the_bundle_passes(tmp_path, opened):
    root = bundle(tmp_path, model=external_model)
    assert (root / "model" / "weights.bin").stat().st_size == 40
    report = validate(root)
    assert mg2(report) == set()
    assert "onnxruntime" in [kind for kind, _ in opened]


def test_int8_variant_is_validated_alongside_fp32(tmp_path, opened):
    from onnxruntime.quantization import quantize_dynamic

    def two_variants(manifest):
        manifest["artifacts"].append(dict(INT8))

    def models(path):
        tiny_model(path)
        quantize_dynamic(str(path), str(path.parent / "model.int8.onnx"))

    report = validate(bundle(tmp_path, model=models, change=two_variants))
    assert mg2(report) == set()
    assert sorted(p.rsplit("/", 1)[-1] for kind, p in opened if kind == "onnxruntime") == \
        ["model.int8.onnx", "model.onnx"]


def test_int8_variant_must_honour_the_same_interface(tmp_path):
    from onnxruntime.quantization import quantize_dynamic

    def two_variants(manifest):
        manifest["artifacts"].append(dict(INT8))

    def models(path):
        tiny_model(path)
        tiny_model(path.parent / "wide.onnx", inputs=5)
        quantize_dynamic(str(path.parent / "wide.onnx"), str(path.parent / "model.int8.onnx"))
        (path.parent / "wide.onnx").unlink()

    report = validate(bundle(tmp_path, model=models, change=two_variants))
    shape = findings(report, "MG210")
    assert [f.location.path for f in shape] == ["interface.inputs[0].shape[1]"]
    assert "model/model.int8.onnx" in shape[0].message and "5 in the graph" in shape[0].message


# ----------------------------------------------------------------------------- the file itself

@pytest.mark.parametrize("content", [b"", b"this is not an ONNX model\n", "truncated"])
def test_unreadable_onnx_file(tmp_path, content, opened):
    root = bundle(tmp_path)
    target = root / "model" / "model.onnx"
    target.write_bytes(target.read_bytes()[:60] if content == "truncated" else content)
    lock_bundle(root)
    report = validate(root)
    assert mg2(report) == {"MG201"}
    assert findings(report, "MG201")[0].location.file == "model/model.onnx"
    assert opened == []


def test_checker_failure_is_reported_and_the_model_not_run(tmp_path, opened):
    from onnx import helper

    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Add", ["features", "undefined"], ["probabilities"])], ["batch", 4]),
        change=declare("outputs", shape=["batch", 4])))
    assert mg2(report) == {"MG202"}
    assert "undefined" in findings(report, "MG202")[0].message
    assert [kind for kind, _ in opened] == ["checker"]


def test_ir_version_newer_than_onnx_is_refused_before_the_checker(tmp_path, opened):
    import onnx
    from onnx import helper

    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Softmax", ["features"], ["probabilities"])], ["batch", 4],
        ir=onnx.IR_VERSION + 1), change=declare("outputs", shape=["batch", 4])))
    assert mg2(report) == {"MG205"}
    assert f"IR version {onnx.IR_VERSION + 1}" in findings(report, "MG205")[0].message
    assert opened == []


def test_model_using_onnx_operators_without_default_opset(tmp_path):
    from onnx import helper

    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Softmax", ["features"], ["probabilities"])],
        ["batch", 4], opsets=(("custom.ops", 1),)),
        change=declare("outputs", shape=["batch", 4])))
    assert mg2(report) == {"MG205"}
    assert "no default ONNX opset" in findings(report, "MG205")[0].message


def test_model_of_other_domains_alone_needs_no_default_opset(tmp_path):
    from onnx import helper

    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Foo", ["features"], ["probabilities"], domain="custom.ops")],
        ["batch", 4], opsets=(("custom.ops", 1),)),
        change=declare("outputs", shape=["batch", 4])))
    assert "MG205" not in mg2(report)


# ----------------------------------------------------------------------------- external data

def _relocate(location):
    def edit(tensors):
        for entries in tensors.values():
            entries["location"].value = location
    return edit


@pytest.mark.parametrize("location", ["../../etc/passwd", "/etc/passwd", "..\\..\\x.bin", "C:/x.bin"])
def test_escaping_external_data_is_refused_and_never_opened(tmp_path, location, opened):
    report = validate(bundle(tmp_path, model=lambda p: external_model(p, _relocate(location))))
    assert mg2(report) == {"MG203"}
    assert repr(location) in findings(report, "MG203")[0].message
    assert opened == []


def test_escape_outcome_does_not_depend_on_the_target_existing(tmp_path, opened):
    """Whether the file outside exists must make no difference: it is never looked at."""
    sentinel = tmp_path / "sentinel.bin"   # what ../../sentinel.bin names from b/model/
    outcomes = []
    for present in (False, True):
        if present:
            sentinel.write_bytes(b"\0" * 4096)
        root = bundle(tmp_path, model=lambda p: external_model(p, _relocate("../../sentinel.bin")),
                      name=f"b{int(present)}")
        report = validate(root)
        outcomes.append(sorted((f.rule, f.severity.value, f.message.replace(str(root), ""))
                               for f in report.findings if f.rule.startswith("MG2")))
    assert outcomes[0] == outcomes[1]
    assert {rule for rule, _, _ in outcomes[0]} == {"MG203"}
    assert opened == []


def test_external_data_missing_or_outside_the_digests(tmp_path):
    report = validate(bundle(tmp_path, model=lambda p: external_model(p, _relocate("nope.bin"))))
    assert mg2(report) == {"MG203"}
    assert "model/nope.bin, which is not in the bundle" in findings(report, "MG203")[0].message

    def into_signatures(path):
        """A model at the top of the bundle whose weights are to sit under signatures/."""
        top = path.parent.parent / "model.onnx"
        external_model(top, _relocate("signatures/weights.bin"))

    # `lock` refuses a bundle with anything but signatures under signatures/ (MG130), so the
    # weights are moved there after locking.
    root = bundle(tmp_path, model=into_signatures, name="c",
                  change=lambda m: m["artifacts"][0].update(path="model.onnx"))
    (root / "signatures").mkdir()
    (root / "weights.bin").rename(root / "signatures" / "weights.bin")
    report = validate(root)
    assert mg2(report) == {"MG203"}
    assert "digests do not cover" in findings(report, "MG203")[0].message


def test_external_data_beyond_its_file(tmp_path, opened):
    def past_end(tensors):
        tensors["B"]["offset"].value = "1000"

    report = validate(bundle(tmp_path, model=lambda p: external_model(p, past_end)))
    assert mg2(report) == {"MG204"}
    message = findings(report, "MG204")[0].message
    assert "'B'" in message and "beyond the end of model/weights.bin (40 bytes)" in message
    assert opened == []


def test_external_data_length_disagreeing_with_the_tensor(tmp_path):
    def short(tensors):
        tensors["W"]["length"].value = "16"

    report = validate(bundle(tmp_path, model=lambda p: external_model(p, short)))
    assert mg2(report) == {"MG204"}
    assert "length is 16 bytes but its type and dims need 32" in findings(report, "MG204")[0].message


# ----------------------------------------------------------------------------- the contract

def test_declared_input_missing_and_graph_input_undeclared(tmp_path):
    report = validate(bundle(tmp_path, change=declare("inputs", name="feats")))
    assert mg2(report) == {"MG206", "MG207"}
    missing = findings(report, "MG206")[0]
    assert missing.location.path == "interface.inputs[0].name" and "features" in missing.hint
    assert "'features'" in findings(report, "MG207")[0].message


def test_undeclared_graph_output_is_a_warning(tmp_path):
    from onnx import helper

    def two_outputs(path):
        save_graph(path, [helper.make_node("Softmax", ["features"], ["probabilities"]),
                          helper.make_node("Identity", ["features"], ["raw"])],
                   [tensor("features", ["batch", 4])],
                   [tensor("probabilities", ["batch", 4]), tensor("raw", ["batch", 4])])

    report = validate(bundle(tmp_path, model=two_outputs,
                             change=declare("outputs", shape=["batch", 4])))
    assert mg2(report) == {"MG208"}
    assert mg2(report, "warning") == {"MG208"}
    assert "'raw'" in findings(report, "MG208")[0].message


@pytest.mark.parametrize(("section", "update", "rule", "path"), [
    ("inputs", {"dtype": "int64"}, "MG209", "interface.inputs[0].dtype"),
    ("inputs", {"shape": ["batch", 4, 1]}, "MG210", "interface.inputs[0].shape"),
    ("outputs", {"shape": ["batch", 5]}, "MG210", "interface.outputs[0].shape[1]"),
])
def test_type_and_shape_mismatches_are_errors(tmp_path, section, update, rule, path):
    report = validate(bundle(tmp_path, change=declare(section, **update)))
    assert mg2(report) == {rule}
    assert [f.location.path for f in findings(report, rule)] == [path]
    assert findings(report, rule)[0].severity.value == "error"


def test_fixed_dimension_mismatch_message_names_both_sizes(tmp_path):
    report = validate(bundle(tmp_path, change=declare("outputs", shape=["batch", 5])))
    assert "dimension 1 is 5 in the manifest but 2 in the graph" in findings(report, "MG210")[0].message


def test_fixed_against_symbolic_dimension_is_a_warning(tmp_path):
    report = validate(bundle(tmp_path, change=declare("inputs", shape=[1, 4])))
    assert mg2(report) == {"MG211"}
    finding = findings(report, "MG211")[0]
    assert finding.severity.value == "warning"
    assert finding.location.path == "interface.inputs[0].shape[0]"
    assert "fixed to 1 in the manifest but dynamic ('batch') in the graph" in finding.message


def test_symbolic_against_fixed_dimension_is_a_warning(tmp_path):
    report = validate(bundle(tmp_path, change=declare("inputs", shape=["batch", "features"])))
    assert mg2(report) == {"MG211"}
    assert "symbolic ('features') in the manifest but fixed to 4" in findings(report, "MG211")[0].message


def test_symbolic_names_that_differ_are_info(tmp_path):
    def rename(manifest):
        manifest["interface"]["inputs"][0]["shape"] = ["N", 4]
        manifest["interface"]["outputs"][0]["shape"] = ["N", 2]

    report = validate(bundle(tmp_path, change=rename))
    assert mg2(report) == {"MG212"}
    assert mg2(report, "info") == {"MG212"}
    assert len(findings(report, "MG212")) == 2


def test_malformed_interface_does_not_crash(tmp_path):
    def garble(manifest):
        manifest["interface"] = {"inputs": ["features", {"name": 3}, {"name": "features", "dtype": 7,
                                                                      "shape": [True, -1]}],
                                 "outputs": "probabilities"}

    report = validate(bundle(tmp_path, change=garble))
    assert "MG100" not in rules_of(report)
    root = bundle(tmp_path, name="c")
    edit_manifest(root, lambda m: m.update(interface="none"))
    assert "MG100" not in rules_of(validate(root))


# ----------------------------------------------------------------------------- smoke inference

def test_runtime_output_shape_that_contradicts_the_interface(tmp_path):
    """The graph leaves the width open; the manifest promises 3; the model computes 4."""
    from onnx import helper

    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Softmax", ["features"], ["probabilities"])], ["batch", "width"]),
        change=declare("outputs", shape=["batch", 3])))
    assert mg2(report) == {"MG211", "MG213"}
    mismatch = findings(report, "MG213")[0]
    assert mismatch.location.path == "interface.outputs[0].shape[1]"
    assert "has shape [1, 4]: dimension 1 is 4, but the manifest fixes it to 3" in mismatch.message


def test_runtime_output_batch_that_differs_from_the_input_batch(tmp_path):
    """Reshape to [2, -1] turns a batch of one into two rows; the graph cannot tell statically."""
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [2, -1])
    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Reshape", ["features", "shape"], ["probabilities"])], ["batch", 2],
        initializers=[shape])))
    assert mg2(report) == {"MG213"}
    assert "dimension 0 is 2, but the inputs set 'batch' to 1" in findings(report, "MG213")[0].message


def test_zipped_bundle_with_external_data(tmp_path):
    import shutil

    root = bundle(tmp_path, model=external_model)
    archive = shutil.make_archive(str(tmp_path / "bundle"), "zip", root)
    assert mg2(validate(archive)) == set()


def test_output_dtype_mismatch_is_reported_once(tmp_path):
    """A float64 output declared float32 is caught from the graph, not a second time at runtime."""
    from onnx import TensorProto, helper

    def casts(path):
        cast = helper.make_node("Cast", ["features"], ["probabilities"], to=TensorProto.DOUBLE)
        save_graph(path, [cast], [tensor("features", ["batch", 4])],
                   [tensor("probabilities", ["batch", 4], TensorProto.DOUBLE)])

    report = validate(bundle(tmp_path, model=casts, change=declare("outputs", shape=["batch", 4])))
    assert mg2(report) == {"MG209"}     # caught statically; not reported a second time at runtime

    def bind(manifest):
        manifest["interface"]["outputs"][0].update(shape=["batch", 4], dtype="float64")
    assert mg2(validate(bundle(tmp_path, model=casts, change=bind, name="c"))) == set()


def test_runtime_outputs_against_the_declared_outputs():
    import numpy as np

    from modelgate.core.bundle.manifest_types import typed_manifest

    class Context:
        typed = typed_manifest(
            {"interface": {"outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 3]}]}})

    def check(value, settled=frozenset()):
        # The model process reports each output as its dtype name and shape.
        described = (value.dtype.name, tuple(value.shape))
        found = model_checks._check_outputs(Context, "m.onnx", {"y": described}, {"batch": 1}, settled)
        return [(f.rule, f.location.path) for f in found]

    assert check(np.zeros((1, 3), np.float32)) == []
    assert check(np.zeros((1, 3), np.float64)) == [("MG213", "interface.outputs[0].dtype")]
    assert check(np.zeros((1, 3, 1), np.float32)) == [("MG213", "interface.outputs[0].shape")]
    assert check(np.zeros((2, 3), np.float32)) == [("MG213", "interface.outputs[0].shape[0]")]
    assert check(np.zeros((1, 4), np.float32)) == [("MG213", "interface.outputs[0].shape[1]")]
    assert check(np.zeros((1, 4), np.float64), settled={0}) == []


def test_inference_that_raises_is_an_error(tmp_path):
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [3, 5])
    report = validate(bundle(tmp_path, model=lambda p: features_to(
        p, [helper.make_node("Reshape", ["features", "shape"], ["probabilities"])], [3, 5],
        initializers=[shape]), change=declare("outputs", shape=[3, 5])))
    assert mg2(report) == {"MG214"}
    message = findings(report, "MG214")[0].message
    assert "inference on features float32[1, 4] failed" in message


def test_model_onnxruntime_cannot_run(tmp_path):
    from onnx import helper

    def custom(path):
        foo = helper.make_node("Foo", ["features"], ["probabilities"], domain="custom.ops")
        features_to(path, [foo], ["batch", 4], opsets=(("", 17), ("custom.ops", 1)))

    root = bundle(tmp_path, model=custom,
                  change=declare("outputs", shape=["batch", 4]))
    candidate = validate(root, stage="candidate")
    assert mg2(candidate) == {"MG215"} and mg2(candidate, "info") == {"MG215"}
    assert "(Foo from domain custom.ops)" in findings(candidate, "MG215")[0].message
    staging = validate(root, stage="staging")      # the default policy sets require_inference here
    assert mg2(staging, "error") == {"MG215"}
    assert "the staging stage requires the model to run" in findings(staging, "MG215")[0].message


def test_large_models_are_not_run(tmp_path, monkeypatch, opened):
    monkeypatch.setenv("MODELGATE_MAX_SESSION_BYTES", "100")
    report = validate(bundle(tmp_path))
    assert mg2(report) == {"MG215"} and mg2(report, "info") == {"MG215"}
    assert "above the" in findings(report, "MG215")[0].message
    assert [kind for kind, _ in opened] == ["checker"]


@pytest.mark.slow
def test_inference_that_never_ends_is_stopped(tmp_path, monkeypatch):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    def endless(path):
        body = helper.make_graph(
            [helper.make_node("Add", ["v_in", "one"], ["v_out"]),
             helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
            [tensor("i", [], TensorProto.INT64), tensor("cond_in", [], TensorProto.BOOL),
             tensor("v_in", ["batch", 4])],
            [tensor("cond_out", [], TensorProto.BOOL), tensor("v_out", ["batch", 4])],
            initializer=[numpy_helper.from_array(np.ones(1, np.float32), "one")])
        loop = helper.make_node("Loop", ["trips", "", "features"], ["probabilities"], body=body)
        trips = numpy_helper.from_array(np.array(10**15, np.int64), "trips")
        features_to(path, [loop], ["batch", 4], initializers=[trips])

    monkeypatch.setenv("MODELGATE_SMOKE_TIMEOUT_S", "3")
    report = validate(bundle(tmp_path, model=endless,
                             change=declare("outputs", shape=["batch", 4])))
    assert mg2(report) == {"MG216"}
    assert "did not finish within the 3 s time limit" in findings(report, "MG216")[0].message
    assert "during inference" in findings(report, "MG216")[0].message


def test_synthetic_inputs_follow_the_contract():
    from modelgate.core.formats.onnx.load import synthetic_inputs

    declared = [{"name": "ids", "dtype": "int64", "shape": ["batch", "sequence"]},
                {"name": "mask", "dtype": "bool", "shape": ["batch", "sequence"]},
                {"name": "image", "dtype": "uint8", "shape": ["batch", 3, "height", "width"]},
                {"name": "text", "dtype": "string", "shape": [2]}]
    graph = {"ids": ("tensor_type", "int64", ["b", None]), "mask": ("tensor_type", "bool", None),
             "image": ("tensor_type", "uint8", [None, 3, 32, None]),
             "text": ("tensor_type", "string", [2])}
    feeds, bindings, shown = synthetic_inputs(copy.deepcopy(declared), graph)
    assert feeds["ids"].shape == feeds["mask"].shape == (1, 8)
    assert set(feeds["ids"].ravel()) == {0, 1} and not feeds["mask"].any()
    assert feeds["image"].shape == (1, 3, 32, 64)          # the graph's fixed height wins
    assert list(feeds["text"].ravel()) == ["a", "a"]
    assert bindings == {"batch": 1, "sequence": 8, "height": 32, "width": 64}
    assert "image uint8[1, 3, 32, 64]" in shown
    with pytest.raises(ValueError, match="bfloat16"):
        synthetic_inputs([{"name": "x", "dtype": "bfloat16", "shape": [1]}],
                         {"x": ("tensor_type", "bfloat16", [1])})
    with pytest.raises(ValueError, match="too large"):
        synthetic_inputs([{"name": "x", "dtype": "float32", "shape": [1, 3, 10**5, 10**5]}],
                         {"x": ("tensor_type", "float32", None)})
