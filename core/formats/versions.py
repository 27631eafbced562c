"""What ``modelgate --version`` reports: the formats ModelGate speaks and the libraries it runs on.

An auditor records these beside a validation or a signature: the bundle and policy formats
say which standard a verdict applies, and onnx, onnxruntime and model-signing decide how a
model was read, run and signed. The numbers come from the installed distributions'
metadata, so asking for them imports none of those libraries and stays fast.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata

from modelgate.core import BUNDLE_FORMAT, POLICY_FORMAT, __version__
#: The distributions whose versions decide how a bundle is read, checked and signed.
RUNTIME_DISTRIBUTIONS = ("onnx", "onnxruntime", "safetensors", "gguf", "tflite", "picklescan", "model-signing")
NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class Component:
    """One line of the version report: what it is, and its version."""

    name: str
    version: str


def distribution_version(name: str) -> str:
    """The installed version of distribution ``name``, or :data:`NOT_INSTALLED`."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def components() -> tuple[Component, ...]:
    """ModelGate, its bundle and policy formats, the runtime libraries and Python, in that order."""
    return (
        Component("modelgate", __version__),
        Component("bundle format", BUNDLE_FORMAT),
        Component("policy format", POLICY_FORMAT),
        *(Component(name, distribution_version(name)) for name in RUNTIME_DISTRIBUTIONS),
        Component("python", platform.python_version()),
    )


def version_report() -> str:
    """The components as aligned ``name  version`` lines."""
    found = components()
    width = max(len(component.name) for component in found)
    return "\n".join(f"{component.name:<{width}}  {component.version}" for component in found)
