"""Semantic Versioning 2.0: validation, precedence, and ``name@version`` references."""

from __future__ import annotations

import re

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$")


def split_reference(text) -> tuple[str, str] | None:
    """``("name", "version")`` of a ``name@version`` string, or ``None`` if it is not one."""
    if not isinstance(text, str) or text.count("@") != 1:
        return None
    name, version = text.split("@")
    return (name, version) if name and version else None


def semver_key(version: str) -> tuple | None:
    """A sort key giving SemVer 2.0 precedence, or ``None`` for a string that is not SemVer."""
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if not match:
        return None
    core = tuple(int(part) for part in match.group(1, 2, 3))
    if match.group(4) is None:
        return (*core, 1, ())  # a release ranks above its pre-releases
    ids = tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in match.group(4).split("."))
    return (*core, 0, ids)


def parse_reference(text) -> tuple[str, str, tuple]:
    """``(name, version, precedence key)`` of a ``name@version`` reference.

    Raises :class:`ValueError` saying what is wrong, phrased to follow the field's name.
    """
    reference = split_reference(text)
    if reference is None:
        raise ValueError(f"{text!r} is not name@version")
    name, version = reference
    key = semver_key(version)
    if key is None:
        raise ValueError(f"{text!r}: {version!r} is not a SemVer version")
    return name, version, key
