"""Pickle checkpoints in every container form, written by the libraries and layouts that make them.

joblib files come from joblib itself (plain, or compressed with each codec it offers); the
torch.save forms (zip, legacy tar, legacy stream) follow torch's layouts with stand-ins for
its classes (tests/core/formats/_writers.py). :data:`MALICIOUS_FORMS` builds each form with a
payload that would create a marker file if anything ever unpickled it.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import joblib
import numpy as np

from modelgate.core.demo.torch_zip import torch_names as _torch_names
from tests.core.formats._writers import Payload, malicious_pickle, torch_zip_bytes


def arrays() -> dict:
    """Every kind of array joblib writes inline: numbers, text, objects, empty, Fortran order, 0-d."""
    return {"weight": np.arange(600, dtype=np.float64).reshape(20, 30), "ids": np.arange(7, dtype=np.int32),
            "names": np.array(["relu", "gelu"]), "mixed": np.array([1, "two", None], dtype=object),
            "empty": np.zeros((0, 4)), "fortran": np.asfortranarray(np.ones((3, 5), np.int16)),
            "flag": np.array(True), "half": np.ones(9, np.float16)}


def write_joblib(path: Path, obj, compression: str | None) -> Path:
    joblib.dump(obj, path, compress=(compression, 3) if compression else 0)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_legacy_tar(path: Path, *, hook: object | None = None) -> Path:
    """The legacy tar form: ``storages`` and ``tensors`` interleave argument pickles and raw bytes."""
    with _torch_names() as (storage_type, _rebuild):
        storages = [pickle.dumps(2, protocol=2)]
        for key, numel in (("0", 12), ("1", 3)):
            storages.append(pickle.dumps((key, "cpu", storage_type), protocol=2))
            storages.append(struct.pack("<q", numel) + np.arange(numel, dtype=np.float32).tobytes())
        tensors = [pickle.dumps(2, protocol=2)]
        for key, shape in (("0", (3, 4)), ("1", (3,))):
            tensors.append(pickle.dumps((key, key, storage_type), protocol=2))
            tensors.append(struct.pack("<ii", len(shape), 0) + struct.pack(f"<{len(shape)}q", *shape)
                           + struct.pack(f"<{len(shape)}q", *([1] * len(shape))) + struct.pack("<q", 0))
    if hook is not None:  # the second storage's arguments carry the payload
        storages[3] = pickle.dumps(("1", "cpu", hook), protocol=2)
    return write_tar(path, {"sys_info": pickle.dumps({"little_endian": True}, protocol=2),
                       "pickle": pickle.dumps({"fc.weight": 0}, protocol=2),
                       "storages": b"".join(storages), "tensors": b"".join(tensors)})


def legacy_stream(marker: Path) -> bytes:
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
            + malicious_pickle(marker, protocol=2) + b"\0" * 64)


MALICIOUS_FORMS = {
    "plain pickle": ("model.pkl", lambda marker, tmp: malicious_pickle(marker)),
    "legacy torch.save stream": ("model.pt", lambda marker, tmp: legacy_stream(marker)),
    "torch.save zip": ("model.pt", lambda marker, tmp: torch_zip_bytes(extra=Payload(marker))),
    "zip inside a zip": ("model.pt", lambda marker, tmp: zip_bytes({"inner.pt": torch_zip_bytes(extra=Payload(marker))})),
    "legacy torch.save tar": ("model.pt", lambda marker, tmp: write_tar(tmp / "t.tar", {
        "sys_info": pickle.dumps({}, protocol=2), "pickle": malicious_pickle(marker, protocol=2)}).read_bytes()),
    "joblib": ("model.joblib", lambda marker, tmp: write_joblib(tmp / "j.joblib", {**arrays(), "h": Payload(marker)},
                                                           None).read_bytes()),
    "joblib gzip": ("model.joblib", lambda marker, tmp: write_joblib(tmp / "j.joblib", {**arrays(), "h": Payload(marker)},
                                                                "gzip").read_bytes()),
    "legacy torch.save tar, storages": ("model.pt", lambda marker, tmp: write_legacy_tar(
        tmp / "l.tar", hook=Payload(marker)).read_bytes()),
    "joblib lz4": ("model.joblib", lambda marker, tmp: write_joblib(tmp / "j.joblib", {**arrays(), "h": Payload(marker)},
                                                               "lz4").read_bytes()),
}
