"""The demo's bundles in the other formats: written by each format's own library, small, read
back by the format readers, kept at sensible stages, and the poisoned pickle never run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.core.demo.torch_zip import PICKLE_MARKER
from modelgate.core.formats import registry
from modelgate.core.formats.rules import UNSAFE_IMPORT

POISONED = "churn-predictor-0.3.0"
SOUND = {"support-assistant-1.0.0": "safetensors", "support-assistant-1.1.0": "gguf",
         "keyword-spotter-1.0.0": "tflite"}


def _artifact(folder: Path, manifests) -> tuple[Path, dict]:
    [artifact] = manifests[folder.name].data["artifacts"]
    return folder / artifact["path"], artifact


def _bundles(built) -> dict[str, Path]:
    return {folder.name: folder for folder in built[0].bundles}


def test_each_file_is_small_and_in_its_declared_format_by_its_bytes(built, manifests):
    bundles = _bundles(built)
    for name in (*SOUND, POISONED):
        path, artifact = _artifact(bundles[name], manifests)
        assert path.stat().st_size < 64 * 1024, name                      # kilobytes, not megabytes
        fmt = registry.detect(path)                                       # by content, not by suffix
        assert fmt is not None and artifact["format"] in fmt.names, name
        facts = fmt.read(path=path, label=artifact["path"])
        assert facts.tensors and facts.parameter_count > 0, name
        if name in SOUND:
            assert facts.findings == (), (name, facts.findings)


def test_what_each_library_wrote_is_what_the_demo_says(built, manifests):
    bundles = _bundles(built)
    read = {}
    for name in (*SOUND, POISONED):
        path, artifact = _artifact(bundles[name], manifests)
        read[name] = registry.by_name(artifact["format"]).read(path=path, label=artifact["path"])
    llm, gguf, mobile, pickle = (read[n] for n in (*SOUND, POISONED))
    assert llm.dtypes == ("float16",) and llm.inputs is None and llm.meta("format") == "pt"
    # The GGUF file holds the same tensors, renamed as llama.cpp names them and quantised to q8_0.
    assert len(gguf.tensors) == len(llm.tensors) and gguf.parameter_count == llm.parameter_count
    assert set(gguf.dtypes) == {"Q8_0", "F32"} and gguf.meta("general.architecture") == "llama"
    assert gguf.meta("general.license") == "apache-2.0" and gguf.meta("tokenizer.ggml.model") == "llama"
    assert {name for name, _version in mobile.operators} == {"FULLY_CONNECTED", "RELU", "SOFTMAX"}
    assert mobile.interface() == {"inputs": [{"name": "features", "dtype": "float32", "shape": ["dim0", 40]}],
                                  "outputs": [{"name": "probabilities", "dtype": "float32", "shape": ["dim0", 4]}]}
    assert "__builtin__.exec" in pickle.imports
    assert [f.rule for f in pickle.findings if f.rule == UNSAFE_IMPORT.id]


def test_the_hidden_payload_is_real(built, manifests, tmp_path):
    """Loaded by a plain unpickler (torch's names stubbed), the checkpoint runs its payload: so
    the marker checks below would notice if anything ever loaded it."""
    import zipfile

    path, _ = _artifact(_bundles(built)[POISONED], manifests)
    with zipfile.ZipFile(path) as archive:
        (tmp_path / "data.pkl").write_bytes(archive.read("archive/data.pkl"))
    loader = ("import pickle, types\n"
              "class Loader(pickle.Unpickler):\n"
              "    def find_class(self, module, name):\n"
              "        if module.startswith('torch'):\n"
              "            return lambda *args: None\n"
              "        return super().find_class(module, name)\n"
              "    def persistent_load(self, pid):\n"
              "        return None\n"
              "Loader(open('data.pkl', 'rb')).load()\n")
    subprocess.run([sys.executable, "-c", loader], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / PICKLE_MARKER).is_file()


def test_the_payload_never_runs_when_the_demo_is_built_validated_inspected_or_imported(
        built, build_folder, tmp_path, monkeypatch, capsys):
    from modelgate.core.cli.main import main
    from modelgate.core.registry import init_registry

    assert list(build_folder.iterdir()) == []                    # the build wrote nothing where it ran
    bundle = _bundles(built)[POISONED]
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(bundle), "--stage", "draft"]) == 1
    assert main(["inspect", str(bundle)]) == 1
    assert "__builtin__.exec" in capsys.readouterr().out
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    init_registry(url=url, user="admin").close()
    assert main(["import", str(bundle), "--registry", url, "--user", "admin"]) == 0
    assert not (tmp_path / PICKLE_MARKER).exists()


def test_the_registry_keeps_the_formats_at_candidate_and_refuses_the_pickle(built, tmp_path):
    from modelgate.core.demo.registry import ADMIN
    from modelgate.core.registry import open_registry, workflow
    from modelgate.core.registry.errors import WorkflowRefused

    copy = tmp_path / "demo"
    shutil.copytree(built[0].directory, copy, ignore=shutil.ignore_patterns("bundles"))
    url = f"sqlite:///{copy / 'registry.db'}"
    registry = open_registry(url=url, user=ADMIN)
    try:
        stages = {(v.name, v.version): v.stage for v in registry.list_versions()}
    finally:
        registry.close()
    assert stages[("support-assistant", "1.0.0")] == stages[("support-assistant", "1.1.0")] == "candidate"
    assert stages[("keyword-spotter", "1.0.0")] == "candidate"
    assert stages[("churn-predictor", "0.3.0")] == "draft"
    chen = open_registry(url=url, user="chen")
    try:
        with pytest.raises(WorkflowRefused) as refused:
            workflow.promote(chen, name="churn-predictor", version="0.3.0", to_stage="candidate", reason="try")
    finally:
        chen.close()
    assert UNSAFE_IMPORT.id in refused.value.message + str(refused.value.gates)
