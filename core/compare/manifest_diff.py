"""What changed between two manifests: the interface (inputs and outputs) and the targets.

The interface is each manifest's declared ``interface`` (the contract the MG2xx checks
hold the ONNX graph to); a manifest without one falls back to the graph of its first
ONNX artifact. Every change reads "from a to b".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelgate.core.bundle.reader import Bundle
from modelgate.core.bundle.manifest_types import Manifest


@dataclass(frozen=True)
class Tensor:
    """One input or output: its dtype and shape (ints or symbolic names) as declared."""

    name: str
    dtype: str | None
    shape: tuple | None


@dataclass(frozen=True)
class TensorChange:
    """An input or output that was ``added``, ``removed`` or ``changed`` (dtype or shape)."""

    kind: str  # "input" or "output"
    name: str
    change: str
    a: Tensor | None
    b: Tensor | None

    def describe(self) -> str:
        """E.g. ``"input features: shape [batch, 4] -> [batch, 8]"``."""
        text = f"{self.kind} {self.name}"
        if self.change != "changed":
            return f"{text} {self.change}"
        parts = [f"{what} {show(getattr(self.a, what))} -> {show(getattr(self.b, what))}"
                 for what in ("dtype", "shape") if getattr(self.a, what) != getattr(self.b, what)]
        return f"{text}: {', '.join(parts)}"


@dataclass(frozen=True)
class TargetChange:
    """A deployment target ``added``, ``removed`` or ``changed``; ``fields`` are (key, a, b)."""

    name: str
    change: str
    fields: tuple[tuple[str, Any, Any], ...] = ()

    def describe(self) -> str:
        if self.change != "changed":
            return f"target {self.name} {self.change}"
        changes = (f"{key} {show(a)} -> {show(b)}" for key, a, b in self.fields)
        return f"target {self.name}: " + ", ".join(changes)


def show(value) -> str:
    """A value as a change describes it: lists in brackets, ``none`` for nothing."""
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "none" if value is None else str(value)


def plain(value):
    """A tuple as a JSON list; anything else as it is."""
    return list(value) if isinstance(value, tuple) else value


def _tensors(items) -> dict[str, Tensor]:
    """Graph ports (plain mappings from :func:`~modelgate.core.formats.onnx.info.graph_interface`) by name."""
    found: dict[str, Tensor] = {}
    for item in items:
        shape = item.get("shape")
        found.setdefault(item["name"], Tensor(item["name"], item.get("dtype"),
                                              tuple(shape) if isinstance(shape, list) else None))
    return found


def _declared(tensors) -> dict[str, Tensor]:
    """The manifest's typed tensors that have a name, by name (the first of a repeated name)."""
    found: dict[str, Tensor] = {}
    for tensor in tensors:
        if tensor.name is not None:
            found.setdefault(tensor.name, Tensor(tensor.name, tensor.dtype, tensor.shape))
    return found


def interface_of(bundle: Bundle, manifest: Manifest, problems: list[str], label: str) -> dict[str, dict[str, Tensor]]:
    """``{"input": {name: Tensor}, "output": {...}}`` as declared, else as the first graph has it.

    ``manifest`` is the typed manifest. A graph that cannot be read adds a line naming
    ``label`` to ``problems``.
    """
    declared = manifest.interface
    if declared.inputs or declared.outputs:
        return {"input": _declared(declared.inputs), "output": _declared(declared.outputs)}
    files = set(bundle.files())
    for artifact in manifest.artifacts:
        path = artifact.path
        if path is not None and path in files:
            from modelgate.core.formats.describe import read_artifact

            facts, found = read_artifact(bundle=bundle, path=path, declared=artifact.format)
            if facts is None:  # an unreadable model is reported, not raised
                reason = found[-1].message if found else "not a model file"
                problems.append(f"{label}: {path} could not be read: {reason}")
                break
            graph = facts.interface()
            if graph is None:
                continue  # a weights-only file states no interface; another artifact may
            return {"input": _tensors(graph["inputs"]), "output": _tensors(graph["outputs"])}
    return {"input": {}, "output": {}}


def interface_changes(a: dict, b: dict) -> tuple[TensorChange, ...]:
    """Inputs, then outputs, added, removed or changed from interface ``a`` to ``b``."""
    changes = []
    for kind in ("input", "output"):
        old, new = a[kind], b[kind]
        for name in [*old, *(n for n in new if n not in old)]:
            before, after = old.get(name), new.get(name)
            if before is None or after is None:
                change = "added" if before is None else "removed"
                changes.append(TensorChange(kind, name, change, before, after))
            elif (before.dtype, before.shape) != (after.dtype, after.shape):
                changes.append(TensorChange(kind, name, "changed", before, after))
    return tuple(changes)


def targets_of(manifest: Manifest) -> dict[str, dict]:
    """The typed manifest's targets by name, each as the fields it gives."""
    return {t.name: t.as_dict() for t in manifest.targets if t.name is not None}


def target_changes(a: dict, b: dict) -> tuple[TargetChange, ...]:
    """Targets added, removed or changed (field by field) from ``a`` to ``b`` (see :func:`targets_of`)."""
    changes = []
    for name in [*a, *(n for n in b if n not in a)]:
        if name not in b or name not in a:
            changes.append(TargetChange(name, "removed" if name not in b else "added"))
            continue
        keys = [k for k in a[name] if k != "name"] + [k for k in b[name] if k not in a[name]]
        fields = tuple((k, a[name].get(k), b[name].get(k)) for k in keys if a[name].get(k) != b[name].get(k))
        if fields:
            changes.append(TargetChange(name, "changed", fields))
    return tuple(changes)
