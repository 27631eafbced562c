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


def _gguf_bundle(tmp_path, name, *, quantised: bool):
    from modelgate.core.demo.format_models import write_llm_gguf

    def writer(path):
        if quantised:
            write_llm_gguf(path, seed=1, name="flow", license_id="apache-2.0")
        else:
            _writers.write_gguf(path, name="flow")
    return _writers.format_bundle(tmp_path / name, name="model.gguf", fmt="gguf", runtime="llama.cpp",
                                  variant="q8_0" if quantised else "f16", writer=writer)


def test_a_release_that_requantised_its_one_model_is_compared_across_variants(tmp_path):
    (diff,) = _diff(_gguf_bundle(tmp_path, "a", quantised=False), _gguf_bundle(tmp_path, "b", quantised=True))
    assert diff.variant == "f16 → q8_0" and diff.problem is None
    assert diff.path_a == diff.path_b == "model/model.gguf"
    assert ("token_embd.weight", "reshaped") in [(c.name, c.change) for c in diff.changes]
    # Files in different formats are not paired: each stays on its own side.
    other = _bundle(tmp_path, "c", {"w": np.ones(2, np.float32)})
    diffs = _diff(_gguf_bundle(tmp_path, "d", quantised=True), other)
    assert sorted(d.variant for d in diffs) == ["fp32", "q8_0"] and all(d.changes == () for d in diffs)
