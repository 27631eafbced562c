"""The model formats ModelGate reads, and how a file or an artifact finds its format.

Detection goes by content: the formats with an unmistakable signature are asked first,
ONNX (a protobuf, recognised by its field layout) last.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from modelgate.core.formats.interface import Format, read_head

#: The format packages, in the order detection asks them.
PACKAGES = ("gguf", "tflite", "safetensors", "pickle", "onnx")
_MODULES = {"onnx": "modelgate.core.formats.onnx.format"}


@cache
def formats() -> tuple[Format, ...]:
    """Every format, in detection order (each package is imported on first use: cheap)."""
    return tuple(importlib.import_module(_MODULES.get(name, f"modelgate.core.formats.{name}")).FORMAT
                 for name in PACKAGES)


def names() -> tuple[str, ...]:
    """Every value a manifest's ``format:`` may take."""
    return tuple(name for fmt in formats() for name in fmt.names)


def by_name(name: str | None) -> Format | None:
    """The format a manifest's ``format:`` names; ONNX when it names none (bundle v1)."""
    wanted = name or "onnx"
    return next((fmt for fmt in formats() if wanted in fmt.names), None)


def detect(path: Path) -> Format | None:
    """The format of the file at ``path``, judged by its bytes, or ``None``."""
    head = read_head(path)
    for fmt in formats():
        if fmt.detect(head=head, path=path):
            return fmt
    return None


def by_suffix(path: Path) -> Format | None:
    """The format whose file names end like ``path``'s: to say what is wrong with a file no
    format recognises by content."""
    name = path.name.lower()
    return next((fmt for fmt in formats() if name.endswith(fmt.suffixes)), None)


def runtime_formats(runtime: str) -> tuple[str, ...]:
    """The names of the formats a target runtime runs."""
    return tuple(fmt.names[0] for fmt in formats() if runtime in fmt.runtimes)
