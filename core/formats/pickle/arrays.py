"""The raw array bytes joblib writes in the middle of its pickles, stepped over without reading.

``joblib.dump`` pickles each numpy array as a ``joblib.numpy_pickle.NumpyArrayWrapper``
whose state (shape, dtype, alignment) is set by ``BUILD``; right after that ``BUILD`` it
writes the array itself: a padding-length byte and that much padding (joblib 1.2 and later),
then ``count * itemsize`` raw bytes, or, for an array of Python objects, a whole pickle of
its own. joblib's unpickler reads them there, so the opcode walk must step over the bytes
(or walk the inner pickle) to find the opcodes that follow. The size comes from the wrapper's
state as pickled; a wrapper whose size cannot be read from it statically is a limit, not a
guess.
"""

from __future__ import annotations

import re

from modelgate.core.formats.pickle.values import Dtype, PickleLimit, State

#: joblib writes object arrays as pickles inside its pickle; deeper nesting is not joblib.
MAX_NESTED = 4
_CODE = re.compile(r"[<>|=]?([a-zA-Z])(\d+)")


def _itemsize(code: str) -> int | None:
    match = _CODE.fullmatch(code)
    if not match or match.group(1) == "O":
        return None
    return int(match.group(2)) * (4 if match.group(1) == "U" else 1)


def _count(shape) -> int | None:
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        return None
    count = 1
    for n in shape:
        count *= n
    return count


def step_over(state, src, i: int, *, into, nested: int, walk):
    """Step over the array written after a wrapper's ``BUILD`` of ``state``; returns the new ``(buf, index)``."""
    dtype = state.get("dtype") if isinstance(state, State) else None
    if isinstance(dtype, Dtype) and dtype.lstrip("<>|=").startswith("O"):
        if nested >= MAX_NESTED:
            raise PickleLimit(f"joblib object arrays nested more than {MAX_NESTED} deep")
        src.rest = i
        walk(src, into=into, nested=nested + 1)   # the objects are a pickle of their own
        into.arrays += 1
        return src.buf, src.rest
    itemsize = _itemsize(dtype) if isinstance(dtype, Dtype) else None
    count = _count(state.get("shape")) if isinstance(state, State) else None
    if itemsize is None or count is None:
        raise PickleLimit("a joblib array whose size cannot be read from its pickled shape and dtype")
    buf = src.buf
    if state.get("numpy_array_alignment_bytes") is not None:
        if len(buf) - i < 1:
            buf, i = src.refill(i, 1)
        padding = buf[i]
        buf, i = src.skip(i + 1, padding)
    into.arrays += 1
    return src.skip(i, count * itemsize)
