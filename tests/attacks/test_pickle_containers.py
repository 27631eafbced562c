"""Hostile pickle containers: joblib files (plain and compressed), zip bombs, nested archives, tars.

Every payload would create a marker file if anything unpickled it; each test checks it never
appears. joblib files are written by joblib itself, in every compression it offers.
"""

from __future__ import annotations

import io
import lzma
import pickle
import struct
import tarfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import joblib
import numpy as np
import pytest

from modelgate.core.cli.main import main
from modelgate.core.formats import registry
from modelgate.core.formats.pickle import compressed, scan
from modelgate.core.formats.rules import PICKLE_LIMIT, UNSAFE_IMPORT
from tests.core.formats._writers import Payload, format_bundle, malicious_pickle, torch_zip_bytes
from tests.factory import rules_of, validate

PICKLE = registry.by_name("pytorch")
COMPRESSIONS = [None, "zlib", "gzip", "bz2", "xz", "lzma", "lz4"]


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "payload-ran"
    yield path
    assert not path.exists(), "a pickle payload ran"


def _read(path: Path):
    return PICKLE.read(path=path, label=path.name)


def _rules(facts) -> list[str]:
    return [f.rule for f in facts.findings]


def _arrays() -> dict:
    """Every kind of array joblib writes inline: numbers, text, objects, empty, Fortran order, 0-d."""
    return {"weight": np.arange(600, dtype=np.float64).reshape(20, 30), "ids": np.arange(7, dtype=np.int32),
            "names": np.array(["relu", "gelu"]), "mixed": np.array([1, "two", None], dtype=object),
            "empty": np.zeros((0, 4)), "fortran": np.asfortranarray(np.ones((3, 5), np.int16)),
            "flag": np.array(True), "half": np.ones(9, np.float16)}


def _joblib(path: Path, obj, compression: str | None) -> Path:
    joblib.dump(obj, path, compress=(compression, 3) if compression else 0)
    return path


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_an_honest_joblib_file_is_clean_in_every_compression(tmp_path, compression):
    path = _joblib(tmp_path / "model.joblib", _arrays(), compression)
    assert registry.detect(path) is PICKLE
    facts = _read(path)
    assert facts.findings == ()
    assert facts.meta("form") == ("compressed" if compression else "pickle")
    assert facts.meta("joblib arrays") == "8 stepped over, not read"


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_payload_after_joblib_arrays_is_found_in_every_compression(tmp_path, marker, compression):
    """The payload sits after raw array bytes: only a walk that steps over them reaches it."""
    path = _joblib(tmp_path / "model.joblib", {**_arrays(), "hook": Payload(marker)}, compression)
    facts = _read(path)
    assert _rules(facts) == [UNSAFE_IMPORT.id]
    assert "system" in facts.findings[0].message


def test_the_zlib_file_of_joblib_before_0_10_is_scanned(tmp_path, marker):
    """joblib < 0.10 wrote "ZF", the length in hex padded to 19 characters, then a zlib stream."""
    data = malicious_pickle(marker, protocol=2)
    path = tmp_path / "model.pkl"
    path.write_bytes(b"ZF" + f"{len(data):#x}".ljust(19).encode() + zlib.compress(data))
    assert registry.detect(path) is PICKLE
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


@pytest.mark.slow
def test_a_compression_bomb_stops_at_its_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(compressed, "INFLATE_FLOOR", 1024 * 1024)
    body = b"\x80\x04\x8e" + struct.pack("<Q", 16 * 1024 * 1024) + bytes(16 * 1024 * 1024) + b"."
    path = tmp_path / "model.joblib"
    path.write_bytes(lzma.compress(body, format=lzma.FORMAT_XZ, preset=0))
    assert path.stat().st_size < 64 * 1024
    started = time.perf_counter()
    facts = _read(path)
    assert time.perf_counter() - started < 5
    assert _rules(facts) == [PICKLE_LIMIT.id] and "compression bomb" in facts.findings[0].message


def test_a_corrupt_compressed_stream_is_a_finding(tmp_path):
    data = zlib.compress(pickle.dumps({"w": [1.0] * 1000}, protocol=4))
    path = tmp_path / "model.joblib"
    path.write_bytes(data[:40] + b"\xff" * 40 + data[80:])
    assert _rules(_read(path)) == [PICKLE_LIMIT.id]


@pytest.mark.slow
def test_tens_of_thousands_of_members_are_refused_before_they_are_listed(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
        for index in range(scan.MAX_MEMBERS + 1):
            archive.writestr(f"archive/data/{index}", b"")
    tracemalloc.start()
    try:
        assert registry.detect(path) is PICKLE
        facts = _read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _rules(facts) == [PICKLE_LIMIT.id] and "members" in facts.findings[0].message
    assert peak < 4 * 1024 * 1024  # zipfile's list of 16,385 entries alone would take more


def test_a_huge_declared_total_is_refused_before_anything_is_inflated(tmp_path):
    """Each member claims 15 MiB (under the per-member floor); together they claim 750 MiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
        for index in range(50):
            archive.writestr(f"archive/data/{index}", bytes(1024))
    data = bytearray(out.getvalue())
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # the central directory's uncompressed size of each entry
        struct.pack_into("<I", data, at + 24, 15 * 1024 * 1024)
        at = data.find(b"PK\x01\x02", at + 4)
    path = tmp_path / "model.pt"
    path.write_bytes(bytes(data))
    facts = _read(path)
    assert _rules(facts) == [PICKLE_LIMIT.id] and "uncompressed" in facts.findings[0].message


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_pickle_hidden_in_a_member_not_named_pkl_is_found(tmp_path, marker):
    honest = zipfile.ZipFile(io.BytesIO(torch_zip_bytes()))
    members = {name: honest.read(name) for name in honest.namelist()}
    members["archive/extra/hook.bin"] = malicious_pickle(marker)
    path = tmp_path / "model.pt"
    path.write_bytes(_zip(members))
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


def test_a_pickle_in_a_storage_member_is_found(tmp_path, marker):
    honest = zipfile.ZipFile(io.BytesIO(torch_zip_bytes()))
    members = {name: honest.read(name) for name in honest.namelist()}
    members["archive/data/1"] = malicious_pickle(marker)
    path = tmp_path / "model.pt"
    path.write_bytes(_zip(members))
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


def test_storage_bytes_that_merely_open_like_a_pickle_are_data(tmp_path):
    honest = zipfile.ZipFile(io.BytesIO(torch_zip_bytes()))
    members = {name: honest.read(name) for name in honest.namelist()}
    members["archive/data/0"] = b"\x80\x02" + bytes(range(256)) * 4
    path = tmp_path / "model.pt"
    path.write_bytes(_zip(members))
    assert _read(path).findings == ()


def test_a_payload_in_a_checkpoint_zipped_inside_a_zip_is_found(tmp_path, marker):
    path = tmp_path / "model.pt"
    path.write_bytes(_zip({"outer/model.pt": torch_zip_bytes(extra=Payload(marker))}))
    facts = _read(path)
    assert _rules(facts) == [UNSAFE_IMPORT.id]
    assert "outer/model.pt!archive/data.pkl" in facts.meta("pickle streams")


def test_archives_nested_too_deep_are_a_limit(tmp_path):
    data = torch_zip_bytes()
    for depth in range(scan.MAX_ARCHIVE_DEPTH + 1):
        data = _zip({f"level{depth}.zip": data})
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    facts = _read(path)
    assert PICKLE_LIMIT.id in _rules(facts) and "nested more than" in " ".join(f.message for f in facts.findings)


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_payload_in_any_member_of_the_legacy_tar_is_found(tmp_path, marker):
    path = _tar(tmp_path / "model.pt", {"sys_info": pickle.dumps({"little_endian": True}, protocol=2),
                                        "pickle": pickle.dumps({"w": 1}, protocol=2),
                                        "extra": malicious_pickle(marker, protocol=2)})
    assert registry.detect(path) is PICKLE
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


def test_a_tar_with_too_many_members_is_a_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "MAX_MEMBERS", 20)
    members = {"pickle": pickle.dumps({"w": 1}, protocol=2)} | {f"m{i}": b"" for i in range(25)}
    path = _tar(tmp_path / "model.pt", members)
    facts = _read(path)
    assert _rules(facts) == [PICKLE_LIMIT.id] and "more than 20 members" in facts.findings[0].message


def _legacy_stream(marker: Path) -> bytes:
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
            + malicious_pickle(marker, protocol=2) + b"\0" * 64)


_FORMS = {
    "plain pickle": ("model.pkl", lambda marker, tmp: malicious_pickle(marker)),
    "legacy torch.save stream": ("model.pt", lambda marker, tmp: _legacy_stream(marker)),
    "torch.save zip": ("model.pt", lambda marker, tmp: torch_zip_bytes(extra=Payload(marker))),
    "zip inside a zip": ("model.pt", lambda marker, tmp: _zip({"inner.pt": torch_zip_bytes(extra=Payload(marker))})),
    "legacy torch.save tar": ("model.pt", lambda marker, tmp: _tar(tmp / "t.tar", {
        "sys_info": pickle.dumps({}, protocol=2), "pickle": malicious_pickle(marker, protocol=2)}).read_bytes()),
    "joblib": ("model.joblib", lambda marker, tmp: _joblib(tmp / "j.joblib", {**_arrays(), "h": Payload(marker)},
                                                           None).read_bytes()),
    "joblib gzip": ("model.joblib", lambda marker, tmp: _joblib(tmp / "j.joblib", {**_arrays(), "h": Payload(marker)},
                                                                "gzip").read_bytes()),
    "joblib lz4": ("model.joblib", lambda marker, tmp: _joblib(tmp / "j.joblib", {**_arrays(), "h": Payload(marker)},
                                                               "lz4").read_bytes()),
}


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(_FORMS))
def test_validate_inspect_import_and_promote_refuse_every_container_form_unopened(tmp_path, marker, form, capsys,
                                                                          monkeypatch):
    name, build = _FORMS[form]
    root = format_bundle(tmp_path / "b", name=name, data=build(marker, tmp_path), fmt="pytorch",
                         runtime="transformers")
    assert UNSAFE_IMPORT.id in rules_of(validate(root, stage="draft"), "error")
    assert main(["inspect", str(root)]) == 1
    assert "system" in capsys.readouterr().out
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path / 'registry.db'}")
    assert main(["--user", "admin", "registry", "init"]) == 0
    assert main(["--user", "admin", "users", "add", "ana", "--role", "submitter", "--role", "approver"]) == 0
    capsys.readouterr()
    code = main(["--user", "ana", "registry", "import", str(root)])
    out, err = capsys.readouterr()
    assert code in (0, 1) and "Traceback" not in err, err
    # Promotion validates the stored copy: the gate names the import and the file stays unopened.
    assert main(["--user", "ana", "promote", "tiny-classifier@1.0.0", "--to", "candidate"]) == 1
    assert f"{UNSAFE_IMPORT.id} model/{name}" in capsys.readouterr().out


def _legacy_tar(path: Path, *, hook: object | None = None) -> Path:
    """The legacy tar form: ``storages`` and ``tensors`` interleave argument pickles and raw bytes."""
    from tests.core.formats._writers import _torch_names

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
    return _tar(path, {"sys_info": pickle.dumps({"little_endian": True}, protocol=2),
                       "pickle": pickle.dumps({"fc.weight": 0}, protocol=2),
                       "storages": b"".join(storages), "tensors": b"".join(tensors)})


def test_the_legacy_tar_storages_and_tensors_are_read_through(tmp_path):
    facts = _read(_legacy_tar(tmp_path / "model.pt"))
    assert facts.findings == ()
    assert [(t.dtype, t.shape) for t in facts.tensors] == [("float32", (12,)), ("float32", (3,))]


def test_a_payload_among_the_legacy_storages_is_found(tmp_path, marker):
    """The payload follows raw storage bytes: only a walk that steps over them reaches it."""
    facts = _read(_legacy_tar(tmp_path / "model.pt", hook=Payload(marker)))
    assert UNSAFE_IMPORT.id in _rules(facts)
