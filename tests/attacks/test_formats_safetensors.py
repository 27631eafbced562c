"""Hostile safetensors files: every lie in the header is a finding, never a crash or a big read."""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from modelgate.core.formats import registry
from modelgate.core.formats.interface import FormatError
from modelgate.core.formats.rules import LAYOUT, SHARDS
from tests.core.formats._writers import write_safetensors

FORMAT = registry.by_name("safetensors")


def _file(path: Path, header: dict, data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def _tensor(begin: int, end: int, shape=(2,), dtype="F32") -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}


def _layout(path: Path) -> list[str]:
    facts = FORMAT.read(path=path, label=path.name)
    return [f.message for f in facts.findings if f.rule == LAYOUT.id]


def test_a_clean_file_has_no_findings(tmp_path):
    assert _layout(write_safetensors(tmp_path / "ok.safetensors")) == []


@pytest.mark.parametrize("header, data, words", [
    ({"a": _tensor(0, 8), "b": _tensor(4, 12)}, b"\0" * 12, "overlaps"),
    ({"a": _tensor(0, 8), "b": _tensor(12, 20)}, b"\0" * 20, "unaccounted bytes"),
    ({"a": _tensor(0, 8)}, b"\0" * 16, "trailing bytes"),
    ({"a": _tensor(0, 8), "b": _tensor(8, 16)}, b"\0" * 12, "past its end"),
    ({"a": _tensor(0, 12)}, b"\0" * 12, "needs 8 bytes"),
])
def test_lying_offsets_are_layout_findings(tmp_path, header, data, words):
    messages = _layout(_file(tmp_path / "bad.safetensors", header, data))
    assert any(words in m for m in messages), messages


def test_the_safetensors_library_agrees_on_overlaps(tmp_path):
    """Our verdict is not looser than the library's: it refuses what we report."""
    from safetensors import SafetensorError, safe_open

    path = _file(tmp_path / "bad.safetensors", {"a": _tensor(0, 8), "b": _tensor(4, 12)}, b"\0" * 12)
    with pytest.raises(SafetensorError):
        with safe_open(str(path), framework="numpy") as handle:
            handle.get_tensor("b")


@pytest.mark.parametrize("length", [1 << 63, 200_000_000, 10_000])
def test_a_header_length_beyond_the_file_or_the_limit_is_refused_unread(tmp_path, length):
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", length) + b'{"a":1}')
    if length < 1 << 40:  # a sparse file that really holds the bytes claimed: only the limit refuses it
        os.truncate(path, 8 + length + 16)
    tracemalloc.start()
    try:
        with pytest.raises(FormatError) as raised:
            FORMAT.read(path=path, label=path.name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "header" in raised.value.message and peak < 8 * 1024 * 1024


@pytest.mark.parametrize("header", [b"[1, 2]", b"{" * 100_000, b"\xff\xfe{}", b'{"a": {"dtype": "F99", "shape": [1], '
                                    b'"data_offsets": [0, 4]}}', b'{"a": {"dtype": "F32", "shape": [-1], '
                                    b'"data_offsets": [0, 4]}}', b'{"__metadata__": {"k": 1}}'])
def test_a_malformed_header_is_a_format_error(tmp_path, header):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(FormatError):
        FORMAT.read(path=path, label=path.name)


def test_a_truncated_file_is_a_finding(tmp_path):
    path = write_safetensors(tmp_path / "t.safetensors", tensors={"w": np.zeros(1000, np.float32)})
    path.write_bytes(path.read_bytes()[:-100])
    assert any("past its end" in m for m in _layout(path))


def test_a_shard_outside_the_folder_is_never_opened(tmp_path):
    outside = write_safetensors(tmp_path / "outside.safetensors")
    folder = tmp_path / "model"
    folder.mkdir()
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"embed.weight": f"../{outside.name}"}}))
    facts = FORMAT.read(path=index, label="model/model.safetensors.index.json")
    assert [f.rule for f in facts.findings] == [SHARDS.id] and facts.tensors == ()
