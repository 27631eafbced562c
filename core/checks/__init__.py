"""The checks, one module per rule family. Each module declares its rules and its checks.

A check is a function ``check(ctx) -> Iterable[Finding]`` registered with
:func:`register`. Checks never apply policy overrides themselves: the engine
does, so a severity change or a disabled rule works the same everywhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from modelgate.core.findings import Finding

#: Check modules, in the order their checks run.
MODULES = (
    "structure",     # MG1xx
    "model",         # MG2xx
    "formats",       # MG220-MG230
    "targets",       # MG3xx
    "licenses",      # MG4xx
    "model_card",    # MG5xx
    "card_front",    # MG511-MG512
    "benchmarks",    # MG6xx
    "provenance",    # MG7xx
    "signatures",    # MG8xx
    "lifecycle",     # MG9xx
)


@dataclass(frozen=True)
class Check:
    name: str
    function: Callable[..., Iterable[Finding]]
    needs_manifest: bool


REGISTRY: list[Check] = []


def register(*, needs_manifest: bool = True):
    """Decorator: add a check function to the registry, in definition order."""

    def decorate(function):
        REGISTRY.append(Check(f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}",
                              function, needs_manifest))
        return function

    return decorate


def load_all() -> list[Check]:
    """Import every check module (cheap: heavy libraries load inside the checks)."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return list(REGISTRY)
