"""The bytes of one pickle stream, read in large chunks; long payloads are stepped over, not read.

The opcode walk (core/formats/pickle/opcodes.py) works on ``Source.buf`` directly and asks for
more with :meth:`Source.refill`. A payload it does not need (tensor bytes in a ``BINBYTES``,
a long string) is skipped: on a seekable file by moving the file position, on a stream
(a zip member that is compressed, a decompressing reader) by reading and dropping it a chunk
at a time. Either way memory stays at about one chunk, whatever the payload claims.
"""

from __future__ import annotations

#: Bytes read from the file at a time: large enough that the per-read cost vanishes.
CHUNK = 1 << 20
#: Bytes read right after a payload was skipped: what follows one is mostly small (a key, the
#: opcodes of the next tensor) and then another payload, which a full chunk would half read.
AFTER_SKIP = 64 * 1024


class Truncated(Exception):
    """The stream ends before a length it declared."""


class Source:
    """``size`` bytes of ``stream`` (``None``: up to its end) starting at its current position."""

    def __init__(self, stream, *, size: int | None, seekable: bool, chunk: int = CHUNK) -> None:
        self._stream, self._seekable, self._chunk = stream, seekable, chunk
        self._left = size              # bytes not yet taken from the stream (None: unknown)
        self.buf = b""
        self.rest = 0                  # where in buf the walk goes on
        self.base = 0                  # position of buf[0] in the stream

    def _pull(self, n: int) -> bytes:
        if self._left is not None:
            n = min(n, self._left)
            if n <= 0:
                return b""
        data = self._stream.read(n)
        if self._left is not None:
            self._left -= len(data)
        return data

    def refill(self, i: int, need: int = 9, *, chunk: int | None = None) -> tuple[bytes, int]:
        """Drop ``buf[:i]`` and read until at least ``need`` bytes follow (fewer only at the end).

        Returns the new ``(buf, 0)``.
        """
        rest = self.buf[i:]
        self.base += i
        parts, have = [rest], len(rest)
        while have < need:
            data = self._pull(max(chunk or self._chunk, need - have))
            if not data:
                break
            parts.append(data)
            have += len(data)
        if len(parts) == 2 and not rest:
            self.buf = parts[1]            # nothing held over: no copy
        else:
            self.buf = b"".join(parts) if len(parts) > 1 else rest
        return self.buf, 0

    def peek(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer at the end), reading no more than that."""
        while len(self.buf) < n:
            data = self._pull(n - len(self.buf))
            if not data:
                break
            self.buf += data
        return self.buf[:n]

    def skip(self, i: int, n: int) -> tuple[bytes, int]:
        """Step over ``n`` bytes from ``buf[i]`` on; returns the new ``(buf, index)``.

        Raises :class:`Truncated` when fewer than ``n`` bytes are left.
        """
        held = len(self.buf) - i
        if n <= held:
            return self.buf, i + n
        n -= held
        self.base += len(self.buf) + n
        self.buf = b""
        if self._left is not None and n > self._left:
            raise Truncated(f"a length of {n + held:,} bytes runs past the end of the stream")
        if self._seekable and n > self._chunk:
            self._stream.seek(n, 1)
            self._left = None if self._left is None else self._left - n
            return self.refill(0, chunk=AFTER_SKIP)
        while n:
            data = self._pull(min(n, self._chunk))
            if not data:
                raise Truncated(f"a length of {n + held:,} bytes runs past the end of the stream")
            n -= len(data)
        return self.refill(0)

    def position(self, i: int) -> int:
        """Where ``buf[i]`` lies in the stream."""
        return self.base + i
