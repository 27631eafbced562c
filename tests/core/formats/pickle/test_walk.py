"""The one-pass opcode walk: the same imports picklescan finds, payloads stepped over, memory bounded."""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import io
import pickle
import pickletools
import struct
import tracemalloc
import uuid
from pathlib import Path

import numpy as np
import pytest
from picklescan.scanner import scan_pickle_bytes

from modelgate.core.formats import registry
from modelgate.core.formats.pickle import opcodes
from modelgate.core.formats.pickle.opcodes import PickleLimit, Walk, walk_all
from modelgate.core.formats.pickle.source import Source
from modelgate.core.formats.rules import PICKLE_LIMIT, UNSAFE_IMPORT

PICKLE = registry.by_name("pytorch")


def _honest_objects() -> list:
    recursive: list = [1, 2]
    recursive.append(recursive)
    return [
        {"weights": np.arange(12, dtype=np.float32).reshape(3, 4), "bias": np.zeros(3, np.float16)},
        collections.OrderedDict((f"layer.{i}", np.ones((2, i + 1))) for i in range(40)),
        [set(range(50)), frozenset("abc"), bytearray(b"xyz"), complex(1, 2), 2**200, -(2**70)],
        {"date": datetime.datetime(2026, 1, 2, 3, 4, 5), "price": decimal.Decimal("1.25"),
         "ratio": fractions.Fraction(1, 3), "id": uuid.UUID(int=7)},
        ["unicode ✓ " * 40, b"\x00" * 300, "x" * 70_000, tuple(range(40)), recursive],
        np.array([1, "two", None], dtype=object),
        {str(i): {"nested": [i, (i, i)]} for i in range(1200)},
    ]


def _walk(data: bytes, chunk: int = 1 << 20) -> Walk:
    found = Walk()
    walk_all(Source(io.BytesIO(data), size=len(data), seekable=True, chunk=chunk), into=found)
    return found


@pytest.mark.parametrize("protocol", range(0, 6))
@pytest.mark.parametrize("index", range(len(_honest_objects())))
def test_the_walk_finds_exactly_what_picklescan_finds(protocol, index):
    data = pickle.dumps(_honest_objects()[index], protocol=protocol)
    expected = {(g.module, g.name) for g in scan_pickle_bytes(io.BytesIO(data), "x").globals}
    found = _walk(data)
    assert set(found.imports.values()) == expected
    assert found.opcodes == sum(1 for _ in pickletools.genops(io.BytesIO(data)))


@pytest.mark.parametrize("chunk", [16, 17, 64, 4096])
def test_chunk_boundaries_do_not_change_the_walk(chunk):
    data = pickle.dumps(_honest_objects()[4], protocol=4) + pickle.dumps(_honest_objects()[0], protocol=2)
    assert _walk(data, chunk=chunk).imports == _walk(data).imports


def test_every_opcode_in_pickletools_is_decoded():
    known = {op.code.encode("latin-1")[0] for op in pickletools.opcodes}
    assert {code for code, entry in enumerate(opcodes._OPS) if entry is not None} == known


def _payload_pickle(path: Path, size: int) -> Path:
    """A protocol 4 pickle of one ``size``-byte bytes object (BINBYTES8), written without holding it."""
    with open(path, "wb") as stream:
        stream.write(b"\x80\x04\x8e" + struct.pack("<Q", size))
        block = b"\x5a" * (1 << 20)
        for _ in range(size // len(block)):
            stream.write(block)
        stream.write(b"\x5a" * (size % len(block)) + b"\x94.")
    return path


@pytest.mark.slow
def test_a_100_mb_payload_is_stepped_over_in_a_few_mb(tmp_path):
    path = _payload_pickle(tmp_path / "model.pkl", 100 * 1024 * 1024)
    tracemalloc.start()
    try:
        facts = PICKLE.read(path=path, label=path.name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert facts.findings == ()
    assert peak < 4 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_a_payload_that_claims_more_than_is_left_is_truncated(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"\0" * 64)
    facts = PICKLE.read(path=path, label=path.name)
    assert [f.rule for f in facts.findings] == [PICKLE_LIMIT.id]
    assert "runs past the end" in facts.findings[0].message


def test_a_name_longer_than_any_module_is_a_limit_not_an_allocation(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"c" + b"o" * (8 * 1024 * 1024) + b"\nsystem\n)R.")
    tracemalloc.start()
    try:
        facts = PICKLE.read(path=path, label=path.name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [f.rule for f in facts.findings] == [PICKLE_LIMIT.id] and "longer than" in facts.findings[0].message
    assert peak < 4 * 1024 * 1024


def test_a_stack_that_only_grows_is_a_limit(monkeypatch):
    monkeypatch.setattr(opcodes, "MAX_STACK", 1_000)
    with pytest.raises(PickleLimit, match="values wait on its stack"):
        _walk(b"\x80\x04" + b"N" * 1_001 + b".")


def test_imports_through_a_memo_past_its_cap_are_unresolved(monkeypatch):
    """Past MAX_MEMO nothing more is remembered, so a name fetched from there cannot hide."""
    monkeypatch.setattr(opcodes, "MAX_MEMO", 2)
    data = pickle.dumps(("pad", "pad2", "os", "system"), protocol=4)  # memoized strings
    body = b"\x80\x04\x8c\x01a\x94\x8c\x01b\x94\x8c\x02os\x94\x8c\x06system\x94h\x02h\x03\x93."
    assert data and set(_walk(body).imports) == {"<unresolved STACK_GLOBAL>"}


def test_distinct_imports_are_bounded(monkeypatch):
    monkeypatch.setattr(opcodes, "MAX_IMPORTS", 10)
    body = b"\x80\x02(" + b"".join(b"cm%d\nf\n" % i for i in range(11)) + b"l."
    with pytest.raises(PickleLimit, match="more than 10 different callables"):
        _walk(body)


def test_the_opcode_count_is_bounded(monkeypatch):
    monkeypatch.setattr(opcodes, "MAX_OPCODES", 100)
    with pytest.raises(PickleLimit, match="more than 100 opcodes"):
        _walk(b"\x80\x04]" + b"N0" * 100 + b".")


def test_a_byte_that_is_no_opcode_is_malformed(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04\xff.")
    facts = PICKLE.read(path=path, label=path.name)
    assert [f.rule for f in facts.findings] == [PICKLE_LIMIT.id] and "0xff" in facts.findings[0].message


def test_protocol_0_strings_resolve_a_stack_global(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"S'os'\nS'system'\n\x93S'true'\n\x85R.")
    assert [f.rule for f in PICKLE.read(path=path, label=path.name).findings] == [UNSAFE_IMPORT.id]


class _Asked(Exception):
    pass


def _what_the_unpickler_imports(data: bytes) -> str:
    """The first callable Python's own unpickler asks for (find_class raises before anything runs)."""
    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            raise _Asked(f"{module}.{name}")

    with pytest.raises(_Asked) as asked:
        Recorder(io.BytesIO(data)).load()
    return str(asked.value)


def test_memoize_after_a_put_indexes_the_memo_as_the_unpickler_does():
    """PUT 1 then MEMOIZE: MEMOIZE writes at len(memo) = 1, over the PUT; a plain counter would say 0."""
    data = (b"\x80\x04\x8c\x08builtinsq\x010"     # "builtins" at memo[1], popped
            b"\x8c\x02os\x94"                      # MEMOIZE: memo[len(memo)] = memo[1] = "os"
            b"h\x01\x8c\x06system\x93)R.")         # memo[1] and "system": STACK_GLOBAL
    assert _what_the_unpickler_imports(data) == "os.system"
    assert list(_walk(data).imports) == ["os.system"]
