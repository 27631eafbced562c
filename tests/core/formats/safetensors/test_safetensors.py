"""safetensors: the tensors a file saved, read from its header; a sharded checkpoint as one artifact."""

from __future__ import annotations

import pytest

from modelgate.core.formats import registry
from modelgate.core.formats.rules import SHARDS
from tests.core.formats import _writers


def test_safetensors_facts_are_the_saved_tensors(tmp_path):
    path = _writers.write_safetensors(tmp_path / "m.safetensors", metadata={"format": "pt", "source": "tests"})
    facts = registry.by_name("safetensors").read(path=path, label="model/m.safetensors")
    shown = {t.name: (t.dtype, t.shape, t.nbytes) for t in facts.tensors}
    assert shown == {"embed.weight": ("float32", (8, 4), 128), "head.bias": ("float16", (3,), 6)}
    assert facts.meta("source") == "tests" and facts.parameter_count == 35
    assert facts.inputs is None and facts.findings == ()


def test_a_sharded_checkpoint_reads_as_one_artifact(tmp_path):
    index = _writers.write_shards(tmp_path)
    fmt = registry.detect(index)
    facts = fmt.read(path=index, label="model/model.safetensors.index.json")
    assert fmt.names == ("safetensors",)
    assert {t.name for t in facts.tensors} == {"a", "b"} and facts.findings == ()
    assert facts.files == ("model/model.safetensors.index.json", "model/model-00001-of-00002.safetensors",
                           "model/model-00002-of-00002.safetensors")


@pytest.mark.parametrize("problem", ["misplace", "drop"])
def test_an_inconsistent_shard_index_is_mg228(tmp_path, problem):
    index = _writers.write_shards(tmp_path, **{problem: True})
    facts = registry.by_name("safetensors").read(path=index, label="model/index")
    assert [f.rule for f in facts.findings] == [SHARDS.id]
