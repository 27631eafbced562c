"""Hostile TFLite flatbuffers: indices out of range and broken offsets are findings, never crashes."""

from __future__ import annotations

import random
import struct

import pytest

from modelgate.core.formats import registry
from modelgate.core.formats.interface import FormatError
from modelgate.core.formats.rules import LAYOUT
from tests.core.formats._writers import tflite_bytes

FORMAT = registry.by_name("tflite")


def _read(tmp_path, data: bytes):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return FORMAT.read(path=path, label="m.tflite")


def test_an_out_of_range_buffer_index_is_a_layout_finding(tmp_path):
    facts = _read(tmp_path, tflite_bytes(weights_buffer=7))
    assert [f.message for f in facts.findings if f.rule == LAYOUT.id] == [
        "m.tflite: tensor 1 of subgraph 0 names buffer 7, but the model has 2 buffers"]


def test_an_out_of_range_operator_code_is_a_layout_finding(tmp_path):
    facts = _read(tmp_path, tflite_bytes(opcode_index=5))
    assert any("operator code 5" in f.message for f in facts.findings)


@pytest.mark.parametrize("keep", [4, 8, 40, 200])
def test_a_truncated_model_is_refused(tmp_path, keep):
    with pytest.raises(FormatError):
        _read(tmp_path, tflite_bytes()[:keep])


@pytest.mark.slow
def test_random_damage_never_escapes_as_anything_but_a_format_error(tmp_path):
    clean = tflite_bytes()
    rng = random.Random(7)
    for _ in range(300):
        data = bytearray(clean)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(8, len(data) - 4)
            struct.pack_into("<I", data, at, rng.choice([0, 0xFFFFFFFF, 0x7FFFFFFF, rng.getrandbits(32)]))
        try:
            _read(tmp_path, bytes(data))
        except FormatError:
            pass


def test_a_vector_longer_than_the_file_is_refused_by_its_length(tmp_path):
    import tflite

    data = bytearray(tflite_bytes())
    graph = tflite.Model.GetRootAsModel(data, 0).Subgraphs(0)
    first = graph._tab.Vector(graph._tab.Offset(4))  # the tensors vector; its length sits before it
    struct.pack_into("<I", data, first - 4, 0x7FFFFFFF)
    with pytest.raises(FormatError, match="claims 2,147,483,647 tensors"):
        _read(tmp_path, bytes(data))
