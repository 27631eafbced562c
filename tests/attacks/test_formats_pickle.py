"""Hostile pickles are caught by reading their opcodes; their payload never runs.

Every payload here would create a marker file if anything unpickled it. The tests read
the files through the format, the whole validation, ``modelgate inspect`` and
``modelgate init --model``, and then check the marker is still absent.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import runpy
import struct
import subprocess
import tarfile
import time
import tracemalloc
import webbrowser
import zipfile
from pathlib import Path

import pytest

from modelgate.core.cli.main import main
from modelgate.core.formats import registry
from modelgate.core.formats.rules import FORMAT_MISMATCH, PICKLE_LIMIT, UNSAFE_IMPORT
from tests.core.formats._writers import Payload, format_bundle, malicious_pickle, torch_zip_bytes
from tests.factory import rules_of, validate

PICKLE = registry.by_name("pytorch")


def _read(path: Path):
    return PICKLE.read(path=path, label=path.name)


def _rules(facts) -> list[str]:
    return [f.rule for f in facts.findings]


@pytest.mark.parametrize("protocol", range(0, 6))
def test_os_system_is_named_in_every_protocol(tmp_path, marker, protocol):
    path = tmp_path / "model.pkl"
    path.write_bytes(malicious_pickle(marker, protocol=protocol))
    facts = _read(path)
    unsafe = [f.message for f in facts.findings if f.rule == UNSAFE_IMPORT.id]
    assert len(unsafe) == 1 and f"{os.system.__module__}.system" in unsafe[0]


@pytest.mark.parametrize("call, name", [
    (builtins.exec, "builtins.exec"), (subprocess.Popen, "subprocess.Popen"),
    (runpy.run_path, "runpy.run_path"), (webbrowser.open, "webbrowser.open"),
    (builtins.eval, "builtins.eval"),
])
def test_each_code_running_callable_is_an_error_naming_it(tmp_path, marker, call, name):
    path = tmp_path / "model.pkl"
    path.write_bytes(malicious_pickle(marker, call=call))
    assert [f.message for f in _read(path).findings if f.rule == UNSAFE_IMPORT.id] == [
        f"model.pkl imports {name}: loading the file would run it"]


def test_a_payload_inside_a_torch_zip_is_found(tmp_path, marker):
    path = tmp_path / "model.pt"
    path.write_bytes(torch_zip_bytes(extra=Payload(marker)))
    facts = _read(path)
    assert _rules(facts) == [UNSAFE_IMPORT.id]
    assert len(facts.tensors) == 2  # the storages are still described


def test_a_payload_in_the_legacy_tar_form_is_found(tmp_path, marker):
    path = tmp_path / "model.pt"
    with tarfile.open(path, "w") as archive:
        for name, data in (("sys_info", pickle.dumps({"little_endian": True})),
                           ("pickle", malicious_pickle(marker, protocol=2))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    assert registry.detect(path) is PICKLE
    assert UNSAFE_IMPORT.id in _rules(_read(path))


def test_a_payload_after_a_harmless_first_pickle_is_found(tmp_path, marker):
    """Legacy torch.save writes several pickles in a row; the payload may hide in any."""
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
                     + malicious_pickle(marker, protocol=2) + b"\0" * 64)
    assert UNSAFE_IMPORT.id in _rules(_read(path))


def test_an_import_that_cannot_be_resolved_statically_is_an_error(tmp_path):
    # STACK_GLOBAL whose module name is computed by a call: nothing static names it.
    body = (b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
            b"\x8c\x08builtins\x8c\x03str\x93\x8c\x02os\x85R"   # builtins.str("os")
            b"\x8c\x06system\x93.")
    path = tmp_path / "model.pkl"
    path.write_bytes(body)
    messages = [f.message for f in _read(path).findings if f.rule == UNSAFE_IMPORT.id]
    assert any("<unresolved STACK_GLOBAL>" in m for m in messages)


def test_a_huge_claimed_string_allocates_nothing(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\x8d" + struct.pack("<Q", 1 << 30) + b"x" * 32)
    tracemalloc.start()
    try:
        facts = _read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _rules(facts) == [PICKLE_LIMIT.id] and "truncated" in facts.findings[0].message
    assert peak < 32 * 1024 * 1024


def test_deep_nesting_is_a_limit(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04" + b"(" * 5000 + b"t" * 5000 + b".")
    facts = _read(path)
    assert _rules(facts) == [PICKLE_LIMIT.id] and "nested" in facts.findings[0].message


@pytest.mark.slow
def test_a_zip_bomb_member_is_not_inflated(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02" + b"N" * (64 * 1024 * 1024) + b".")
    assert path.stat().st_size < 1024 * 1024
    started = time.process_time()  # processor time: a busy machine does not make it look slow
    facts = _read(path)
    assert time.process_time() - started < 2
    assert _rules(facts) == [PICKLE_LIMIT.id] and "zip bomb" in facts.findings[0].message


def test_a_pickle_disguised_as_safetensors_is_refused_and_still_scanned(tmp_path, marker):
    root = format_bundle(tmp_path / "b", name="model.safetensors", data=malicious_pickle(marker),
                         fmt="safetensors", runtime="transformers")
    found = rules_of(validate(root, stage="draft"), "error")
    assert {FORMAT_MISMATCH.id, UNSAFE_IMPORT.id} <= found


def test_validate_inspect_and_init_never_run_the_payload(tmp_path, marker, capsys):
    data = torch_zip_bytes(extra=Payload(marker))
    root = format_bundle(tmp_path / "b", name="model.pt", data=data, fmt="pytorch", runtime="transformers")
    assert UNSAFE_IMPORT.id in rules_of(validate(root, stage="draft"), "error")
    assert main(["inspect", str(root)]) == 1
    assert "imports" in capsys.readouterr().out
    source = tmp_path / "evil.pt"
    source.write_bytes(data)
    assert main(["init", "evil", "--dir", str(tmp_path / "init"), "--model", str(source)]) == 0
    assert main(["validate", str(tmp_path / "init"), "--stage", "draft"]) == 1


def test_picklescan_judges_the_imports_the_walk_found(tmp_path):
    """ssl.get_server_certificate is on picklescan's deny-list, not on ours: it is still an error."""
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\x8c\x03ssl\x8c\x16get_server_certificate\x93\x8c\x01x\x85R.")
    assert [f.message for f in _read(path).findings] == [
        "model.pkl imports ssl.get_server_certificate: loading the file would run it"]


def test_an_unknown_protocol_in_a_later_stream_is_a_limit(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04N." + b"\x80\x09N.")
    facts = _read(path)
    assert _rules(facts) == [PICKLE_LIMIT.id] and "protocol 9" in facts.findings[0].message
