"""MG3xx: runtime targets, onnxruntime compatibility, memory and latency budgets."""

from __future__ import annotations

import pytest

from modelgate.core.formats.onnx import ortcompat
from tests.factory import findings, clean_manifest, clean_results, make_bundle, rules_of, tiny_model, validate


def mg3(report, severity: str | None = None) -> set[str]:
    return {r for r in rules_of(report, severity) if r.startswith("MG3")}


def with_target(**change) -> dict:
    manifest = clean_manifest()
    manifest["targets"][0].update(change)
    return manifest


def model_at(opset: int, ir: int | None = None):
    def write(path):
        tiny_model(path, opset=opset)
        if ir is not None:
            import onnx

            model = onnx.load(str(path))
            model.ir_version = ir
            onnx.save(model, str(path))
    return write


def custom_op_model(path):
    """features -> MatMul -> acme.ops:Frobnicate -> probabilities: one operator no runtime has."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 2), dtype="float32"), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "W"], ["logits"]),
         helper.make_node("Frobnicate", ["logits"], ["probabilities"], domain="acme.ops", name="frob")],
        "custom",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("acme.ops", 1)])
    model.ir_version = 9
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def installed() -> str:
    pytest.importorskip("onnxruntime")
    version = ortcompat.installed_version()
    if version is None:
        pytest.skip("onnxruntime metadata not found")
    return ortcompat.show(version)


def test_clean_bundle_has_no_target_findings(tmp_path):
    assert mg3(validate(make_bundle(tmp_path / "b"))) == set()


def test_unknown_variant_and_duplicate_names(tmp_path):
    manifest = with_target(artifact="int8")
    manifest["targets"].append(dict(clean_manifest()["targets"][0]))
    report = validate(make_bundle(tmp_path / "b", manifest=manifest))
    assert "MG301" in mg3(report, "error") and "MG302" in mg3(report, "error")
    assert findings(report, "MG301")[0].location.path == "targets[0].artifact"
    assert findings(report, "MG302")[0].location.path == "targets[1].name"


def test_opset_above_max_opset(tmp_path):
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(max_opset=17),
                                  model=model_at(21)))
    assert mg3(report) == {"MG303"}
    assert "opset 21" in findings(report, "MG303")[0].message


def test_runtime_too_old_for_opset(tmp_path):
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version="1.14"),
                                  model=model_at(21)))
    assert mg3(report, "error") == {"MG304"}
    (finding,) = findings(report, "MG304")
    assert "opset 21" in finding.message and "up to 18" in finding.message
    assert finding.location.path == "targets[0].runtime_version"


def test_runtime_too_old_for_ir_version(tmp_path):
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version="1.17.1"),
                                  model=model_at(17, ir=10)))
    assert mg3(report, "error") == {"MG304"}
    assert "IR version 10" in findings(report, "MG304")[0].message


def test_release_between_table_rows_is_bounded_by_its_neighbours(tmp_path):
    # 1.22 is not in the table: it loads at least what 1.21 loads (22) and at most what 1.23 does (23).
    unknown = validate(make_bundle(tmp_path / "a", manifest=with_target(runtime_version="1.22",
                                                                        max_opset=23),
                                   model=model_at(23)))
    assert mg3(unknown) == {"MG305"} and mg3(unknown, "info") == {"MG305"}
    too_new = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version="1.22",
                                                                        max_opset=24),
                                   model=model_at(24)))
    assert "MG304" in mg3(too_new, "error")
    fine = validate(make_bundle(tmp_path / "c", manifest=with_target(runtime_version="1.22"),
                                model=model_at(21)))
    assert mg3(fine) == set()


def test_release_newer_than_the_table_cannot_be_known(tmp_path):
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version="9.1",
                                                                       max_opset=24),
                                  model=model_at(24)))
    assert mg3(report) == {"MG305"}
    assert "cannot be known" in findings(report, "MG305")[0].message


def test_runtime_version_without_minor_is_reported(tmp_path):
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version="1")))
    assert mg3(report) == {"MG305"}


def test_installed_runtime_finds_the_unsupported_operator(tmp_path):
    version = installed()
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version=version),
                                  model=custom_op_model))
    assert "MG306" in mg3(report, "error")
    assert "Frobnicate" in findings(report, "MG306")[0].message
    assert "MG307" in mg3(report, "info")


def test_installed_runtime_loads_the_clean_model(tmp_path):
    version = installed()
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version=version)))
    assert mg3(report) == set()


def test_installed_runtime_refuses_a_too_new_ir_version(tmp_path):
    version = installed()
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version=version),
                                  model=model_at(17, ir=99)))
    assert mg3(report) == {"MG304"}
    assert "IR version 99" in findings(report, "MG304")[0].message


def test_external_data_outside_the_bundle_is_never_loaded(tmp_path, monkeypatch):
    import onnx

    version = installed()

    def escaping(path):
        tiny_model(path)
        model = onnx.load(str(path))
        weight = model.graph.initializer[0]
        weight.ClearField("raw_data")
        weight.ClearField("float_data")
        weight.data_location = onnx.TensorProto.EXTERNAL
        weight.external_data.add(key="location", value="../../outside.bin")
        onnx.save(model, str(path))

    def refuse(_path):
        raise AssertionError("a model with escaping external data was handed to onnxruntime")

    monkeypatch.setattr(ortcompat, "try_session", refuse)
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(runtime_version=version),
                                  model=escaping))
    assert mg3(report) == {"MG305"}
    assert "outside.bin" in findings(report, "MG305")[0].message


def test_foreign_domain_on_another_runtime_is_info_only(tmp_path):
    report = validate(make_bundle(tmp_path / "b", model=custom_op_model))
    assert mg3(report) == {"MG307"}
    (finding,) = findings(report, "MG307")
    assert "acme.ops" in finding.message and finding.location.path == "artifacts[0].path"


def test_memory_budget_exceeded(tmp_path):
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(memory_mb=0.0001)))
    assert mg3(report, "error") == {"MG308"}
    assert findings(report, "MG308")[0].location.path == "targets[0].memory_mb"


def test_memory_budget_with_little_headroom(tmp_path):
    root = make_bundle(tmp_path / "a")
    size = (root / "model" / "model.onnx").stat().st_size
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(memory_mb=size / 0.9 / 2**20)))
    assert mg3(report) == {"MG308"} and mg3(report, "warning") == {"MG308"}


def test_memory_budget_counts_external_data(tmp_path):
    import onnx

    def external(path):
        tiny_model(path, inputs=64, outputs=64)
        model = onnx.load(str(path))
        onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                  location="weights.bin", size_threshold=0)

    root = make_bundle(tmp_path / "a", model=external)
    model_only = (root / "model" / "model.onnx").stat().st_size
    weights = (root / "model" / "weights.bin").stat().st_size
    assert weights > model_only
    budget = (model_only + weights / 2) / 2**20  # fits the model file alone, not with its weights
    report = validate(make_bundle(tmp_path / "b", manifest=with_target(memory_mb=budget),
                                  model=external))
    assert "MG308" in mg3(report, "error")
    assert "external-data" in findings(report, "MG308")[0].message


def test_latency_over_budget(tmp_path):
    results = clean_results()
    results["results"][2]["value"] = 31.5
    report = validate(make_bundle(tmp_path / "b", results=results))
    assert mg3(report) == {"MG309"}
    (finding,) = findings(report, "MG309")
    assert finding.location.file == "benchmarks/results.json"
    assert finding.location.path == "results[2].value"


def test_latency_in_seconds_is_converted(tmp_path):
    slow, fast = clean_results(), clean_results()
    slow["results"][2].update(value=0.05, unit="s")
    fast["results"][2].update(value=0.004, unit="s")
    assert mg3(validate(make_bundle(tmp_path / "a", results=slow))) == {"MG309"}
    assert mg3(validate(make_bundle(tmp_path / "b", results=fast))) == set()


def test_latency_budget_without_measurement(tmp_path):
    results = clean_results()
    del results["results"][2]
    report = validate(make_bundle(tmp_path / "a", results=results))
    assert mg3(report) == {"MG310"} and mg3(report, "warning") == {"MG310"}
    other = clean_results()
    other["results"][2].update(metric="latency_p50_ms", value=40)
    report = validate(make_bundle(tmp_path / "b", results=other))
    assert mg3(report) == {"MG310"}
    assert "latency_p50_ms" in findings(report, "MG310")[0].message


def test_result_for_unknown_target(tmp_path):
    results = clean_results()
    results["results"].append({"dataset": "loans", "split": "test", "metric": "latency_p95_ms",
                               "value": 3.0, "target": "gpu-a100", "unit": "ms"})
    report = validate(make_bundle(tmp_path / "b", results=results))
    assert mg3(report) == {"MG311"}
    (finding,) = findings(report, "MG311")
    assert (finding.location.file, finding.location.path) == ("benchmarks/results.json",
                                                              "results[3].target")


def test_malformed_targets_do_not_crash(tmp_path):
    manifest = clean_manifest()
    manifest["targets"] = [None, "cpu", {"name": 3, "artifact": ["fp32"], "runtime": "onnxruntime",
                                         "runtime_version": 1.18, "memory_mb": True,
                                         "latency_p95_ms": "fast", "max_opset": "21"}]
    report = validate(make_bundle(tmp_path / "b", manifest=manifest))
    assert not [f for f in findings(report, "MG100") if f.message.startswith("targets.")]
    # Only the benchmark result naming the no longer declared target "cpu-default" is left.
    assert mg3(report) == {"MG311"}


def test_compare_uses_documented_rows_and_neighbours():
    assert ortcompat.compare((1, 18), {"opset": 21, "ir": 10, "ml_opset": 4}).too_new == []
    assert ortcompat.compare((1, 16), {"opset": 20}).too_new
    assert ortcompat.compare((1, 15), {"ir": 9}).too_new == []
    verdict = ortcompat.compare((1, 30), {"opset": 28, "ir": 14})
    assert verdict.too_new == [] and len(verdict.unknown) == 2
    assert ortcompat.parse_version("1.18.3") == (1, 18) and ortcompat.parse_version("1") is None


def test_explain_failure_names_the_operator():
    kernel = ("[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : Could not find an implementation for "
              "Relu(14) node with name 'r1'")
    assert ortcompat.explain_failure(kernel).kind == "operator"
    assert "Relu" in ortcompat.explain_failure(kernel).detail
    ir = "[ONNXRuntimeError] : 1 : FAIL : Unsupported model IR version: 15, max supported IR version: 14"
    assert ortcompat.explain_failure(ir).kind == "version"
    assert ortcompat.explain_failure("something else broke").kind == "other"
