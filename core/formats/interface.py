"""What every model format provides, and the facts it reads from a file.

A format package (``onnx``, ``safetensors``, ``gguf``, ``tflite``, ``pickle``) exposes
one :class:`Format` object. It recognises its files by their bytes, reads a file's
header without loading its weights (and never executes anything in it), and says
what it found as :class:`ModelFacts`: tensors, metadata, operators, the interface
where the format has a graph, and integrity findings. The checks, ``inspect``,
compare, reports and the app ask these objects; only ``core/formats/`` knows how
each format is laid out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from modelgate.core.bundle.manifest_types import Manifest
from modelgate.core.errors import BundleError
from modelgate.core.findings import Finding

#: How many bytes detection looks at: every format's signature is in its first few bytes.
HEAD_BYTES = 64


class FormatError(BundleError):
    """A model file cannot be read as the format it claims (truncated, malformed, hostile)."""


@dataclass(frozen=True)
class TensorInfo:
    """One stored tensor (or, for pickles, one storage): what it holds and where."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]
    nbytes: int | None = None
    offset: int | None = None   # start of its bytes in the file, where the format says

    @property
    def elements(self) -> int | None:
        count = 1
        for dim in self.shape:
            if not isinstance(dim, int) or dim < 0:
                return None
            count *= dim
        return count


@dataclass(frozen=True)
class Port:
    """An input or output of a model with a graph: name, element type and shape."""

    name: str
    dtype: str
    shape: tuple[int | str, ...]

    def as_dict(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class ModelFacts:
    """What a format read from one model file, without loading its weights.

    ``inputs``/``outputs`` are ``None`` when the format stores weights only (safetensors,
    GGUF, pickles): such a file says nothing about the interface, and nothing is invented.
    """

    format: str
    path: str
    size: int
    tensors: tuple[TensorInfo, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()
    inputs: tuple[Port, ...] | None = None
    outputs: tuple[Port, ...] | None = None
    operators: tuple[tuple[str, int], ...] = ()   # (operator, version), one per distinct pair
    custom_operators: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()                  # module.callable a pickle would import
    files: tuple[str, ...] = ()                    # every bundle file the artifact spans (shards)
    findings: tuple[Finding, ...] = field(default=(), compare=False)

    @property
    def parameter_count(self) -> int:
        return sum(t.elements or 0 for t in self.tensors)

    @property
    def tensor_bytes(self) -> int:
        return sum(t.nbytes or 0 for t in self.tensors)

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The distinct element (or quantisation) types, most common first."""
        counts: dict[str, int] = {}
        for tensor in self.tensors:
            counts[tensor.dtype] = counts.get(tensor.dtype, 0) + 1
        return tuple(sorted(counts, key=lambda name: (-counts[name], name)))

    def meta(self, key: str) -> str | None:
        """The metadata value stored under ``key``, if any."""
        return next((value for name, value in self.metadata if name == key), None)

    def interface(self) -> dict | None:
        """The graph's interface as the manifest writes it, or ``None`` for weights-only files."""
        if self.inputs is None or self.outputs is None:
            return None
        return {"inputs": [p.as_dict() for p in self.inputs], "outputs": [p.as_dict() for p in self.outputs]}


@dataclass(frozen=True)
class Starter:
    """What ``modelgate init --model`` writes into a new bundle for a model file."""

    variant: str | None = None                  # e.g. q4_k_m, read from the file
    interface: dict | None = None               # inputs/outputs, when the file has a graph
    license: str | None = None                  # an SPDX id the file declares
    description: str | None = None
    extra_files: tuple[Path, ...] = ()          # files that belong with the model (shards, data)


@runtime_checkable
class Format(Protocol):
    """One model format. Implementations live in ``core/formats/<name>/`` and import no other."""

    #: The values of a manifest artifact's ``format:`` this format answers to (the first is its name).
    names: tuple[str, ...]
    title: str
    #: The file name endings deployment tools expect for this format.
    suffixes: tuple[str, ...]
    #: Target runtimes that run this format (``targets[].runtime``).
    runtimes: tuple[str, ...]
    #: Loading the file runs code it contains (pickle): never loaded, and refused late in the lifecycle.
    executes_code: bool
    #: The file is checked and run by the ONNX checks (MG201-MG216) rather than by its own reader.
    onnx_checks: bool

    def detect(self, *, head: bytes, path: Path) -> bool:
        """Whether the file is in this format, judged by its content (``head`` is its first bytes)."""

    def read(self, *, path: Path, label: str) -> ModelFacts:
        """Read the header and integrity of the file at ``path`` (``label``: its name in the bundle).

        Raises :class:`FormatError` when the file cannot be read at all; integrity problems
        that still leave a readable file are in ``ModelFacts.findings``.
        """

    def companions(self, *, path: Path) -> tuple[str, ...]:
        """Names of the files beside ``path`` that belong to the same artifact (shards), cheaply."""

    def cross_check(self, *, facts: ModelFacts, manifest: Manifest) -> Iterable[Finding]:
        """Findings where the file's own metadata contradicts ``bundle.yaml`` (its typed view)."""

    def starter(self, *, path: Path, facts: ModelFacts) -> Starter:
        """What a new bundle for this file can say about it."""

    def runtime_check(self, *, path: Path) -> str | None:
        """Load the model in its runtime where one is installed: an error text, or ``None``.

        Raises :class:`RuntimeUnavailable` when no runtime for the format is installed.
        """


class RuntimeUnavailable(Exception):
    """No runtime for this format is installed; the optional runtime check is not run."""


def read_head(path: Path) -> bytes:
    """The first :data:`HEAD_BYTES` bytes of ``path`` (fewer for a short file)."""
    with open(path, "rb") as stream:
        return stream.read(HEAD_BYTES)


def single_file(*, path: Path) -> tuple[str, ...]:
    """:meth:`Format.companions` of a format whose artifact is one file."""
    return ()
