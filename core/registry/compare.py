"""Champion/challenger comparison of two stored versions: metrics, interface, license, targets.

``a`` is the champion (the baseline) and ``b`` the challenger, so every change
reads "from a to b" and metric deltas are ``b - a``. Metrics are paired and judged
by :func:`modelgate.core.regression.compare`, the code ``validate --champion``
uses, so the numbers match the gate's. The interface is each manifest's declared
``interface`` (the contract the MG2xx checks hold the ONNX graph to); a manifest
without one falls back to the graph of its first ONNX artifact. Nothing here
writes to the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelgate.core.regression import Comparison as MetricsComparison

COMPARE_FORMAT = "modelgate.compare/v1"


@dataclass(frozen=True)
class Side:
    """One of the two versions compared."""

    name: str
    version: str
    stage: str
    digest: str
    license: str | None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


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
        parts = [f"{what} {_show(getattr(self.a, what))} -> {_show(getattr(self.b, what))}"
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
        changes = (f"{key} {_show(a)} -> {_show(b)}" for key, a, b in self.fields)
        return f"target {self.name}: " + ", ".join(changes)


@dataclass(frozen=True)
class Comparison:
    """Everything that differs between champion ``a`` and challenger ``b``."""

    a: Side
    b: Side
    metrics: MetricsComparison
    interface: tuple[TensorChange, ...]
    targets: tuple[TargetChange, ...]
    problems: tuple[str, ...] = ()  # benchmark or model files that could not be read

    @property
    def license_changed(self) -> bool:
        return self.a.license != self.b.license

    def as_dict(self) -> dict:
        """The JSON form (``modelgate.compare/v1``) printed by ``modelgate compare --json``."""
        side = lambda s: {"name": s.name, "version": s.version, "stage": s.stage,  # noqa: E731
                          "digest": s.digest, "license": s.license}
        tensor = lambda t: None if t is None else {"dtype": t.dtype, "shape": _plain(t.shape)}  # noqa: E731
        key = lambda r: {"dataset": r.dataset, "split": r.split,  # noqa: E731
                         "metric": r.metric, "target": r.target}
        return {
            "format": COMPARE_FORMAT,
            "a": side(self.a), "b": side(self.b),
            "license": {"a": self.a.license, "b": self.b.license, "changed": self.license_changed},
            "metrics": [{**key(m), "a": m.champion, "b": m.challenger, "higher_is_better": m.higher_is_better,
                         "absolute_delta": m.absolute_delta, "relative_delta": m.relative_delta,
                         "verdict": m.verdict.value, "exceeded": list(m.exceeded)}
                        for m in self.metrics.metrics],
            "only_in_a": [{**key(r), "value": r.value} for r in self.metrics.champion_only],
            "only_in_b": [{**key(r), "value": r.value} for r in self.metrics.challenger_only],
            "direction_conflicts": [key(new) for new, _old in self.metrics.direction_conflicts],
            "interface": [{"kind": c.kind, "name": c.name, "change": c.change, "a": tensor(c.a),
                           "b": tensor(c.b), "description": c.describe()} for c in self.interface],
            "targets": [{"name": t.name, "change": t.change, "description": t.describe(),
                         "fields": [{"field": k, "a": _plain(a), "b": _plain(b)} for k, a, b in t.fields]}
                        for t in self.targets],
            "problems": list(self.problems),
        }


def _show(value) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "none" if value is None else str(value)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _tensors(items) -> dict[str, Tensor]:
    found: dict[str, Tensor] = {}
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            shape = item.get("shape")
            found.setdefault(item["name"], Tensor(item["name"], item.get("dtype"),
                                                  tuple(shape) if isinstance(shape, list) else None))
    return found


def _interface(bundle, manifest: dict, problems: list[str], label: str) -> dict[str, dict[str, Tensor]]:
    declared = manifest.get("interface")
    if isinstance(declared, dict) and (declared.get("inputs") or declared.get("outputs")):
        return {"input": _tensors(declared.get("inputs")),
                "output": _tensors(declared.get("outputs"))}
    files = set(bundle.files())
    for artifact in manifest.get("artifacts") or []:
        path = artifact.get("path") if isinstance(artifact, dict) else None
        if isinstance(path, str) and path in files and path.endswith(".onnx"):
            from modelgate.core.onnxinfo import graph_interface, load_header

            try:
                graph = graph_interface(load_header(bundle.resolve(path)))
            except Exception as error:  # an unreadable model is reported, not raised
                problems.append(f"{label}: {path} could not be read: {error}")
                break
            return {"input": _tensors(graph["inputs"]), "output": _tensors(graph["outputs"])}
    return {"input": {}, "output": {}}


def _read(path, label: str, problems: list[str]):
    from modelgate.core.benchmarks import load_results
    from modelgate.core.bundle import open_bundle
    from modelgate.core.manifest import load_manifest

    with open_bundle(path) as bundle:
        manifest = load_manifest(bundle).data
        if not isinstance(manifest, dict):
            problems.append(f"{label}: bundle.yaml could not be read")
            manifest = {}
        results, trouble = load_results(bundle, manifest)
        problems.extend(f"{label}: {p.message}" for p in trouble)
        return manifest, results, _interface(bundle, manifest, problems, label)


def _interface_changes(a: dict, b: dict) -> tuple[TensorChange, ...]:
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


def _targets(manifest: dict) -> dict[str, dict]:
    items = manifest.get("targets")
    return {t["name"]: t for t in items if isinstance(t, dict) and isinstance(t.get("name"), str)} \
        if isinstance(items, list) else {}


def _target_changes(a: dict, b: dict) -> tuple[TargetChange, ...]:
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


def compare(registry, *, a: tuple[str, str], b: tuple[str, str],
            regression: Mapping | None = None) -> Comparison:
    """Compare champion ``a`` with challenger ``b``, each ``(name, version)``, as stored.

    ``regression`` is a stage's ``regression`` policy mapping; with it each metric's
    verdict says whether its loss is within the limits (without it, losses are
    ``no_limit``). Raises :class:`~modelgate.core.registry.errors.NotFound` for an
    unknown version.
    """
    from modelgate.core.regression import compare as compare_metrics
    from modelgate.core.registry.queries import get_version

    sides, paths = [], []
    with registry.session(write=False) as session:
        for name, version in (a, b):
            row = get_version(session, name=name, version=version)
            sides.append(Side(name, version, row.stage, row.digest, row.license))
            paths.append(registry.store.path_of(row.store_path))
    problems: list[str] = []
    (manifest_a, results_a, face_a), (manifest_b, results_b, face_b) = (
        _read(path, side.label, problems) for path, side in zip(paths, sides))
    return Comparison(
        a=sides[0], b=sides[1],
        metrics=compare_metrics(results_b, results_a, regression),
        interface=_interface_changes(face_a, face_b),
        targets=_target_changes(_targets(manifest_a), _targets(manifest_b)),
        problems=tuple(problems),
    )
