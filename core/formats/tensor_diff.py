"""Champion against challenger, tensor by tensor, for artifacts in any format but ONNX.

ONNX artifacts have their graph diff (core/formats/onnx/graph_diff.py). For the other
formats the artifacts are paired by variant and their tensors by name: what was added or
removed, reshaped, or stored in another type (re-quantised), and how the parameter count
moved. Only headers are read; a pickle is scanned, never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgate.core.bundle.manifest_types import Manifest
from modelgate.core.bundle.reader import Bundle
from modelgate.core.formats import registry
from modelgate.core.formats.describe import read_artifact
from modelgate.core.formats.interface import ModelFacts, TensorInfo

#: Changes listed per artifact; the counts always cover all of them.
MAX_CHANGES = 200


@dataclass(frozen=True)
class TensorChange:
    name: str
    change: str                 # "added", "removed", "reshaped", "re-quantised"
    a: TensorInfo | None
    b: TensorInfo | None

    def describe(self) -> str:
        show = lambda t: f"{t.dtype}[{', '.join(str(d) for d in t.shape)}]"  # noqa: E731
        if self.a is None or self.b is None:
            return f"{self.name} {self.change} ({show(self.a or self.b)})"
        return f"{self.name} {self.change}: {show(self.a)} -> {show(self.b)}"


@dataclass(frozen=True)
class ModelDiff:
    """One pair of artifacts (by variant): their tensor changes and parameter counts."""

    variant: str
    path_a: str | None
    path_b: str | None
    parameters: tuple[int | None, int | None]
    changes: tuple[TensorChange, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()      # (change, how many), all of them
    problem: str | None = None

    @property
    def title(self) -> str:
        return f"{self.variant or '?'} ({self.path_b or self.path_a})"

    def as_dict(self) -> dict:
        return {"variant": self.variant, "a": self.path_a, "b": self.path_b,
                "parameters": {"a": self.parameters[0], "b": self.parameters[1]},
                "counts": dict(self.counts), "problem": self.problem,
                "changes": [{"name": c.name, "change": c.change, "description": c.describe()} for c in self.changes]}


def _artifacts(bundle: Bundle, manifest: Manifest) -> dict[str, str]:
    files, found = set(bundle.files()), {}
    for artifact in manifest.artifacts:
        fmt = registry.by_name(artifact.format)
        if artifact.path in files and fmt is not None and not fmt.onnx_checks:
            found.setdefault(artifact.variant or "", artifact.path)
    return found


def _facts(bundle: Bundle, path: str | None, manifest: Manifest) -> tuple[ModelFacts | None, str | None]:
    if path is None:
        return None, None
    declared = next((a.format for a in manifest.artifacts if a.path == path), None)
    facts, found = read_artifact(bundle=bundle, path=path, declared=declared)
    return facts, None if facts is not None else (found[-1].message if found else f"{path} cannot be read")


def tensor_changes(a: ModelFacts, b: ModelFacts) -> list[TensorChange]:
    """Every tensor added, removed, reshaped or re-quantised from ``a`` to ``b``."""
    left, right = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
    changes = [TensorChange(name, "removed", left[name], None) for name in left if name not in right]
    changes += [TensorChange(name, "added", None, right[name]) for name in right if name not in left]
    for name in left.keys() & right.keys():
        old, new = left[name], right[name]
        if old.shape != new.shape:
            changes.append(TensorChange(name, "reshaped", old, new))
        elif old.dtype != new.dtype:
            changes.append(TensorChange(name, "re-quantised", old, new))
    return sorted(changes, key=lambda c: (c.change, c.name))


def _format_of(manifest: Manifest, path: str) -> str | None:
    return next((a.format for a in manifest.artifacts if a.path == path), None)


def _pairs(left: dict[str, str], manifest_a: Manifest, right: dict[str, str],
           manifest_b: Manifest) -> list[tuple[str, str | None, str | None]]:
    """(variant, path in A, path in B), paired by variant. A release that re-quantises its one
    model (q8_0 to q4_k_m) changes the variant too, so when exactly one artifact of the same
    format is left on each side, those two are paired ("q8_0 → q4_k_m")."""
    only_a, only_b = sorted(left.keys() - right.keys()), sorted(right.keys() - left.keys())
    pairs = [(variant, left[variant], right[variant]) for variant in left.keys() & right.keys()]
    if len(only_a) == 1 and len(only_b) == 1 and \
            _format_of(manifest_a, left[only_a[0]]) == _format_of(manifest_b, right[only_b[0]]):
        pairs.append((f"{only_a[0]} → {only_b[0]}", left[only_a[0]], right[only_b[0]]))
    else:
        pairs += [(variant, left.get(variant), right.get(variant)) for variant in only_a + only_b]
    return sorted(pairs)


def diff_models(*, a: Bundle, manifest_a: Manifest, b: Bundle, manifest_b: Manifest) -> tuple[ModelDiff, ...]:
    """The tensor-level differences of every non-ONNX artifact, paired by variant (see :func:`_pairs`)."""
    diffs = []
    for variant, path_a, path_b in _pairs(_artifacts(a, manifest_a), manifest_a, _artifacts(b, manifest_b),
                                          manifest_b):
        facts_a, problem_a = _facts(a, path_a, manifest_a)
        facts_b, problem_b = _facts(b, path_b, manifest_b)
        parameters = (facts_a.parameter_count if facts_a else None, facts_b.parameter_count if facts_b else None)
        problem = problem_a or problem_b
        if facts_a is None or facts_b is None:
            diffs.append(ModelDiff(variant, path_a, path_b, parameters, problem=problem))
            continue
        changes = tensor_changes(facts_a, facts_b)
        counts: dict[str, int] = {}
        for change in changes:
            counts[change.change] = counts.get(change.change, 0) + 1
        diffs.append(ModelDiff(variant, path_a, path_b, parameters, tuple(changes[:MAX_CHANGES]),
                               tuple(sorted(counts.items()))))
    return tuple(diffs)
