"""MG3xx: runtime targets — artifacts, opsets, onnxruntime versions, memory and latency budgets."""

from __future__ import annotations

import math
import re
from modelgate.core import settings
from modelgate.core.formats import registry as formats
from modelgate.core.formats.onnx import ortcompat
from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.bundle.manifest_types import Target
from modelgate.core.formats.onnx.info import default_opset
from modelgate.core.rules import rule

UNKNOWN_ARTIFACT = rule(
    "MG301", title="Target names an artifact variant that does not exist", severity=Severity.ERROR,
    rationale="""A target says which artifact runs on it by variant (fp32, int8...). A variant no
    artifact has leaves the deployment without a model, or makes it pick the wrong one.""",
    fix="""Set targets[].artifact to the variant of one of the listed artifacts, or add the
    missing artifact.""",
)
DUPLICATE_TARGET = rule(
    "MG302", title="Two targets share a name", severity=Severity.ERROR,
    rationale="""Benchmark results refer to targets by name; with two targets of the same name a
    latency result cannot be matched to its budget.""",
    fix="""Give every target its own name.""",
)
OPSET_ABOVE_MAX = rule(
    "MG303", title="Model opset is above the target's max_opset", severity=Severity.ERROR,
    rationale="""targets[].max_opset records the highest ONNX opset the deployed runtime supports.
    A model built for a newer opset will not load there, or will behave differently.""",
    fix="""Export the model at an opset the target supports (or convert it with
    onnx.version_converter), or raise max_opset after upgrading the runtime.""",
)
RUNTIME_TOO_OLD = rule(
    "MG304", title="The target's onnxruntime version cannot load the model", severity=Severity.ERROR,
    rationale="""Each onnxruntime release loads ONNX opsets and IR versions up to those of the ONNX
    release it is built with (onnxruntime's compatibility table). A model that needs more is
    refused at load time on that runtime.""",
    fix="""Export the model at an older opset and IR version, or deploy a newer onnxruntime and
    update targets[].runtime_version.""",
)
COMPAT_UNKNOWN = rule(
    "MG305", title="Compatibility with the target's runtime cannot be known", severity=Severity.INFO,
    rationale="""ModelGate knows the limits of the onnxruntime releases in its compatibility table
    and can load a model only in the onnxruntime installed with it. For other releases, or
    when the model cannot be loaded here, nobody has checked that the model runs there.""",
    fix="""Use a major.minor runtime_version; test the model on the target runtime, or validate
    with that onnxruntime version installed.""",
)
UNSUPPORTED_OP = rule(
    "MG306", title="The target's onnxruntime has no implementation of an operator",
    severity=Severity.ERROR,
    rationale="""When the target's runtime version is the one installed here, ModelGate creates a
    real session (CPU execution provider, which other providers fall back to): an operator, or
    an operator with types, that has no kernel makes the model fail to load on the target.""",
    fix="""Replace the operator or change the types it is used with, register the custom
    operator library on the target, or target a runtime version that implements it.""",
)
FOREIGN_DOMAIN = rule(
    "MG307", title="Model uses operators from a domain onnxruntime does not ship",
    severity=Severity.INFO,
    rationale="""onnxruntime implements the ai.onnx, ai.onnx.ml and com.microsoft domains. Operators
    from other domains need a custom-operator library on the target, which the bundle does not
    describe.""",
    fix="""Make sure the target registers the custom operators, list the library under
    `dependencies`, or rewrite the operators with standard ones.""",
)
MEMORY = rule(
    "MG308", title="Artifact does not fit the target's memory budget", severity=Severity.ERROR,
    rationale="""The weights alone (the model file plus its external-data files) must fit in the
    target's memory_mb, and a session needs more than that for activations and buffers.
    Above 80% of the budget there is little headroom (warning).""",
    fix="""Ship a smaller variant (fp16, int8) for this target, or raise memory_mb after checking
    the real peak memory on the device.""",
)
LATENCY_OVER = rule(
    "MG309", title="Measured latency is above the target's budget", severity=Severity.ERROR,
    rationale="""targets[].latency_p95_ms is the latency the deployment promises; a benchmark that
    measured more on that target shows the promise does not hold.""",
    fix="""Make the model faster (smaller variant, quantisation, better hardware), or agree on a
    larger budget and update latency_p95_ms.""",
)
LATENCY_UNVERIFIED = rule(
    "MG310", title="Latency budget not verified by a benchmark", severity=Severity.WARNING,
    rationale="""A latency budget that no benchmark result measured on that target is a promise
    nobody has checked.""",
    fix="""Add a latency result (for example latency_p95_ms, in ms) with `target` set to the
    target's name to a benchmark file.""",
)
UNKNOWN_TARGET = rule(
    "MG311", title="Benchmark result names a target that does not exist", severity=Severity.WARNING,
    rationale="""A result measured on a target the manifest does not declare cannot be checked
    against any budget; usually the target was renamed or its name is misspelt.""",
    fix="""Set the result's `target` to a targets[].name, or declare the target.""",
)

_MIB = 1024 * 1024
_HEADROOM = 0.8


def _number(value) -> float | None:
    """A budget as a float; ``None`` for a value of another type (the schema reports it) or NaN.

    An integer beyond the float range is as good as an infinite budget.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
    return None if math.isnan(number) else number


def _targets(ctx) -> list[tuple[int, Target]]:
    return [(target.index, target) for target in ctx.typed.targets]


def _target_artifacts(ctx):
    """``(target index, target, artifact index, artifact path)`` for every target's artifacts."""
    present = ctx.artifacts()
    for ti, target in _targets(ctx):
        for ai, artifact in present:
            if target.artifact is not None and artifact.variant == target.artifact:
                yield ti, target, ai, artifact.path


def _header(ctx, path):
    """The ONNX graph of an artifact, or ``None`` (unreadable, or another format: never parsed as ONNX)."""
    declared = next((a.format for _, a in ctx.artifacts() if a.path == path), None)
    fmt = formats.by_name(declared)
    if fmt is None or not fmt.onnx_checks:
        return None
    try:
        return ctx.onnx_header(path)
    except Exception:  # an unreadable model is MG2's finding, not this family's
        return None


def _companions(ctx, path: str) -> list[str]:
    """The bundle files an artifact in another format spans besides itself (shards)."""
    declared = next((a.format for _, a in ctx.artifacts() if a.path == path), None)
    fmt = formats.by_name(declared)
    if fmt is None:
        return []
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    files = set(ctx.bundle.files())
    return [folder + name for name in fmt.companions(path=ctx.bundle.resolve(path)) if folder + name in files]


def _ml_opset(model) -> int | None:
    for entry in model.opset_import:
        if entry.domain == "ai.onnx.ml":
            return int(entry.version)
    return None


@register()
def target_references(ctx):
    """MG301, MG302: targets name existing variants and are named uniquely."""
    targets = _targets(ctx)
    listed = ctx.typed.is_list("artifacts")
    variants = ctx.typed.artifact_variants()
    first: dict[str, int] = {}
    for index, target in targets:
        variant = target.artifact
        if variant is not None and listed and variant not in variants:
            known = ", ".join(sorted(v for v in variants if isinstance(v, str))) or "none"
            yield UNKNOWN_ARTIFACT.finding(
                f"target {target.name!r} runs variant {variant!r}, which no artifact has",
                path=f"targets[{index}].artifact", hint=f"Artifact variants in this bundle: {known}.")
        name = target.name
        if name is not None:
            if name in first:
                yield DUPLICATE_TARGET.finding(f"target name {name!r} is already used by "
                                               f"targets[{first[name]}]", path=f"targets[{index}].name")
            else:
                first[name] = index


def _installed_findings(ctx, path, target, where, version):
    """MG304-MG306 from a real session in the installed onnxruntime, which is the target's release."""
    # The memo holds True when the session was created, else onnxruntime's message.
    outcome = ctx.memo(f"ort-session-ok:{path}",
                       lambda: ortcompat.try_session(ctx.bundle.resolve(path), progress=ctx.progress) or True)
    if not isinstance(outcome, str):
        return
    failure = ortcompat.explain_failure(outcome)
    label = f"the installed onnxruntime {ortcompat.show(version)} (target {target.name!r})"
    if failure.kind == "operator":
        yield UNSUPPORTED_OP.finding(
            f"{path} does not load in {label}: no implementation of {failure.detail}", path=where,
            hint="onnxruntime stops at the first such operator; fix it and validate again.")
    elif failure.kind == "version":
        yield RUNTIME_TOO_OLD.finding(f"{path} does not load in {label}: {failure.detail}",
                                      path=where, hint=_TOO_OLD_HINT)
    else:
        yield COMPAT_UNKNOWN.finding(
            f"{path} does not load in {label}, so whether the target runs it cannot be known: "
            f"{failure.detail}", path=where)


_TOO_OLD_HINT = "Export for an older opset/IR version, or deploy a newer onnxruntime."


@register()
def runtime_compatibility(ctx):
    """MG303-MG306: opset and IR version against max_opset, the release table, the installed runtime."""
    installed = ortcompat.installed_version()
    for ti, target, _, path in _target_artifacts(ctx):
        model = _header(ctx, path)
        if model is None:
            continue
        name = target.name
        opset = default_opset(model)
        max_opset = target.max_opset
        if opset is not None and max_opset is not None \
                and opset > max_opset:
            yield OPSET_ABOVE_MAX.finding(
                f"{path} uses ai.onnx opset {opset}; target {name!r} supports opsets up to "
                f"{max_opset} (max_opset)", path=f"targets[{ti}].max_opset",
                hint=f"Export at opset {max_opset} or lower, or raise max_opset once the runtime "
                     f"supports {opset}.")
        if target.runtime != "onnxruntime" or target.runtime_version is None:
            continue
        where = f"targets[{ti}].runtime_version"
        version = ortcompat.parse_version(target.runtime_version)
        if version is None:
            yield COMPAT_UNKNOWN.finding(
                f"runtime_version {target.runtime_version!r} of target {name!r} does not name an "
                "onnxruntime release (major.minor), so compatibility cannot be checked", path=where,
                hint='Write the release deployed, such as "1.18".')
            continue
        blocker = None
        if version == installed:
            # The installed release can answer for real; the table is only the fallback.
            blocker = ortcompat.session_blocker(ctx.bundle, path, model, settings.get(settings.MAX_SESSION_BYTES))
            if blocker is None:
                yield from _installed_findings(ctx, path, target, where, version)
                continue
        verdict = ortcompat.compare(version, {"opset": opset, "ir": int(model.ir_version) or None,
                                              "ml_opset": _ml_opset(model)})
        if verdict.too_new:
            yield RUNTIME_TOO_OLD.finding(
                f"{path} cannot run on target {name!r}: {'; '.join(verdict.too_new)}",
                path=where, hint=_TOO_OLD_HINT)
        if blocker:
            yield COMPAT_UNKNOWN.finding(
                f"{path} was not loaded into the installed onnxruntime {ortcompat.show(version)}: "
                f"{blocker}", path=where)
        elif verdict.unknown:
            yield COMPAT_UNKNOWN.finding(
                f"whether onnxruntime {ortcompat.show(version)} loads {path} cannot be known: "
                f"it needs {', '.join(verdict.unknown)}", path=where,
                hint="Validate with that onnxruntime version installed to check for real.")


@register()
def operator_domains(ctx):
    """MG307: operators from domains onnxruntime does not ship."""
    seen = set()
    for _, target, ai, path in _target_artifacts(ctx):
        if target.runtime != "onnxruntime" or ai in seen:
            continue
        seen.add(ai)
        model = _header(ctx, path)
        if model is None:
            continue
        for domain, ops in sorted(ortcompat.foreign_ops(model).items()):
            names = sorted(ops)
            shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            yield FOREIGN_DOMAIN.finding(
                f"{path} uses operators from domain {domain!r} ({shown}); onnxruntime has them "
                "only if a custom-operator library is registered", path=f"artifacts[{ai}].path")


@register()
def memory_budget(ctx):
    """MG308: model file plus external data against targets[].memory_mb."""
    for ti, target, _, path in _target_artifacts(ctx):
        budget_mb = _number(target.memory_mb)
        if budget_mb is None or budget_mb <= 0:
            continue
        model = _header(ctx, path)
        extra = ortcompat.external_files(ctx.bundle, path, model)[0] if model is not None else _companions(ctx, path)
        total = ctx.bundle.size(path) + sum(ctx.bundle.size(f) for f in extra)
        budget = budget_mb * _MIB
        if total <= _HEADROOM * budget:
            continue
        what = f"{path}" + (f" with {len(extra)} external-data file(s)" if extra else "")
        size = ortcompat.size_text(total)
        allowed = (f"the {ortcompat.size_text(budget)} (memory_mb {budget_mb:g}) of target "
                   f"{target.name!r}")
        if total > budget:
            yield MEMORY.finding(f"{what} is {size}, more than {allowed}",
                                 path=f"targets[{ti}].memory_mb",
                                 hint="Ship a smaller variant for this target or raise memory_mb.")
        else:
            yield MEMORY.finding(
                f"{what} is {size}, {total / budget:.0%} of {allowed}: little headroom for "
                "activations and buffers", path=f"targets[{ti}].memory_mb", severity=Severity.WARNING)


_TO_MS = {"ms": 1.0, "msec": 1.0, "millisecond": 1.0, "milliseconds": 1.0,
          "s": 1000.0, "sec": 1000.0, "second": 1000.0, "seconds": 1000.0,
          "us": 0.001, "µs": 0.001, "μs": 0.001, "microsecond": 0.001, "microseconds": 0.001,
          "ns": 1e-6, "nanosecond": 1e-6, "nanoseconds": 1e-6}
_OTHER_STATISTIC = re.compile(r"^(p(?!95$)\d+|median|mean|avg|average|max|min|std|stddev)$")


def _words(metric: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9µμ]+", metric.lower()) if w]


def _millis(result) -> float | None:
    """The result's value in milliseconds, or ``None`` when its unit is not a time unit."""
    unit = result.unit
    if unit is None:
        words = _words(result.metric)
        unit = words[-1] if words and words[-1] in _TO_MS else "ms"
    factor = _TO_MS.get(unit.strip().lower())
    return None if factor is None else result.value * factor


@register()
def latency_budget(ctx):
    """MG309-MG311: measured latency against targets[].latency_p95_ms, and unknown targets."""
    results, _ = ctx.benchmark_results()
    targets = _targets(ctx)
    names = {t.name for _, t in targets if t.name is not None}
    for result in results:
        if result.target is not None and result.target not in names:
            yield UNKNOWN_TARGET.finding(
                f"{result.label} was measured on target {result.target!r}, which bundle.yaml does "
                "not declare", file=result.file, path=f"results[{result.index}].target",
                hint=f"Declared targets: {', '.join(sorted(names)) or 'none'}.")
    for ti, target in targets:
        budget = _number(target.latency_p95_ms)
        name = target.name
        if budget is None or name is None:
            continue
        measured = [r for r in results if r.target == name and "latency" in r.metric.lower()]
        p95 = [r for r in measured if "p95" in _words(r.metric)]
        plain = [r for r in measured if not any(_OTHER_STATISTIC.match(w) for w in _words(r.metric))]
        usable = [(r, ms) for r in (p95 or plain) if (ms := _millis(r)) is not None]
        if not usable:
            others = ", ".join(sorted({r.metric for r in measured}))
            yield LATENCY_UNVERIFIED.finding(
                f"target {name!r} has a p95 latency budget of {budget:g} ms but no benchmark result "
                "measures its p95 latency" + (f" (only {others})" if others else ""),
                path=f"targets[{ti}].latency_p95_ms",
                hint=f'Add a latency_p95_ms result with "target": "{name}" to a benchmark file.')
            continue
        for result, ms in usable:
            if ms > budget:
                yield LATENCY_OVER.finding(
                    f"{result.label} is {ms:g} ms, above the {budget:g} ms p95 budget of target "
                    f"{name!r}", file=result.file, path=f"results[{result.index}].value")
