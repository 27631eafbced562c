"""Hostile GGUF files: absurd counts, truncation and tensors outside the file are findings."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from modelgate.core.formats import registry
from modelgate.core.formats.interface import FormatError
from modelgate.core.formats.rules import LAYOUT
from tests.core.formats._writers import write_gguf

FORMAT = registry.by_name("gguf")


def _patched(path: Path, at: int, fmt: str, value) -> Path:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, at, value)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("at, what", [(8, "tensors"), (16, "metadata entries")])
def test_an_absurd_count_is_refused_before_the_reader_loops(tmp_path, at, what):
    path = _patched(write_gguf(tmp_path / "m.gguf"), at, "<Q", 1 << 60)
    started = time.process_time()  # processor time: a busy machine does not make it look slow
    with pytest.raises(FormatError) as raised:
        FORMAT.read(path=path, label="m.gguf")
    assert what in raised.value.message and time.process_time() - started < 1


def test_an_unknown_version_is_refused(tmp_path):
    path = _patched(write_gguf(tmp_path / "m.gguf"), 4, "<I", 99)
    with pytest.raises(FormatError, match="version 99"):
        FORMAT.read(path=path, label="m.gguf")


@pytest.mark.parametrize("keep", [10, 30, 200])
def test_a_truncated_file_is_an_error_or_a_layout_finding(tmp_path, keep):
    path = write_gguf(tmp_path / "m.gguf")
    path.write_bytes(path.read_bytes()[:keep])
    try:
        facts = FORMAT.read(path=path, label="m.gguf")
    except FormatError:
        return
    assert any(f.rule == LAYOUT.id for f in facts.findings)


def _offset_field(path: Path, name: bytes) -> int:
    """Where the data offset of tensor ``name`` is stored in the tensor infos."""
    data = path.read_bytes()
    start = data.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    (dims,) = struct.unpack_from("<I", data, start)
    return start + 4 + 8 * dims + 4


def test_a_tensor_past_the_end_of_the_file_is_a_layout_finding(tmp_path):
    path = write_gguf(tmp_path / "m.gguf")
    _patched(path, _offset_field(path, b"output_norm.weight"), "<Q", 1 << 20)
    try:
        facts = FORMAT.read(path=path, label="m.gguf")
    except FormatError:
        return  # the reader itself refused the range: also a clean refusal
    assert any("past the end" in f.message for f in facts.findings if f.rule == LAYOUT.id)


def test_overlapping_and_misaligned_tensors_are_layout_findings(tmp_path):
    path = write_gguf(tmp_path / "m.gguf")
    _patched(path, _offset_field(path, b"output_norm.weight"), "<Q", 4)
    messages = [f.message for f in FORMAT.read(path=path, label="m.gguf").findings if f.rule == LAYOUT.id]
    assert any("overlaps" in m for m in messages) and any("alignment" in m for m in messages)
