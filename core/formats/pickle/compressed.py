"""Compressed pickles, as joblib writes them: recognised by content, inflated as a stream, capped.

``joblib.dump(..., compress=...)`` compresses the whole file (the pickle and the arrays in
it) with zlib, gzip, bz2, xz, lzma or lz4; joblib before 0.10 wrote ``ZF`` and a hex length
before a zlib stream. The scan reads the inflated bytes through :class:`Inflating`, which
never holds more than one chunk and stops with a limit once the output passes a cap tied to
the compressed size, so a compression bomb costs a bounded amount of time and no memory.
"""

from __future__ import annotations

import bz2
import lzma
import zlib

from modelgate.core.formats.pickle.values import PickleLimit

#: joblib's compressors by the bytes their files open with.
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x5d\x00\x00", "lzma"),
          (b"\x04\x22\x4d\x18", "lz4"), (b"ZF0x", "zlib"))
#: joblib < 0.10: "ZF" then the inflated length as a hex string padded to this width.
_ZF_HEADER = 2 + len(f"{2 ** 64:#x}")
#: zlib never inflates more than about 1,032 times; a larger ratio from any codec is a bomb.
MAX_INFLATE_RATIO = 1_100
#: ... once past this many bytes (small files compress well and harmlessly).
INFLATE_FLOOR = 64 * 1024 * 1024
#: And never more than this in all, whatever the ratio.
MAX_INFLATED = 64 * 1024**3
_READ = 1 << 20


def kind_of(head: bytes) -> str | None:
    """The compression a file opening with ``head`` uses, or ``None``."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        return "zlib"  # a bare zlib stream: 'x' and a check byte
    return None


def _decompressor(kind: str):
    if kind == "gzip":
        return zlib.decompressobj(wbits=31)
    if kind == "zlib":
        return zlib.decompressobj()
    if kind == "bz2":
        return bz2.BZ2Decompressor()
    if kind in ("xz", "lzma"):
        return lzma.LZMADecompressor()
    try:
        import lz4.frame
    except ImportError:  # pragma: no cover - lz4 is a dependency; this guards a broken install
        raise PickleLimit("lz4-compressed, and the lz4 package that reads it is not installed") from None
    return lz4.frame.LZ4FrameDecompressor()


def cap_for(compressed: int) -> int:
    """How many inflated bytes a file of ``compressed`` bytes may produce."""
    return min(MAX_INFLATED, max(INFLATE_FLOOR, MAX_INFLATE_RATIO * compressed))


class Inflating:
    """A read-only stream of the inflated bytes of ``stream`` (compressed with ``kind``)."""

    def __init__(self, stream, *, kind: str, compressed: int) -> None:
        self._stream, self._kind, self._cap = stream, kind, cap_for(compressed)
        self._compressed, self.produced = compressed, 0
        self._engine = _decompressor(kind)
        self._pending = b""
        stream.seek(0)
        if kind == "zlib" and stream.read(2) == b"ZF":
            stream.seek(_ZF_HEADER)
        else:
            stream.seek(0)

    def _step(self, n: int) -> bytes:
        engine, streamed = self._engine, self._kind in ("gzip", "zlib")
        while not engine.eof:
            if streamed:
                data = self._pending or self._stream.read(_READ)
                if not data:
                    return b""
                out = engine.decompress(data, n)
                self._pending = engine.unconsumed_tail
            else:
                data = self._stream.read(_READ) if engine.needs_input else b""
                if engine.needs_input and not data:
                    return b""
                out = engine.decompress(data, n)
            if out:
                return out
        return b""

    def read(self, n: int) -> bytes:
        """Up to ``n`` inflated bytes; ``b""`` at the end."""
        try:
            out = self._step(n)
        except (zlib.error, OSError, EOFError, lzma.LZMAError, RuntimeError, ValueError) as error:
            raise PickleLimit(f"the {self._kind} stream is corrupt ({' '.join(str(error).split())[:120]})") from None
        self.produced += len(out)
        if self.produced > self._cap:
            raise PickleLimit(f"{self._kind} stream inflates beyond {self._cap:,} bytes from "
                              f"{self._compressed:,} (a compression bomb?)")
        return out
