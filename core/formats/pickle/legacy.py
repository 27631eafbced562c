"""The ``storages`` and ``tensors`` members of the legacy tar form of ``torch.save``.

Each holds a pickle of a count, then per entry a pickle of its arguments followed by raw
bytes: for a storage, ``(key, location, storage type)`` then the element count (8 bytes) and
that many elements; for a tensor, ``(key, storage id, tensor type)`` then its rank (4 bytes,
4 more unused), its sizes and strides (8 bytes each per dimension) and its offset (8 bytes).
``torch.load`` unpickles every one of those argument pickles, so each is walked; the raw
bytes between them are stepped over, sized from what the pickles say.
"""

from __future__ import annotations

import struct

from modelgate.core.formats.pickle.imports import STORAGE_DTYPES
from modelgate.core.formats.pickle.opcodes import PickleLimit, Walk, walk
from modelgate.core.formats.pickle.source import Source, Truncated
from modelgate.core.formats.pickle.values import Imported

#: Dimensions of one tensor: torch allows 64.
MAX_RANK = 64


def _take(src: Source, n: int) -> bytes:
    """The next ``n`` raw bytes after the walk's position."""
    buf, i = src.buf, src.rest
    if len(buf) - i < n:
        buf, i = src.refill(i, n)
    if len(buf) - i < n:
        raise PickleLimit(f"the member ends inside a {n}-byte field")
    src.rest = i + n
    return buf[i:i + n]


def _skip(src: Source, n: int) -> None:
    buf, i = src.skip(src.rest, n)
    src.rest = i


def _count(src: Source, into: Walk, what: str) -> int:
    count = walk(src, into=into)
    if type(count) is not int or count < 0:
        raise PickleLimit(f"the {what} count is not a number")
    return count


def storages(src: Source, *, into: Walk) -> None:
    """Walk the ``storages`` member: every argument pickle, the storage bytes stepped over."""
    for _ in range(_count(src, into, "storage")):
        args = walk(src, into=into)
        kind = args[2] if isinstance(args, tuple) and len(args) == 3 else None
        width = STORAGE_DTYPES.get(kind.rsplit(".", 1)[-1], (None, None))[1] \
            if isinstance(kind, Imported) else None
        if width is None:
            raise PickleLimit("a storage's type is not a torch storage type, so its size is unknown")
        numel = struct.unpack("<q", _take(src, 8))[0]
        if numel < 0:
            raise PickleLimit("a storage claims a negative element count")
        try:
            _skip(src, numel * width)
        except Truncated:
            raise PickleLimit(f"a storage of {numel:,} elements runs past the end of the member") from None
        into.storages.append((str(args[0]), kind.rsplit(".", 1)[-1], numel))


def tensors(src: Source, *, into: Walk) -> None:
    """Walk the ``tensors`` member: every argument pickle, the shape fields stepped over."""
    for _ in range(_count(src, into, "tensor")):
        walk(src, into=into)
        rank = struct.unpack("<i", _take(src, 4))[0]
        if not 0 <= rank <= MAX_RANK:
            raise PickleLimit(f"a tensor of rank {rank}")
        _take(src, 4)
        _take(src, 16 * rank + 8)
