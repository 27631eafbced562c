"""MG220-MG230 through the whole validation: bundles whose artifacts are safetensors, GGUF,
TFLite or PyTorch files written by each format's own library."""

from __future__ import annotations

import pytest

from modelgate.core.cli.main import main
from modelgate.core.findings import Severity
from modelgate.core.formats.rules import (CUSTOM_OPERATOR, FORMAT_MISMATCH, METADATA_MISMATCH, PICKLE_STAGE,
                                          TARGET_FORMAT, WEIGHTS_ONLY)
from tests.core.formats import _writers
from tests.factory import edit_manifest, findings, policy_file, rules_of, validate

KINDS = {
    "safetensors": ("model.safetensors", _writers.write_safetensors, "transformers"),
    "gguf": ("model.gguf", lambda p: _writers.write_gguf(p, name="tiny classifier"), "llama.cpp"),
    "tflite": ("model.tflite", _writers.write_tflite, "tflite"),
    "pytorch": ("model.pt", lambda p: p.write_bytes(_writers.torch_zip_bytes()), "transformers"),
}


def _bundle(tmp_path, kind: str, **options):
    name, writer, runtime = KINDS[kind]
    return _writers.format_bundle(tmp_path / kind, name=name, writer=writer, fmt=kind, runtime=runtime, **options)


def _tflite_interface(data: dict) -> None:
    data["interface"]["inputs"] = [{"name": "input", "dtype": "float32", "shape": ["batch", 4]}]
    data["interface"]["outputs"] = [{"name": "output", "dtype": "float32", "shape": ["batch", 3]}]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_clean_bundle_of_each_format_has_no_format_error(tmp_path, kind):
    root = _bundle(tmp_path, kind)
    if kind == "tflite":
        edit_manifest(root, _tflite_interface)
        _writers.lock_bundle(root)
    report = validate(root, stage="candidate")
    assert {r for r in rules_of(report, "error") if r.startswith(("MG1", "MG2", "MG3"))} == set()


def test_a_weights_only_format_says_the_interface_is_unchecked(tmp_path):
    report = validate(_bundle(tmp_path, "safetensors"), stage="draft")
    assert [f.severity for f in findings(report, WEIGHTS_ONLY.id)] == [Severity.INFO]


def test_the_tflite_graph_is_held_to_the_declared_interface(tmp_path):
    report = validate(_bundle(tmp_path, "tflite"), stage="draft")
    # the clean manifest declares 'features'/'probabilities': the graph has 'input'/'output'
    assert {"MG206", "MG207"} <= rules_of(report, "error")


def test_a_tflite_custom_operator_is_a_warning(tmp_path):
    name, _, runtime = KINDS["tflite"]
    root = _writers.format_bundle(tmp_path / "c", name=name, fmt="tflite", runtime=runtime,
                                  writer=lambda p: _writers.write_tflite(p, custom="MyOp"))
    assert [f.severity for f in findings(validate(root, stage="draft"), CUSTOM_OPERATOR.id)] == [Severity.WARNING]


@pytest.mark.parametrize("stage, severity", [("candidate", Severity.WARNING), ("staging", Severity.ERROR),
                                             ("production", Severity.ERROR)])
def test_pickles_are_refused_from_staging_on(tmp_path, stage, severity):
    report = validate(_bundle(tmp_path, "pytorch"), stage=stage)
    assert [f.severity for f in findings(report, PICKLE_STAGE.id)] == [severity]


def test_a_stage_may_allow_pickles(tmp_path):
    policy = policy_file(tmp_path, lambda data: data["stages"]["staging"].update(allow_pickle=True))
    report = validate(_bundle(tmp_path, "pytorch"), stage="staging", policy=policy)
    assert [f.severity for f in findings(report, PICKLE_STAGE.id)] == [Severity.WARNING]


def test_a_target_runtime_must_run_the_artifact_format(tmp_path):
    root = _bundle(tmp_path, "gguf", lock=False)
    edit_manifest(root, lambda data: data["targets"][0].update(runtime="onnxruntime"))
    report = validate(root, stage="draft")
    assert [f.location.path for f in findings(report, TARGET_FORMAT.id)] == ["targets[0].runtime"]


def test_a_file_in_another_format_than_declared_is_mg220(tmp_path):
    name, writer, _ = KINDS["gguf"]
    root = _writers.format_bundle(tmp_path / "x", name="model.safetensors", writer=writer, fmt="safetensors",
                                  runtime="transformers")
    assert FORMAT_MISMATCH.id in rules_of(validate(root, stage="draft"), "error")


def test_gguf_license_contradicting_the_manifest_is_an_error(tmp_path):
    root = _writers.format_bundle(tmp_path / "g", name="model.gguf", fmt="gguf", runtime="llama.cpp",
                                  writer=lambda p: _writers.write_gguf(p, name="tiny classifier", license_id="mit"))
    assert [f.location.path for f in findings(validate(root, stage="draft"), METADATA_MISMATCH.id)] == ["license"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_init_with_each_format_validates_at_draft_without_a_model_error(tmp_path, kind, capsys):
    name, writer, runtime = KINDS[kind]
    source = tmp_path / name
    writer(source)
    folder = tmp_path / "bundle"
    assert main(["init", "tiny", "--dir", str(folder), "--model", str(source)]) == 0
    assert main(["lock", str(folder)]) == 0
    capsys.readouterr()
    main(["validate", str(folder), "--stage", "draft", "--format", "json"])
    import json

    report = json.loads(capsys.readouterr().out)
    errors = {f["rule"] for f in report["findings"] if f["severity"] == "error"}
    assert {r for r in errors if not r.startswith("MG5")} == set()  # the template card is the author's to fill
    text = (folder / "bundle.yaml").read_text()
    assert f"format: {kind}" in text and f"runtime: {runtime}" in text


def test_a_sharded_checkpoint_is_one_artifact_and_its_shards_are_not_undeclared(tmp_path):

    def writer(path):
        _writers.write_shards(path.parent)

    root = _writers.format_bundle(tmp_path / "s", name="model.safetensors.index.json", writer=writer,
                                  fmt="safetensors", runtime="transformers")
    report = validate(root, stage="draft")
    assert {"MG131", "MG112", "MG220", "MG221", "MG228"} & rules_of(report) == set()
    (root / "model" / "model-00002-of-00002.safetensors").unlink()
    _writers.lock_bundle(root)
    assert "MG228" in rules_of(validate(root, stage="draft"), "error")


def test_a_memory_budget_counts_every_shard_and_never_parses_the_index_as_onnx(tmp_path):

    root = _writers.format_bundle(tmp_path / "s", name="model.safetensors.index.json", lock=False,
                                  writer=lambda path: _writers.write_shards(path.parent), fmt="safetensors", runtime="transformers")
    index = (root / "model" / "model.safetensors.index.json").stat().st_size
    edit_manifest(root, lambda data: data["targets"][0].update(memory_mb=(index + 8) / 1024**2))
    _writers.lock_bundle(root)
    report = validate(root, stage="draft")
    assert [f.severity for f in findings(report, "MG308")] == [Severity.ERROR]
    assert not {"MG201", "MG303", "MG304"} & rules_of(report)


@pytest.mark.parametrize("kind", ["gguf", "tflite"])
def test_a_stage_requiring_inference_says_the_format_runtime_was_not_run(tmp_path, kind):
    """Neither llama-cpp-python nor LiteRT is a dependency: the check runs in the model process and
    reports that no runtime is installed, without failing the bundle."""
    root = _bundle(tmp_path, kind)
    skipped = findings(validate(root, stage="staging"), "MG233")
    assert [(f.severity, "not loaded in a runtime" in f.message) for f in skipped] == [(Severity.WARNING, True)]
    assert findings(validate(root, stage="candidate"), "MG233") == []


def test_init_refuses_a_file_in_no_known_format_and_a_broken_one_of_a_known_format(tmp_path, capsys):
    junk = tmp_path / "weights.dat"
    junk.write_bytes(b"\x00not a model" * 10)
    assert main(["init", "j", "--dir", str(tmp_path / "a"), "--model", str(junk)]) == 2
    assert "not a model file ModelGate reads" in capsys.readouterr().err
    broken = tmp_path / "model.gguf"
    broken.write_bytes(b"GGUF" + b"\xff" * 40)
    assert main(["init", "g", "--dir", str(tmp_path / "b"), "--model", str(broken)]) == 2
    assert "not a readable GGUF file" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _devices(tmp_path, rules):
    return policy_file(tmp_path, lambda data: data.update(devices=rules))


def test_a_device_policy_limits_formats_and_weight_types(tmp_path):
    policy = _devices(tmp_path, {"npu": {"formats": ["tflite"], "dtypes": ["int8", "uint8"]}})
    root = _bundle(tmp_path, "tflite", lock=False)
    edit_manifest(root, lambda data: data["targets"][0].update(device="npu"))
    _writers.lock_bundle(root)
    (found,) = findings(validate(root, stage="draft", policy=policy), "MG234")
    assert "weights include float32" in found.message and found.location.path == "targets[0].artifact"
    gguf = _bundle(tmp_path, "gguf", lock=False)
    edit_manifest(gguf, lambda data: data["targets"][0].update(device="npu"))
    _writers.lock_bundle(gguf)
    (found,) = findings(validate(gguf, stage="draft", policy=policy), "MG234")
    assert "(gguf)" in found.message
    assert findings(validate(gguf, stage="draft"), "MG234") == []  # the default policy sets no devices


def test_a_device_policy_reads_onnx_weight_types_too(tmp_path):
    from tests.factory import make_bundle

    policy = _devices(tmp_path, {"cpu": {"dtypes": ["int8"]}})
    report = validate(make_bundle(tmp_path / "onnx"), stage="draft", policy=policy)
    assert ["float32" in f.message for f in findings(report, "MG234")] == [True]
