"""Hostile pickle containers: joblib files (plain and compressed), zip bombs, nested archives, tars.

Every payload would create a marker file if anything unpickled it; each test checks it never
appears. joblib files are written by joblib itself, in every compression it offers.
"""

from __future__ import annotations

import io
import lzma
import pickle
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from modelgate.core.cli.main import main
from modelgate.core.formats import registry
from modelgate.core.formats.pickle import compressed, scan
from modelgate.core.formats.rules import PICKLE_LIMIT, UNSAFE_IMPORT
from tests.core.formats._containers import (MALICIOUS_FORMS, arrays, write_joblib, write_legacy_tar, write_tar,
                                            zip_bytes)
from tests.core.formats._writers import Payload, format_bundle, malicious_pickle, torch_zip_bytes
from tests.factory import rules_of, validate

PICKLE = registry.by_name("pytorch")
COMPRESSIONS = [None, "zlib", "gzip", "bz2", "xz", "lzma", "lz4"]


def _read(path: Path):
    return PICKLE.read(path=path, label=path.name)


def _rules(facts) -> list[str]:
    return [f.rule for f in facts.findings]


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_an_honest_joblib_file_is_clean_in_every_compression(tmp_path, compression):
    path = write_joblib(tmp_path / "model.joblib", arrays(), compression)
    assert registry.detect(path) is PICKLE
    facts = _read(path)
    assert facts.findings == ()
    assert facts.meta("form") == ("compressed" if compression else "pickle")
    assert facts.meta("joblib arrays") == "8 stepped over, not read"


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_payload_after_joblib_arrays_is_found_in_every_compression(tmp_path, marker, compression):
    """The payload sits after raw array bytes: only a walk that steps over them reaches it."""
    path = write_joblib(tmp_path / "model.joblib", {**arrays(), "hook": Payload(marker)}, compression)
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


def test_a_pickle_hidden_in_a_member_not_named_pkl_is_found(tmp_path, marker):
    honest = zipfile.ZipFile(io.BytesIO(torch_zip_bytes()))
    members = {name: honest.read(name) for name in honest.namelist()}
    members["archive/extra/hook.bin"] = malicious_pickle(marker)
    path = tmp_path / "model.pt"
    path.write_bytes(zip_bytes(members))
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


def test_a_pickle_in_a_storage_member_is_found(tmp_path, marker):
    honest = zipfile.ZipFile(io.BytesIO(torch_zip_bytes()))
    members = {name: honest.read(name) for name in honest.namelist()}
    members["archive/data/1"] = malicious_pickle(marker)
    path = tmp_path / "model.pt"
    path.write_bytes(zip_bytes(members))
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


def test_storage_bytes_that_merely_open_like_a_pickle_are_data(tmp_path):
    honest = zipfile.ZipFile(io.BytesIO(torch_zip_bytes()))
    members = {name: honest.read(name) for name in honest.namelist()}
    members["archive/data/0"] = b"\x80\x02" + bytes(range(256)) * 4
    path = tmp_path / "model.pt"
    path.write_bytes(zip_bytes(members))
    assert _read(path).findings == ()


def test_a_payload_in_a_checkpoint_zipped_inside_a_zip_is_found(tmp_path, marker):
    path = tmp_path / "model.pt"
    path.write_bytes(zip_bytes({"outer/model.pt": torch_zip_bytes(extra=Payload(marker))}))
    facts = _read(path)
    assert _rules(facts) == [UNSAFE_IMPORT.id]
    assert "outer/model.pt!archive/data.pkl" in facts.meta("pickle streams")


def test_archives_nested_too_deep_are_a_limit(tmp_path):
    data = torch_zip_bytes()
    for depth in range(scan.MAX_ARCHIVE_DEPTH + 1):
        data = zip_bytes({f"level{depth}.zip": data})
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    facts = _read(path)
    assert PICKLE_LIMIT.id in _rules(facts) and "nested more than" in " ".join(f.message for f in facts.findings)


def test_a_payload_in_any_member_of_the_legacy_tar_is_found(tmp_path, marker):
    path = write_tar(tmp_path / "model.pt", {"sys_info": pickle.dumps({"little_endian": True}, protocol=2),
                                        "pickle": pickle.dumps({"w": 1}, protocol=2),
                                        "extra": malicious_pickle(marker, protocol=2)})
    assert registry.detect(path) is PICKLE
    assert _rules(_read(path)) == [UNSAFE_IMPORT.id]


def test_a_tar_with_too_many_members_is_a_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "MAX_MEMBERS", 20)
    members = {"pickle": pickle.dumps({"w": 1}, protocol=2)} | {f"m{i}": b"" for i in range(25)}
    path = write_tar(tmp_path / "model.pt", members)
    facts = _read(path)
    assert _rules(facts) == [PICKLE_LIMIT.id] and "more than 20 members" in facts.findings[0].message


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(MALICIOUS_FORMS))
def test_validate_inspect_import_and_promote_refuse_every_container_form_unopened(tmp_path, marker, form, capsys,
                                                                          monkeypatch):
    name, build = MALICIOUS_FORMS[form]
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


def test_the_legacy_tar_storages_and_tensors_are_read_through(tmp_path):
    facts = _read(write_legacy_tar(tmp_path / "model.pt"))
    assert facts.findings == ()
    assert [(t.dtype, t.shape) for t in facts.tensors] == [("float32", (12,)), ("float32", (3,))]


def test_a_payload_among_the_legacy_storages_is_found(tmp_path, marker):
    """The payload follows raw storage bytes: only a walk that steps over them reaches it."""
    facts = _read(write_legacy_tar(tmp_path / "model.pt", hook=Payload(marker)))
    assert UNSAFE_IMPORT.id in _rules(facts)


@pytest.mark.parametrize("damage", ["method", "crc", "inner"])
def test_a_member_that_cannot_be_read_is_a_finding_and_the_rest_is_scanned(tmp_path, marker, damage):
    members = {"archive/data.pkl": malicious_pickle(marker, protocol=2), "archive/extra.pkl": pickle.dumps([1] * 300)}
    if damage == "inner":
        members["archive/inner.zip"] = b"PK\x03\x04" + bytes(64)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray(out.getvalue())
    second = data.find(b"PK\x03\x04", 4)   # the local header of archive/extra.pkl
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    if damage == "method":                   # Deflate64, which zipfile cannot inflate
        struct.pack_into("<H", data, second + 8, 9)
        struct.pack_into("<H", data, central + 10, 9)
    elif damage == "crc":
        struct.pack_into("<I", data, second + 14, 0)
        struct.pack_into("<I", data, central + 16, 0)
    path = tmp_path / "model.pt"
    path.write_bytes(bytes(data))
    facts = _read(path)
    assert UNSAFE_IMPORT.id in _rules(facts) and PICKLE_LIMIT.id in _rules(facts)
    assert "cannot be read" in " ".join(f.message for f in facts.findings)


def test_a_central_directory_that_points_before_the_file_is_a_finding(tmp_path):
    """An end record whose directory offset is too large puts the first members before byte 0."""
    data = bytearray(torch_zip_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 16, struct.unpack_from("<I", data, end + 16)[0] + 10_000)
    path = tmp_path / "model.pt"
    path.write_bytes(bytes(data))
    facts = _read(path)
    assert PICKLE_LIMIT.id in _rules(facts) and "cannot be read" in facts.findings[0].message
