"""Streamed SHA-256 of many files, in parallel on all cores.

hashlib hands large updates to OpenSSL with the GIL released, so threads hash
different files truly in parallel. Files are scheduled largest first so the
cores finish together. Progress is reported in bytes; the cancel flag is
checked after every chunk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from modelgate.core import settings
from modelgate.core.errors import BundleError
from modelgate.core.progress import Progress

CHUNK = 4 * 1024 * 1024
#: Below this many bytes in all, starting threads costs more than it saves.
PARALLEL_THRESHOLD = 32 * 1024 * 1024


ALIGN = 64


def _address(buffer: bytearray) -> int:
    import ctypes

    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))


def sha256_file(path: Path, *, progress: Progress | None = None) -> str:
    """Hex SHA-256 of one file, streamed in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        # A small file needs a small buffer: zero-filling 4 MiB costs more than hashing it.
        size = os.fstat(handle.fileno()).st_size
        length = min(CHUNK, size + 1)
        # The kernel copies into a 64-byte-aligned buffer several times faster than into
        # a bytearray's own data, which starts 16 bytes into a page.
        raw = bytearray(length + ALIGN)
        start = -_address(raw) % ALIGN
        view = memoryview(raw)[start:start + length]
        while n := handle.readinto(view):
            digest.update(view[:n])
            if progress is not None:
                progress.advance(n)
    return digest.hexdigest()


def copy_hashed(source: Path, destination: Path, *, progress: Progress | None = None) -> str:
    """Copy ``source`` to a new file ``destination`` (flushed to disk) and return the hex SHA-256
    of the bytes written: one read of the source, so the digest describes exactly the copy
    even if the source changes meanwhile."""
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(destination, "xb") as out:
        while chunk := reader.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            if progress is not None:
                progress.advance(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def worker_count() -> int:
    configured = settings.get(settings.HASH_WORKERS)
    return configured if configured > 0 else (os.cpu_count() or 1)


def hash_files(files: Iterable[tuple[str, Path]], *, progress: Progress | None = None,
               workers: int | None = None) -> dict[str, str]:
    """Hash ``(name, path)`` pairs; return ``{name: hex digest}``.

    Raises :class:`~modelgate.core.errors.OperationCancelled` when the progress
    object is cancelled, and :class:`BundleError` when a file cannot be read.
    """
    progress = progress or Progress()
    items = []
    for name, path in files:
        try:
            items.append((name, path, path.stat().st_size))
        except OSError as exc:
            raise BundleError(f"could not read {name}: {exc.strerror}") from None
    items.sort(key=lambda item: item[2], reverse=True)
    total = sum(size for _, _, size in items)
    progress.start(label="hashing", total=total)
    if workers is None and total < PARALLEL_THRESHOLD:
        workers = 1
    workers = max(1, min(workers or worker_count(), len(items) or 1))

    def one(item):
        name, path, _ = item
        try:
            return name, sha256_file(path, progress=progress)
        except OSError as exc:
            raise BundleError(f"could not read {name}: {exc.strerror}") from None

    if workers == 1:
        return dict(one(item) for item in items)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="modelgate-hash") as pool:
        futures = [pool.submit(one, item) for item in items]
        try:
            return dict(f.result() for f in futures)
        except BaseException:
            # Running hashes finish their file; queued ones never start.
            for future in futures:
                future.cancel()
            raise


def bundle_digest(file_digests: dict[str, str]) -> str:
    """The bundle digest: SHA-256 of the canonical JSON ``{relative path: sha256}``.

    ``signatures/`` entries are left out, so signing a bundle never changes it.
    The canonical form is the audit log's: sorted keys, no spaces, raw UTF-8.
    """
    import json

    from modelgate.core.bundle.reader import SIGNATURES

    covered = {name: digest for name, digest in file_digests.items()
               if not name.startswith(SIGNATURES + "/")}
    return hashlib.sha256(json.dumps(covered, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()
