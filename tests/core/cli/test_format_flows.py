"""Every format through the whole command line: init, lock, validate, inspect, import, review,
promote, compare and report, on files written by each format's own library; the poisoned
pickle is refused at every step that judges it and never run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelgate.core.cli.main import main
from modelgate.core.demo import format_models, torch_zip
from tests.core.formats import _writers


def _safetensors(path: Path, seed: int) -> Path:
    if seed == 1:
        format_models.write_llm_safetensors(path, seed=seed)
        return path
    return _writers.write_safetensors(path)


def _gguf(path: Path, seed: int) -> Path:
    if seed == 1:
        format_models.write_llm_gguf(path, seed=seed, name="flow", license_id="apache-2.0")
        return path
    return _writers.write_gguf(path, name="flow")


def _tflite(path: Path, seed: int) -> Path:
    if seed == 1:
        format_models.write_mobile_tflite(path, seed=seed, description="flow")
        return path
    return _writers.write_tflite(path)


def _shapes(seed: int) -> dict:
    return {"fc.weight": (3, 4), "fc.bias": (3,)} if seed == 1 else {"fc.weight": (5, 4), "fc.bias": (5,)}


def _torch(path: Path, seed: int) -> Path:
    path.write_bytes(_writers.torch_zip_bytes(shapes=_shapes(seed)))
    return path


def _poisoned(path: Path, seed: int) -> Path:
    torch_zip.write_poisoned_torch_zip(path, seed=seed, shapes=_shapes(seed))
    return path


#: (format, file name, writer, what the tensor diff of version 1 against version 2 says).
CASES = [("safetensors", "model.safetensors", _safetensors, "2 added, 21 removed"),
         ("gguf", "model.gguf", _gguf, "removed"),
         ("tflite", "model.tflite", _tflite, "added"),
         ("pytorch", "model.pt", _torch, "2 reshaped"),
         ("poisoned", "model.pt", _poisoned, "2 reshaped")]


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, out + err


SECTION = ("This paragraph stands for what the team writes about the model here, in enough words "
           "for the policy's minimum.")
CARD = "# flow\n\n" + "".join(f"## {title}\n\n{SECTION}\n\n" for title in (
    "Intended use", "Limitations", "Training data", "Evaluation", "Ethical considerations"))


def _bundle(tmp_path: Path, capsys, writer, file: str, version: str, seed: int) -> Path:
    model = writer(tmp_path / f"src-{seed}" / file, seed) if (tmp_path / f"src-{seed}").mkdir() is None else None
    folder = tmp_path / f"flow-{version}"
    code, said = run(capsys, "init", "flow", "--dir", folder, "--model", model)
    assert code == 0, said
    manifest = yaml.safe_load((folder / "bundle.yaml").read_text(encoding="utf-8"))
    manifest["version"] = version
    manifest["provenance"] = {"source": {"repository": "https://git.example.com/flow", "commit": "a" * 40}}
    (folder / "MODEL_CARD.md").write_text(CARD, encoding="utf-8")
    (folder / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    code, said = run(capsys, "lock", folder)
    assert code == 0, said
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "file", "writer", "diff"), CASES, ids=[c[0] for c in CASES])
def test_every_format_goes_through_the_whole_command_line(tmp_path, capsys, monkeypatch, kind, file, writer, diff):
    poisoned = kind == "poisoned"
    monkeypatch.chdir(tmp_path)                          # where the payload would leave its marker
    monkeypatch.setenv("NO_COLOR", "1")
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("MODELGATE_REGISTRY", url)
    first = _bundle(tmp_path, capsys, writer, file, "1.0.0", 1)
    second = _bundle(tmp_path, capsys, writer, file, "1.1.0", 2)

    code, said = run(capsys, "validate", first, "--stage", "draft")
    assert code == (1 if poisoned else 0), said
    assert ("MG223" in said) == poisoned
    code, said = run(capsys, "inspect", first)
    assert code == (1 if poisoned else 0), said
    assert "tensors" in said

    assert run(capsys, "registry", "init", "--user", "admin")[0] == 0
    for name, role in (("sam", "submitter"), ("ben", "reviewer"), ("chen", "approver")):
        assert run(capsys, "users", "add", name, "--role", role, "--user", "admin")[0] == 0
    for folder in (first, second):
        code, said = run(capsys, "registry", "import", folder, "--user", "sam")
        assert code == 0, said
    assert run(capsys, "review", "flow@1.0.0", "approve", "--comment", "checked", "--user", "ben")[0] == 0
    code, said = run(capsys, "promote", "flow@1.0.0", "--to", "candidate", "--user", "chen")
    assert code == (1 if poisoned else 0), said
    if poisoned:
        assert "stays where it is" in said and "MG223" in said

    code, said = run(capsys, "compare", "flow@1.0.0", "flow@1.1.0", "--user", "ben")
    assert code == 0, said
    tensors = said[said.index("\nTensors (artifacts in other formats"):said.index("\nFindings only one side has")]
    counted = next(line for line in tensors.splitlines() if line.lstrip().startswith("tensors "))
    assert diff in counted, tensors

    report = tmp_path / "report.html"
    code, said = run(capsys, "report", "flow@1.0.0", "--output", report, "--user", "ben")
    assert code == 0, said
    html = report.read_text(encoding="utf-8")
    assert "flow" in html and (("MG223" in html) == poisoned)
    assert not (tmp_path / torch_zip.PICKLE_MARKER).exists()
