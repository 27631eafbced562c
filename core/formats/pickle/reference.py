"""picklescan's verdict on the callables our one pass found, without a second pass over the file.

picklescan (MIT) is the maintained reference: its deny-list names callables our own rules may
not (``ssl.get_server_certificate``, ``pkgutil.resolve_name``, ...). Running it on the file
itself would read every byte a second time and keep every opcode in memory, so instead the
imports the opcode walk resolved are written into a small pickle of their own (one
``STACK_GLOBAL`` per callable, nothing else) and that is what picklescan scans, through its
public API. Its judgement is then exactly the one it would give the imports in the file.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable


def _text(value: str) -> bytes:
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw               # SHORT_BINUNICODE
    return b"X" + struct.pack("<I", len(raw)) + raw             # BINUNICODE


def imports_pickle(imports: Iterable[tuple[str, str]]) -> bytes:
    """A protocol 4 pickle that imports each ``(module, name)`` once and builds nothing else."""
    body = b"".join(_text(module) + _text(name) + b"\x93" for module, name in imports)
    return b"\x80\x04(" + body + b"l."


def dangerous(imports: Iterable[tuple[str, str]], *, label: str) -> list[str]:
    """The ``module.name`` of each import picklescan's deny-list calls dangerous."""
    from picklescan.scanner import SafetyLevel, scan_pickle_bytes

    imports = sorted(set(imports))
    if not imports:
        return []
    result = scan_pickle_bytes(io.BytesIO(imports_pickle(imports)), label)
    return [f"{found.module}.{found.name}" for found in result.globals if found.safety is SafetyLevel.Dangerous]
