"""What changed in the ONNX graphs from one bundle (``a``) to another (``b``).

Artifacts are paired by path, then, among those left over, by variant when each side
has exactly one artifact of it (a renamed file); the rest were added or removed. For
each pair: nodes by operator type (domain-qualified outside the default domain),
parameter counts, initializers added, removed or changed (in dtype, shape or content),
opset imports per domain, IR version and producer.

Graphs are read without their external data, as :mod:`.graphinfo` reads them, and
parameter counts come from shapes. Contents are compared by SHA-256 over each
tensor's bytes: the byte range of its external-data file, read in chunks, or the data
the graph holds inline. A model of many gigabytes is never loaded to be compared; its
weights are streamed through the hash once. onnx is imported inside the functions.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

from modelgate.core.formats.onnx import load as onnxload
from modelgate.core.bundle.reader import Bundle
from modelgate.core.errors import BundleError, OperationCancelled
from modelgate.core.bundle.manifest_types import Manifest, typed_manifest
from modelgate.core.progress import Progress

#: Bytes read from an external-data file at a time.
CHUNK = 1 << 20


@dataclass(frozen=True)
class OpCount:
    """How many nodes of one operator type each side has; only types whose count differs."""

    op: str
    a: int
    b: int

    @property
    def change(self) -> str:
        return "added" if not self.a else "removed" if not self.b else "changed"


@dataclass(frozen=True)
class TensorFacts:
    """An initializer's element type and dimensions."""

    dtype: str
    shape: tuple[int, ...]

    def describe(self) -> str:
        return f"{self.dtype}[{', '.join(str(d) for d in self.shape)}]"


@dataclass(frozen=True)
class InitializerChange:
    """An initializer ``added``, ``removed`` or ``changed``; ``differs`` names what changed:
    ``dtype``, ``shape`` or, with both the same, ``content``."""

    name: str
    change: str
    a: TensorFacts | None
    b: TensorFacts | None
    differs: tuple[str, ...] = ()

    def describe(self) -> str:
        """E.g. ``"W1: shape [12, 16] -> [12, 32]"`` or ``"B1: content"``."""
        if self.change != "changed":
            return f"{self.name} {self.change} ({(self.b or self.a).describe()})"
        parts = []
        if "dtype" in self.differs:
            parts.append(f"dtype {self.a.dtype} -> {self.b.dtype}")
        if "shape" in self.differs:
            parts.append(f"shape {list(self.a.shape)} -> {list(self.b.shape)}")
        if "content" in self.differs:
            parts.append("content")
        return f"{self.name}: {', '.join(parts)}"


@dataclass(frozen=True)
class ArtifactDiff:
    """One ONNX artifact of ``a`` beside its counterpart in ``b``; pairs are ``(a, b)``.

    A side that lacks the artifact (or cannot read it) has ``None`` for its path, or
    ``problem`` says why; counts of a missing side are 0.
    """

    path_a: str | None
    path_b: str | None
    variant: str
    ir_version: tuple[int | None, int | None] = (None, None)
    producer: tuple[str | None, str | None] = (None, None)
    opsets: tuple[tuple[str, int | None, int | None], ...] = ()   # every domain either side imports
    nodes: tuple[int, int] = (0, 0)
    ops: tuple[OpCount, ...] = ()
    parameters: tuple[int, int] = (0, 0)
    initializer_count: tuple[int, int] = (0, 0)
    initializers: tuple[InitializerChange, ...] = ()
    not_compared: tuple[str, ...] = ()      # initializers whose contents could not be read, and why
    problem: str | None = None

    @property
    def path(self) -> str:
        return self.path_b or self.path_a or ""

    @property
    def change(self) -> str:
        """``added``, ``removed`` or ``compared``."""
        return "added" if self.path_a is None else "removed" if self.path_b is None else "compared"

    @property
    def title(self) -> str:
        """The artifact's path, ``a -> b`` when it was renamed."""
        if self.path_a and self.path_b and self.path_a != self.path_b:
            return f"{self.path_a} -> {self.path_b}"
        return self.path

    @property
    def opset_changes(self) -> tuple[tuple[str, int | None, int | None], ...]:
        return tuple(entry for entry in self.opsets if entry[1] != entry[2])

    @property
    def changed(self) -> bool:
        """Whether anything this diff looks at differs."""
        return (self.change != "compared" or self.problem is not None or bool(self.ops or self.initializers)
                or bool(self.opset_changes) or self.parameters[0] != self.parameters[1]
                or self.ir_version[0] != self.ir_version[1] or self.producer[0] != self.producer[1])

    def as_dict(self) -> dict:
        pair = lambda values: {"a": values[0], "b": values[1]}  # noqa: E731
        facts = lambda t: None if t is None else {"dtype": t.dtype, "shape": list(t.shape)}  # noqa: E731
        return {
            "path": self.path, "a_path": self.path_a, "b_path": self.path_b, "variant": self.variant,
            "change": self.change, "changed": self.changed, "problem": self.problem,
            "ir_version": pair(self.ir_version), "producer": pair(self.producer),
            "opsets": [{"domain": d or "ai.onnx", "a": a, "b": b} for d, a, b in self.opsets],
            "nodes": pair(self.nodes), "parameters": pair(self.parameters),
            "initializer_count": pair(self.initializer_count),
            "ops": [{"op": o.op, "a": o.a, "b": o.b, "change": o.change} for o in self.ops],
            "initializers": [{"name": i.name, "change": i.change, "differs": list(i.differs),
                              "a": facts(i.a), "b": facts(i.b)} for i in self.initializers],
            "not_compared": list(self.not_compared),
        }


def describe_pair(values: tuple) -> str:
    """``a → b (+d)`` for two counts, ``a → b`` for two texts, ``a (unchanged)`` when both are equal."""
    a, b = values
    if a == b:
        return f"{a:,} (unchanged)" if isinstance(a, int) else f"{a if a is not None else '—'} (unchanged)"
    if isinstance(a, int) and isinstance(b, int):
        return f"{a:,} → {b:,} ({b - a:+,})"
    return f"{a if a is not None else '—'} → {b if b is not None else '—'}"


# ----------------------------------------------------------------------------- pairing

def _onnx_artifacts(manifest: dict | Manifest) -> list[tuple[str, str]]:
    """``(path, variant)`` of every ONNX artifact the manifest lists, once each.

    ``manifest`` is the typed manifest, or a parsed one that is read through it.
    """
    typed = manifest if isinstance(manifest, Manifest) else typed_manifest(manifest)
    found: dict[str, str] = {}
    for artifact in typed.artifacts:
        if artifact.path is not None and artifact.format in (None, "onnx"):
            found.setdefault(artifact.path, artifact.variant or "")
    return list(found.items())


def pair_artifacts(manifest_a: dict, manifest_b: dict) -> list[tuple[str | None, str | None, str]]:
    """``(path in a, path in b, variant)`` for each artifact; ``None`` where a side lacks it."""
    left, right = _onnx_artifacts(manifest_a), _onnx_artifacts(manifest_b)
    variants_b = dict(right)
    partner = {path: path for path, _ in left if path in variants_b}
    rest_a = [(p, v) for p, v in left if p not in partner]
    rest_b = [(p, v) for p, v in right if p not in partner.values()]
    for path, variant in rest_a:
        same_a = [p for p, v in rest_a if v == variant]
        same_b = [p for p, v in rest_b if v == variant]
        if variant and len(same_a) == 1 and len(same_b) == 1:   # one file renamed, nothing ambiguous
            partner[path] = same_b[0]
    paired = [(path, partner.get(path), variants_b.get(partner.get(path), variant)) for path, variant in left]
    return paired + [(None, path, variant) for path, variant in right if path not in partner.values()]


# ----------------------------------------------------------------------------- contents

class _Side:
    """One bundle's artifact: its graph header, summary and the bundle's files."""

    def __init__(self, bundle: Bundle, path: str) -> None:
        from modelgate.core.formats.onnx.graph_info import summarise_model
        from modelgate.core.formats.onnx.info import load_header

        self.bundle, self.path = bundle, path
        if path not in bundle.files():
            raise BundleError(f"{path} is listed in bundle.yaml but is not in the bundle")
        self.model = load_header(bundle.resolve(path))
        self.summary = summarise_model(bundle, path, self.model)
        self.files = set(bundle.content_files())
        self.tensors = {tensor.name: tensor for tensor in self.model.graph.initializer}

    def external_range(self, tensor) -> tuple[str, int, int | None] | str:
        """``(file, offset, length or None)`` of an external tensor's bytes, or why they cannot be read."""
        fields = {entry.key: entry.value for entry in tensor.external_data}
        location = fields.get("location")
        reason = "has no location" if location is None else onnxload.unsafe_location(location)
        if reason is not None:
            return f"its external data location {reason}"
        relative = posixpath.normpath(posixpath.join(posixpath.dirname(self.path), location))
        if relative not in self.files:
            return f"its external data file {relative} is not in the bundle"
        numbers = [fields.get(key) for key in ("offset", "length")]
        if any(n is not None and not (n.isascii() and n.isdigit()) for n in numbers):
            return "its external data offset or length is not a whole number"
        return relative, int(numbers[0] or 0), None if numbers[1] is None else int(numbers[1])

    def size_to_hash(self, tensor) -> int:
        if not _external(tensor):
            return len(tensor.raw_data) or tensor.ByteSize()
        where = self.external_range(tensor)
        if isinstance(where, str):
            return 0
        relative, offset, length = where
        return length if length is not None else max(0, self.bundle.size(relative) - offset)

    def digest(self, tensor, progress: Progress) -> tuple[str | None, str | None]:
        """``(sha256 of the tensor's bytes, None)`` or ``(None, why it cannot be read)``."""
        sha = hashlib.sha256()
        if not _external(tensor):
            sha.update(tensor.raw_data if tensor.raw_data else _typed_bytes(tensor))
            progress.advance(len(tensor.raw_data) or tensor.ByteSize())
            return sha.hexdigest(), None
        where = self.external_range(tensor)
        if isinstance(where, str):
            return None, where
        relative, offset, length = where
        remaining = length
        with open(self.bundle.resolve(relative), "rb") as handle:
            handle.seek(offset)
            while remaining is None or remaining > 0:
                chunk = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    break
                sha.update(chunk)
                progress.advance(len(chunk))
                if remaining is not None:
                    remaining -= len(chunk)
        if remaining:
            return None, f"{relative} ends before the {length} bytes its external data names"
        return sha.hexdigest(), None


def _external(tensor) -> bool:
    from onnx import TensorProto

    return tensor.HasField("data_location") and tensor.data_location == TensorProto.EXTERNAL


def _typed_bytes(tensor) -> bytes:
    """The values of a tensor kept in typed fields (``float_data``...), as raw bytes."""
    from onnx import TensorProto, numpy_helper

    if tensor.data_type == TensorProto.STRING:
        return b"".join(len(s).to_bytes(8, "little") + s for s in tensor.string_data)
    import numpy as np

    return np.ascontiguousarray(numpy_helper.to_array(tensor)).tobytes()


def _facts(tensor) -> TensorFacts:
    from modelgate.core.formats.onnx.info import dtype_name

    return TensorFacts(dtype_name(tensor.data_type), tuple(int(d) for d in tensor.dims))


# ----------------------------------------------------------------------------- diffing

def _initializers(a: _Side, b: _Side, progress: Progress):
    changes, unreadable, pending = [], [], []
    for name in [*b.tensors, *(n for n in a.tensors if n not in b.tensors)]:
        old, new = a.tensors.get(name), b.tensors.get(name)
        if old is None or new is None:
            changes.append(InitializerChange(name, "added" if old is None else "removed",
                                             None if old is None else _facts(old),
                                             None if new is None else _facts(new)))
            continue
        before, after = _facts(old), _facts(new)
        differs = tuple(what for what in ("dtype", "shape") if getattr(before, what) != getattr(after, what))
        if differs:
            changes.append(InitializerChange(name, "changed", before, after, differs))
        else:
            pending.append((name, old, new, before, after))
    progress.start(label=f"comparing the weights of {b.path}",
                   total=sum(a.size_to_hash(old) + b.size_to_hash(new) for _, old, new, _, _ in pending))
    for name, old, new, before, after in pending:
        (left, why_a), (right, why_b) = a.digest(old, progress), b.digest(new, progress)
        if left is None or right is None:
            unreadable.append(f"{name}: {why_a or why_b}")
        elif left != right:
            changes.append(InitializerChange(name, "changed", before, after, ("content",)))
    order = {name: index for index, name in enumerate([*b.tensors, *a.tensors])}
    return tuple(sorted(changes, key=lambda c: order[c.name])), tuple(unreadable)


def _ops(a, b) -> tuple[OpCount, ...]:
    old, new = dict(a.op_counts), dict(b.op_counts)
    names = [*new, *(op for op in old if op not in new)]
    return tuple(OpCount(op, old.get(op, 0), new.get(op, 0)) for op in names if old.get(op, 0) != new.get(op, 0))


def _opsets(a, b) -> tuple[tuple[str, int | None, int | None], ...]:
    canonical = lambda domain: "" if domain == "ai.onnx" else domain  # noqa: E731
    old = {canonical(d): v for d, v in a.opsets}
    new = {canonical(d): v for d, v in b.opsets}
    return tuple((d, old.get(d), new.get(d)) for d in [*old, *(d for d in new if d not in old)])


def _diff_pair(bundle_a: Bundle, path_a: str, bundle_b: Bundle, path_b: str, variant: str,
               progress: Progress) -> ArtifactDiff:
    a, b = _Side(bundle_a, path_a), _Side(bundle_b, path_b)
    sa, sb = a.summary, b.summary
    changes, unreadable = _initializers(a, b, progress)
    return ArtifactDiff(
        path_a, path_b, variant, ir_version=(sa.ir_version, sb.ir_version), producer=(sa.producer, sb.producer),
        opsets=_opsets(sa, sb), nodes=(sa.node_count, sb.node_count), ops=_ops(sa, sb),
        parameters=(sa.parameter_count, sb.parameter_count),
        initializer_count=(sa.initializer_count, sb.initializer_count),
        initializers=changes, not_compared=unreadable)


def _one_side(bundle: Bundle, path: str, variant: str, *, in_a: bool) -> ArtifactDiff:
    summary = _Side(bundle, path).summary
    pair = lambda value: (value, None) if in_a else (None, value)  # noqa: E731
    count = lambda value: (value, 0) if in_a else (0, value)  # noqa: E731
    return ArtifactDiff(path if in_a else None, None if in_a else path, variant,
                        ir_version=pair(summary.ir_version), producer=pair(summary.producer),
                        opsets=tuple((d, *pair(v)) for d, v in summary.opsets),
                        nodes=count(summary.node_count), parameters=count(summary.parameter_count),
                        initializer_count=count(summary.initializer_count))


def diff_graphs(*, a: Bundle, manifest_a: dict, b: Bundle, manifest_b: dict,
                progress: Progress | None = None) -> tuple[ArtifactDiff, ...]:
    """What changed in each ONNX artifact from bundle ``a`` to bundle ``b`` (see the module doc).

    An artifact that cannot be read gets a ``problem`` instead of counts; cancellation
    through ``progress`` raises :class:`~modelgate.core.errors.OperationCancelled`.
    """
    progress = progress or Progress()
    diffs = []
    for path_a, path_b, variant in pair_artifacts(manifest_a, manifest_b):
        progress.check()
        try:
            if path_a is not None and path_b is not None:
                diffs.append(_diff_pair(a, path_a, b, path_b, variant, progress))
            else:
                diffs.append(_one_side(a if path_b is None else b, path_a or path_b, variant,
                                       in_a=path_b is None))
        except OperationCancelled:
            raise
        except BundleError as error:
            diffs.append(ArtifactDiff(path_a, path_b, variant, problem=error.message))
        except OSError as error:
            diffs.append(ArtifactDiff(path_a, path_b, variant, problem=f"{error.strerror or error}"))
        except Exception as error:  # onnx raises DecodeError, ValueError...: reported, not raised
            diffs.append(ArtifactDiff(path_a, path_b, variant, problem=f"not a readable ONNX model: "
                                      f"{error.__class__.__name__}: {error}"))
    return tuple(diffs)
