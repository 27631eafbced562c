"""Inputs of the wrong type or beyond a parser's limits get a finding or a clear error.

Each case was once an internal error (exit 2 with a Python exception name) or an
MG100 "check crashed" finding. The CLI runs with MODELGATE_DEBUG set, so an
internal error re-raises here and fails the test.
"""

from __future__ import annotations

import pytest

from modelgate.core.bundle import safeyaml
from tests.attacks._input_types_support import bundle_with_text, entry, results_text, run

HUGE_INT = "9" * 5000

YAML_VALUES = {
    "huge integer": HUGE_INT,
    "hex without digits": "0x_",
    "binary without digits": "0b_",
    "self-referential alias": "&r [*r]",
}


@pytest.mark.parametrize("value", YAML_VALUES.values(), ids=YAML_VALUES.keys())
@pytest.mark.parametrize("command", ["validate", "inspect", "lock"])
def test_hostile_yaml_scalar_in_the_manifest(tmp_path, capsys, monkeypatch, command, value):
    root = bundle_with_text(tmp_path / "b", replace=("seed: 1234", f"seed: {value}"))
    code, out, err = run([command, str(root)], capsys, monkeypatch)
    assert code in (1, 2)
    assert "MG102" in out + err
    assert "line" in (out + err) or "bundle.yaml:" in out + err


@pytest.mark.parametrize("value", YAML_VALUES.values(), ids=YAML_VALUES.keys())
def test_hostile_yaml_scalar_in_a_policy(tmp_path, capsys, monkeypatch, value):
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"policy_format: modelgate.policy/v1\nname: {value}\n", encoding="utf-8")
    code, _, err = run(["policy", "check", str(policy)], capsys, monkeypatch)
    assert code == 2
    assert "line 2" in err


@pytest.mark.parametrize("value", YAML_VALUES.values(), ids=YAML_VALUES.keys())
def test_hostile_yaml_scalar_in_card_front_matter(tmp_path, capsys, monkeypatch, value):
    root = bundle_with_text(tmp_path / "b")
    card = root / "MODEL_CARD.md"
    card.write_text(card.read_text(encoding="utf-8").replace("version: 1.0.0", f"version: {value}"),
                    encoding="utf-8")
    code, out, _ = run(["validate", str(root)], capsys, monkeypatch)
    assert code == 1
    assert "MODEL_CARD.md" in out


@pytest.mark.parametrize("value", [HUGE_INT, "-" + HUGE_INT, "1" + "0" * 5000 + ".5", "1e" + HUGE_INT])
def test_a_huge_number_in_benchmark_results(tmp_path, capsys, monkeypatch, value):
    root = bundle_with_text(tmp_path / "b", results_text=results_text([entry(value)]))
    code, out, _ = run(["validate", str(root), "--stage", "draft"], capsys, monkeypatch)
    assert code == 1
    assert "MG601" in out and "digits" in out


@pytest.mark.parametrize("files", ["{1: a, '1': b}", "{null: a, x: b}", "{[1]: a}", "{true: a, 2: b}"])
@pytest.mark.parametrize("command", ["validate", "lock"])
def test_files_with_keys_of_mixed_types(tmp_path, capsys, monkeypatch, command, files):
    root = bundle_with_text(tmp_path / "b")
    text = (root / "bundle.yaml").read_text(encoding="utf-8")
    head = text[: text.index("\nfiles:")]
    (root / "bundle.yaml").write_text(head + f"\nfiles: {files}\n", encoding="utf-8")
    code, out, err = run([command, str(root)], capsys, monkeypatch)
    if command == "lock" and "MG102" not in err:
        # lock's job is to write `files`: the malformed map is replaced by the digests.
        from modelgate.core.bundle import safeyaml
        written = safeyaml.load((root / "bundle.yaml").read_text(encoding="utf-8"))
        assert code == 0 and written["files"] and all(isinstance(k, str) for k in written["files"])
        return
    assert code in (1, 2)
    assert "files" in out + err or "MG102" in out + err


VARIANTS = {"missing": "", "list": "  variant: [a, b]\n", "mapping": "  variant: {a: 1}\n",
            "number": "  variant: 8\n"}


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_artifact_variant_of_the_wrong_type(tmp_path, capsys, monkeypatch, command, variant):
    root = bundle_with_text(tmp_path / "b", replace=("  variant: fp32\n", variant))
    code, out, err = run([command, str(root)], capsys, monkeypatch)
    if command == "validate":
        assert code == 1 and "MG103" in out and "variant" in out
    else:
        assert code in (0, 1) and "model/model.onnx" in out


@pytest.mark.parametrize("field,value", [
    ("sha256", "12345"), ("sha256", "[1, 2]"), ("size", "big"), ("path", "7"), ("format", "{a: 1}")])
@pytest.mark.parametrize("command", ["validate", "inspect", "lock"])
def test_artifact_fields_of_the_wrong_type(tmp_path, capsys, monkeypatch, command, field, value):
    root = bundle_with_text(tmp_path / "b")
    manifest = root / "bundle.yaml"
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("artifacts:\n")
    at = next(i for i in range(start, len(lines)) if lines[i].lstrip(" -").startswith(f"{field}:"))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip(" -"))]
    lines[at] = f"{indent}{field}: {value}\n"
    manifest.write_text("".join(lines), encoding="utf-8")
    code, out, err = run([command, str(root)], capsys, monkeypatch)
    assert code in (0, 1, 2)
    if command == "validate":
        assert code == 1 and "MG103" in out and f"artifacts[0].{field}" in out


@pytest.mark.parametrize("shape", ["5", "batch", "{a: 1}", "[[1]]", "[1.5]", "[true]", "null"])
@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_interface_shape_of_the_wrong_type(tmp_path, capsys, monkeypatch, command, shape):
    root = bundle_with_text(tmp_path / "b", replace=(
        "    shape:\n    - batch\n    - 4\n", f"    shape: {shape}\n"))
    code, out, err = run([command, str(root)], capsys, monkeypatch)
    if command == "validate":
        assert code == 1 and "MG103" in out and "interface.inputs[0].shape" in out
    else:
        assert code in (0, 1) and "features" in out


def _model_with_a_non_utf8_name(path):
    from tests.factory import tiny_model

    tiny_model(path)
    data = path.read_bytes()
    # Same length, so every length prefix in the protobuf stays right; the name is
    # replaced wherever it occurs (graph input and the node that reads it).
    path.write_bytes(data.replace(b"features", b"fe\xffture\xfe"))


def test_onnx_names_that_are_not_utf8(tmp_path, capsys, monkeypatch):
    from modelgate.core.bundle.lock import lock_bundle
    from tests.factory import make_bundle

    root = make_bundle(tmp_path / "b", model=_model_with_a_non_utf8_name, lock=False)
    lock_bundle(root)
    code, out, err = run(["validate", str(root), "--stage", "draft"], capsys, monkeypatch)
    assert code == 1
    assert "UTF-8" in out
    code, out, err = run(["inspect", str(root)], capsys, monkeypatch)
    assert code in (0, 1)


def test_yaml_problems_are_our_error_class():
    for value in YAML_VALUES.values():
        with pytest.raises(safeyaml.YamlProblem) as caught:
            safeyaml.load(f"a: 1\nb: {value}\n")
        assert caught.value.line == 2
