"""PyTorch and pickle: storages listed from the archive without unpickling anything."""

from __future__ import annotations

from pathlib import Path
from modelgate.core.formats import registry
from tests.core.formats import _writers


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_torch_zip_lists_its_storages_without_unpickling(tmp_path):
    path = _write(tmp_path / "m.pt", _writers.torch_zip_bytes(shapes={"w": (3, 4), "b": (3,)}))
    facts = registry.by_name("pytorch").read(path=path, label="m.pt")
    assert [(t.dtype, t.shape, t.nbytes) for t in facts.tensors] == [("float32", (12,), 48), ("float32", (3,), 12)]
    assert set(facts.imports) == {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage"}
    assert facts.findings == ()
