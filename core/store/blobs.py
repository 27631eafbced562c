"""Copying one blob out of a store, checked against the size and digest its manifest declares,
the same way whichever back-end (a registry's HTTP answer, a layout's file) holds the bytes."""

from __future__ import annotations

import hashlib
from typing import Callable

from modelgate.core.store.errors import ArtifactRefused


def copy_blob(chunks, *, digest: str, size: int, write: Callable[[bytes], object],
              advance: Callable[[int], object] | None = None) -> None:
    """Pass ``chunks`` of the blob ``digest`` to ``write`` while hashing them; refuse
    (:class:`~.errors.ArtifactRefused`) a blob longer or shorter than ``size`` or whose bytes do
    not hash to ``digest``. A longer one is cut off as soon as it passes ``size``."""
    hasher, seen = hashlib.sha256(), 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > size:
            raise ArtifactRefused(f"the blob {digest} is larger than the {size} bytes declared")
        hasher.update(chunk)
        write(chunk)
        if advance:
            advance(len(chunk))
    if seen != size:
        raise ArtifactRefused(f"the blob {digest} has {seen} bytes, not the {size} declared")
    if "sha256:" + hasher.hexdigest() != digest:
        raise ArtifactRefused(f"the blob {digest} does not hash to its digest: it was damaged or swapped")
