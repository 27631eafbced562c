"""Champion/challenger comparison of two stored versions: what changed from one to the other.

``a`` is the champion (the baseline) and ``b`` the challenger, so every change reads
"from a to b" and metric deltas are ``b - a``. Both are judged for one stage (by
default the challenger's next one on its way to production) under the registry's
policy in force. Metrics are paired and judged by :func:`modelgate.core.benchmarks.regression.compare`
under that stage's regression limits, the code ``validate --champion`` uses, so the
numbers match the gate's. The interface and targets come from the manifests
(:mod:`modelgate.core.compare.manifest_diff`), the graph changes from the ONNX artifacts
(:mod:`modelgate.core.formats.onnx.graph_diff`), and the findings only one side has from validating
both (:mod:`.compare_findings`).

Comparing takes two steps, so an app can run each on its own thread:
:func:`plan_comparison` reads the registry in one read-only transaction, and
:func:`run_comparison` reads (and validates) the stored bundles, with no database.
:func:`compare` does both. Nothing here writes to the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from dataclasses import dataclass
from pathlib import Path

from modelgate.core.errors import UsageError
from modelgate.core.formats.onnx.graph_diff import ArtifactDiff
from modelgate.core.formats.tensor_diff import ModelDiff
from modelgate.core.compare.manifest_diff import Tensor, TargetChange, TensorChange, plain
from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.registry.compare_findings import FindingsComparison, PendingJudgement
from modelgate.core.benchmarks.regression import Comparison as MetricsComparison

COMPARE_FORMAT = "modelgate.compare/v1"
__all__ = ["COMPARE_FORMAT", "ComparePlan", "Comparison", "Side", "TargetChange", "Tensor", "TensorChange",
           "champion_for", "compare", "plan_comparison", "run_comparison"]


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
class Comparison:
    """Everything that differs between champion ``a`` and challenger ``b``."""

    a: Side
    b: Side
    metrics: MetricsComparison
    interface: tuple[TensorChange, ...]
    targets: tuple[TargetChange, ...]
    problems: tuple[str, ...] = ()  # benchmark or model files that could not be read
    graphs: tuple[ArtifactDiff, ...] = ()
    models: tuple[ModelDiff, ...] = ()           # tensor-level diffs of the non-ONNX artifacts
    findings: FindingsComparison | None = None   # None when the findings were not compared
    stage: str | None = None                     # the stage both were judged for
    policy_name: str | None = None

    @property
    def license_changed(self) -> bool:
        return self.a.license != self.b.license

    def highlights(self) -> list[str]:
        """What changed, in a few short lines a reviewer reads first (empty when nothing did)."""
        from modelgate.core.findings import Severity
        from modelgate.core.benchmarks.regression import Verdict

        lines, metrics = [], self.metrics.metrics
        for verdict, words in ((Verdict.EXCEEDS_LIMIT, "worse than allowed"), (Verdict.IMPROVED, "better")):
            named = sorted({m.metric for m in metrics if m.verdict is verdict})
            if named:
                lines.append(f"{words}: {', '.join(named)}")
        if self.interface:
            lines.append(f"{len(self.interface)} input/output change(s)")
        for artifact in self.graphs:
            if artifact.problem or artifact.change != "compared":
                lines.append(f"{artifact.title}: {'not compared' if artifact.problem else artifact.change}")
            elif artifact.changed:
                what = ([f"{len(artifact.initializers)} initializer(s)"] if artifact.initializers else []) + \
                       (["operators"] if artifact.ops else []) + (["opsets"] if artifact.opset_changes else [])
                lines.append(f"{artifact.title}: {', '.join(what) or 'IR version or producer'} changed")
        for model in self.models:
            if model.problem or model.path_a is None or model.path_b is None:
                lines.append(f"{model.title}: {'not compared' if model.problem else 'only on one side'}")
            elif model.counts or model.parameters[0] != model.parameters[1]:
                counts = ", ".join(f"{count} tensor(s) {change}" for change, count in model.counts)
                lines.append(f"{model.title}: {counts or 'tensors unchanged'}; parameters "
                             f"{model.parameters[0]:,} -> {model.parameters[1]:,}")
        if self.license_changed:
            lines.append(f"license {self.a.license} -> {self.b.license}")
        if self.targets:
            lines.append(f"{len(self.targets)} target change(s)")
        if self.findings is not None:
            for side, rows in (("new in B", self.findings.only_in_b), ("gone in B", self.findings.only_in_a)):
                errors = sum(1 for f in rows if f.severity is Severity.ERROR)
                if errors:
                    lines.append(f"{errors} error finding(s) {side}")
        return lines

    def as_dict(self) -> dict:
        """The JSON form (``modelgate.compare/v1``) printed by ``modelgate compare --json``."""
        side = lambda s: {"name": s.name, "version": s.version, "stage": s.stage,  # noqa: E731
                          "digest": s.digest, "license": s.license}
        tensor = lambda t: None if t is None else {"dtype": t.dtype, "shape": plain(t.shape)}  # noqa: E731
        key = lambda r: {"dataset": r.dataset, "split": r.split,  # noqa: E731
                         "metric": r.metric, "target": r.target}
        return {
            "format": COMPARE_FORMAT,
            "a": side(self.a), "b": side(self.b),
            "stage": self.stage, "policy": self.policy_name, "highlights": self.highlights(),
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
                         "fields": [{"field": k, "a": plain(a), "b": plain(b)} for k, a, b in t.fields]}
                        for t in self.targets],
            "graphs": [artifact.as_dict() for artifact in self.graphs],
            "models": [model.as_dict() for model in self.models],
            "findings": self.findings.as_dict() if self.findings is not None else None,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class ComparePlan:
    """What :func:`run_comparison` needs, read from the registry by :func:`plan_comparison`."""

    a: Side
    b: Side
    paths: tuple[Path, Path]            # the stored bundles
    policy: Policy
    stage: str
    regression: Mapping | None          # the limits the metric verdicts use
    judgements: tuple[PendingJudgement, PendingJudgement] | None   # None: findings not compared
    store: Any = None                   # the bundle store, to check both copies before reading them


def champion_for(registry, *, name: str, version: str) -> tuple[str, str]:
    """``(name, version)`` of the production version of ``name``, the champion ``version`` is
    compared with by default. Raises :class:`NotFound` for an unknown version and
    :class:`UsageError` when there is no other production version to compare with."""
    from modelgate.core.registry.queries import champion_of, get_version

    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        current = champion_of(session, model_id=row.model_id)
    if current is None:
        raise UsageError(f"{name} has no production version to compare {name}@{version} with",
                         hint=f"Name the baseline too: modelgate compare {name}@OTHER {name}@{version}")
    if current.id == row.id:
        raise UsageError(f"{name}@{version} is the production version itself",
                         hint=f"Name the version to compare it with: modelgate compare {name}@{version} "
                              f"{name}@OTHER")
    return name, current.version


def plan_comparison(registry, *, a: tuple[str, str], b: tuple[str, str], stage: str | None = None,
                    policy: Policy | None = None, regression: Mapping | None = None,
                    findings: bool = True) -> ComparePlan:
    """Read what comparing ``a`` with ``b`` (each ``(name, version)``) needs from the registry.

    ``stage`` defaults to the challenger's next stage, ``policy`` to the registry's
    policy in force and ``regression`` to that policy's limits for the stage. Raises
    :class:`~modelgate.core.registry.errors.NotFound` for an unknown version.
    """
    from modelgate.core.registry.compare_findings import plan_judgement
    from modelgate.core.registry.policies import policy_in_force
    from modelgate.core.registry.queries import get_version
    from modelgate.core.policy.stages import check_stage, target_stage

    if tuple(a) == tuple(b):
        raise UsageError(f"both sides are {a[0]}@{a[1]}", hint="Compare two different versions.")
    policy = policy or policy_in_force(registry)
    sides, paths, rows = [], [], []
    with registry.session(write=False) as session:
        for name, version in (a, b):
            row = get_version(session, name=name, version=version)
            sides.append(Side(name, version, row.stage, row.digest, row.license))
            paths.append(registry.store.path_of(row.store_path))
            rows.append(row)
        stage = check_stage(stage) if stage else target_stage(sides[1].stage)
        judgements = tuple(plan_judgement(session, registry.store, row, label=side.label, stage=stage, policy=policy)
                           for row, side in zip(rows, sides)) if findings else None
    if regression is None:
        regression = policy.gates(stage).regression
    return ComparePlan(sides[0], sides[1], (paths[0], paths[1]), policy, stage, regression, judgements,
                       registry.store)


def _read(bundle, label: str, problems: list[str]):
    from modelgate.core.benchmarks.results import load_results
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.compare.manifest_diff import interface_of

    loaded = load_manifest(bundle)
    manifest = loaded.data
    if not isinstance(manifest, dict):
        problems.append(f"{label}: bundle.yaml could not be read")
        manifest = {}
    results, trouble = load_results(bundle, manifest)
    problems.extend(f"{label}: {p.message}" for p in trouble)
    return manifest, results, interface_of(bundle, loaded.typed, problems, label), loaded.typed


def run_comparison(plan: ComparePlan, *, progress: Progress | None = None) -> Comparison:
    """Compare the stored bundles of ``plan``: manifests, metrics, graphs, then findings.

    Reads the bundles and validates those without a stored run; touches no database.
    Cancelling ``progress`` raises :class:`~modelgate.core.errors.OperationCancelled`.
    """
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.formats.onnx.graph_diff import diff_graphs
    from modelgate.core.formats.tensor_diff import diff_models
    from modelgate.core.compare.manifest_diff import interface_changes, target_changes, targets_of
    from modelgate.core.registry.compare_findings import compare_findings
    from modelgate.core.benchmarks.regression import compare as compare_metrics

    progress = progress or Progress()
    if plan.store is not None:
        from modelgate.core.registry.damage import refusal

        for side in (plan.a, plan.b):  # only the bytes imported: a damaged copy would mislead a reviewer
            progress.start(label=f"checking the stored copy of {side.label}", total=0)
            check = plan.store.inspect(side.digest, progress=progress)
            if not check.intact:
                raise refusal(side.label, check, action="compare")
    problems: list[str] = []
    with open_bundle(plan.paths[0]) as bundle_a, open_bundle(plan.paths[1]) as bundle_b:
        manifest_a, results_a, face_a, typed_a = _read(bundle_a, plan.a.label, problems)
        manifest_b, results_b, face_b, typed_b = _read(bundle_b, plan.b.label, problems)
        graphs = diff_graphs(a=bundle_a, manifest_a=manifest_a, b=bundle_b, manifest_b=manifest_b,
                             progress=progress)
        models = diff_models(a=bundle_a, manifest_a=typed_a, b=bundle_b, manifest_b=typed_b)
    findings = None
    if plan.judgements is not None:
        specific = tuple({value for side in (plan.a, plan.b) for value in (side.label, side.name, side.version)})
        findings = compare_findings(*plan.judgements, policy=plan.policy, stage=plan.stage, specific=specific,
                                    progress=progress)
    return Comparison(
        a=plan.a, b=plan.b,
        metrics=compare_metrics(results_b, results_a, plan.regression),
        interface=interface_changes(face_a, face_b),
        targets=target_changes(targets_of(typed_a), targets_of(typed_b)),
        problems=tuple(problems), graphs=graphs, models=models, findings=findings, stage=plan.stage,
        policy_name=plan.policy.name,
    )


def compare(registry, *, a: tuple[str, str], b: tuple[str, str], regression: Mapping | None = None,
            stage: str | None = None, findings: bool = True, progress: Progress | None = None) -> Comparison:
    """Compare champion ``a`` with challenger ``b``, each ``(name, version)``, as stored.

    ``regression`` is a stage's ``regression`` policy mapping that overrides the policy's
    for the metric verdicts; ``findings=False`` skips validating the two versions. Raises
    :class:`~modelgate.core.registry.errors.NotFound` for an unknown version.
    """
    plan = plan_comparison(registry, a=a, b=b, stage=stage, regression=regression, findings=findings)
    return run_comparison(plan, progress=progress)
