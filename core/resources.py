"""Access to the files shipped in ``modelgate.resources``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources as _resources
from pathlib import Path


def path(name: str) -> Path:
    """Filesystem path of a shipped resource (installed packages are real folders)."""
    return Path(str(_resources.files("modelgate.resources").joinpath(name)))


def text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")


@cache
def json_schema(name: str) -> dict:
    """A shipped JSON Schema, parsed once per process."""
    return json.loads(text(name))
