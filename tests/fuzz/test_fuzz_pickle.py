"""Property-based fuzzing of the pickle scan: mutated pickles, joblib files and torch.save zips.

Whatever the bytes, reading them as a PyTorch/pickle artifact gives facts (with findings)
or a :class:`FormatError` naming the file: never another exception, never a payload run,
never seconds of work for a small file.
"""

from __future__ import annotations

import io
import os
import pickle
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelgate.core.formats import registry
from modelgate.core.formats.interface import FormatError
from tests.core.formats._writers import Payload, torch_zip_bytes

PICKLE = registry.by_name("pytorch")
EXAMPLES = int(os.environ.get("MODELGATE_FUZZ_EXAMPLES", "5")) * 8
#: A small file is read in well under this, even on a busy machine.
DEADLINE_S = 5.0


def _joblib_bytes(compression: str | None) -> bytes:
    out = io.BytesIO()
    joblib.dump({"w": np.arange(24, dtype=np.float32).reshape(4, 6), "names": np.array(["a", "bc"]),
                 "objects": np.array([1, None], dtype=object)}, out, compress=(compression, 1) if compression else 0)
    return out.getvalue()


def _seeds() -> list[tuple[str, bytes]]:
    state = {"w": [1.0, 2.0], "meta": {"name": "m", "shape": (3, 4)}}
    return ([(".pkl", pickle.dumps(state, protocol=p)) for p in range(6)]
            + [(".joblib", _joblib_bytes(c)) for c in (None, "zlib", "lz4")]
            + [(".pt", torch_zip_bytes())])


SEEDS = _seeds()


@st.composite
def _mutated(draw) -> tuple[str, bytes]:
    suffix, data = draw(st.sampled_from(SEEDS))
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif action == "truncate":
            del data[at:]
        else:
            other = draw(st.sampled_from(SEEDS))[1]
            data[at:at] = other[: draw(st.integers(1, 64))]
    return suffix, bytes(data)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(case=_mutated())
def test_mutated_checkpoints_give_findings_never_a_crash(tmp_path_factory, case):
    suffix, data = case
    folder = tmp_path_factory.mktemp("pickle-fuzz")
    marker = folder / "payload-ran"
    path = folder / f"model{suffix}"
    path.write_bytes(data)
    started = time.perf_counter()
    try:
        facts = PICKLE.read(path=path, label=path.name)
        assert facts.format == "pytorch"
    except FormatError as error:
        assert path.name in str(error)
    assert time.perf_counter() - started < DEADLINE_S
    assert not marker.exists()


@pytest.mark.slow
def test_a_mutated_payload_pickle_never_runs(tmp_path):
    """Every single-byte change of a malicious pickle: scanned, and its payload never runs."""
    marker = tmp_path / "payload-ran"
    data = pickle.dumps({"w": [1.0], "hook": Payload(marker)}, protocol=2)
    path = Path(tmp_path / "model.pkl")
    for at in range(len(data)):
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:])
        try:
            PICKLE.read(path=path, label=path.name)
        except FormatError:
            pass
    assert not marker.exists()
