"""Champion against challenger tensor by tensor, for safetensors and GGUF artifacts."""

from __future__ import annotations

import numpy as np

from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.bundle.reader import open_bundle
from modelgate.core.formats.tensor_diff import diff_models
from tests.core.formats import _writers


def _bundle(tmp_path, name, tensors):
    return _writers.format_bundle(tmp_path / name, name="model.safetensors", fmt="safetensors",
                                  runtime="transformers",
                                  writer=lambda p: _writers.write_safetensors(p, tensors=tensors))


def _diff(root_a, root_b):
    with open_bundle(root_a) as a, open_bundle(root_b) as b:
        return diff_models(a=a, manifest_a=load_manifest(a).typed, b=b, manifest_b=load_manifest(b).typed)


def test_added_removed_reshaped_and_requantised_tensors_are_named(tmp_path):
    champion = _bundle(tmp_path, "a", {"keep": np.zeros(4, np.float32), "gone": np.zeros(2, np.float32),
                                       "grow": np.zeros((2, 2), np.float32), "quant": np.zeros(8, np.float32)})
    challenger = _bundle(tmp_path, "b", {"keep": np.zeros(4, np.float32), "new": np.zeros(3, np.float32),
                                         "grow": np.zeros((2, 3), np.float32), "quant": np.zeros(8, np.int8)})
    (diff,) = _diff(champion, challenger)
    assert [(c.name, c.change) for c in diff.changes] == [
        ("new", "added"), ("quant", "re-quantised"), ("gone", "removed"), ("grow", "reshaped")]
    assert diff.parameters == (18, 21)
    assert dict(diff.counts) == {"added": 1, "re-quantised": 1, "removed": 1, "reshaped": 1}
    assert diff.changes[1].describe() == "quant re-quantised: float32[8] -> int8[8]"


def test_identical_models_have_no_changes_and_an_unreadable_side_is_a_problem(tmp_path):
    tensors = {"w": np.ones((2, 2), np.float16)}
    (same,) = _diff(_bundle(tmp_path, "a", tensors), _bundle(tmp_path, "b", tensors))
    assert same.changes == () and same.parameters == (4, 4) and same.problem is None
    broken = _bundle(tmp_path, "c", tensors)
    (broken / "model" / "model.safetensors").write_bytes(b"\xff" * 16)
    (diff,) = _diff(_bundle(tmp_path, "d", tensors), broken)
    assert diff.problem is not None and diff.changes == ()
