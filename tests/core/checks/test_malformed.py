"""Any manifest value of the wrong type is one MG103 finding: no check and no command crashes."""

from __future__ import annotations

import shutil

import pytest

from modelgate.core.cli.main import main
from tests.factory import edit_manifest, validate

WRONG = [5, "x", [], {}, [1, "a"], None, True]
KEYS = ["artifacts", "interface", "targets", "benchmarks", "provenance", "owners", "license_files",
        "files", "tags", "lifecycle", "dependencies", "observability", "license", "name", "version"]
NESTED = [
    ("artifacts", [5]), ("artifacts", [{"path": ["a"], "format": "onnx", "variant": "fp32"}]),
    ("interface", {"inputs": 5, "outputs": [7]}),
    ("interface", {"inputs": [{"name": "features", "dtype": "float32", "shape": "batch"}], "outputs": []}),
    ("targets", [{"name": "t", "runtime": "onnxruntime", "artifact": 5, "memory_mb": "x"}]),
    ("provenance", {"source": 5, "datasets": [5, {"name": 1}], "framework": "numpy", "seed": "x"}),
    ("lifecycle", {"deprecation": {"after": 20260101, "replacement": 5}}),
    ("owners", [{"name": 5}]),
]


#: Each key with one wrong value is quick; the whole sweep (over a hundred validations) is slow.
CASES = [(k, WRONG[0]) for k in KEYS] + [pytest.param(k, v, marks=pytest.mark.slow)
                                         for k, v in [(k, v) for k in KEYS for v in WRONG[1:]] + NESTED]


@pytest.mark.slow
@pytest.mark.parametrize("key, value", CASES)
def test_a_wrongly_typed_value_is_reported_not_crashed_on(template, tmp_path, capsys, key, value):
    root = shutil.copytree(template, tmp_path / "b")
    edit_manifest(root, lambda data: data.__setitem__(key, value))
    report = validate(root, stage="staging")
    assert not [f.message for f in report.findings if f.rule == "MG100"]
    if not isinstance(value, str) and value not in ([], {}):  # empty ones may be valid
        assert "MG103" in {f.rule for f in report.findings}
    assert main(["inspect", str(root)]) in (0, 1, 2)
    assert main(["inspect", str(root), "--json"]) in (0, 1, 2)
    assert "internal error" not in capsys.readouterr().err
