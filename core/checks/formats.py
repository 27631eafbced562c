"""MG220-MG230: every artifact, in whatever format, is what it claims and reads cleanly.

The format packages (core/formats/) read each file's header and report its integrity;
here those findings are placed in the bundle, and the checks that need the manifest or
the stage are made: the declared format against the bytes, pickles against the stage,
target runtimes against the formats they run, and the interface of formats with a graph.
ONNX files keep their own, deeper checks (MG201-MG216 in core/checks/model.py).
"""

from __future__ import annotations

from dataclasses import replace

from modelgate.core.checks import register
from modelgate.core.checks.model import (DECLARED_MISSING, INPUT_UNDECLARED, OUTPUT_UNDECLARED,
                                         _compare)
from modelgate.core.findings import Finding, Severity
from modelgate.core.formats import registry
from modelgate.core.formats.interface import FormatError, ModelFacts
from modelgate.core.policy.stages import SERVING  # stages a version serves from: no pickle there unless allowed
from modelgate.core.formats.rules import (CUSTOM_OPERATOR, DEVICE_POLICY, FORMAT_MISMATCH, PICKLE_STAGE, RUNTIME_FAILED,
                                          RUNTIME_SKIPPED, TARGET_FORMAT, UNREADABLE, WEIGHTS_ONLY)



def _placed(finding: Finding, index: int) -> Finding:
    """A format's finding, pointed at the artifact entry that declares the file."""
    if finding.location.path is not None:
        return finding
    return replace(finding, location=replace(finding.location, path=f"artifacts[{index}].path"))


def _read(ctx, index: int, artifact) -> tuple[ModelFacts | None, list[Finding]]:
    """The artifact's facts (read once per validation) and the findings reading it gave."""
    path = artifact.path

    def read():
        where = {"file": path, "path": f"artifacts[{index}].path"}
        declared = registry.by_name(artifact.format)
        file = ctx.bundle.resolve(path)
        actual = registry.detect(file)
        findings = []
        if actual is not None and actual is not declared:
            findings.append(FORMAT_MISMATCH.finding(
                f"{path} is declared as {declared.names[0]} but is a {actual.title} file", **where))
        # A file in no known format is read as declared, so its reader says what is wrong with it;
        # a disguised pickle is still scanned, to name what it would run.
        reader = declared if actual is None else actual if actual is declared or actual.executes_code else None
        if reader is None or reader.onnx_checks:
            return None, findings  # ONNX is read by the MG2xx checks
        try:
            facts = reader.read(path=file, label=path)
        except FormatError as error:
            return None, findings + [UNREADABLE.finding(error.message, hint=error.hint, **where)]
        return facts, findings + [_placed(f, index) for f in facts.findings]
    return ctx.memo(f"format-facts:{path}", read)


def _artifacts(ctx):
    seen = set()
    for index, artifact in ctx.artifacts():
        if artifact.path not in seen and registry.by_name(artifact.format) is not None:
            seen.add(artifact.path)
            yield index, artifact


@register()
def model_files(ctx):
    """MG220-MG228: each artifact is in its declared format, reads cleanly, agrees with the manifest."""
    for index, artifact in _artifacts(ctx):
        ctx.progress.check()
        facts, findings = _read(ctx, index, artifact)
        yield from findings
        fmt = registry.by_name(artifact.format)
        if facts is not None:
            yield from fmt.cross_check(facts=facts, manifest=ctx.typed)
        if facts is not None and facts.custom_operators:
            yield CUSTOM_OPERATOR.finding(f"{artifact.path} uses custom operators: "
                                          f"{', '.join(facts.custom_operators[:10])}", file=artifact.path,
                                          path=f"artifacts[{index}].path")


@register()
def pickle_stage(ctx):
    """MG225: pickle-based artifacts, refused from staging on unless the stage allows them."""
    refused = ctx.stage in SERVING and not ctx.gates.allow_pickle
    for index, artifact in _artifacts(ctx):
        if registry.by_name(artifact.format).executes_code:
            message = f"{artifact.path} is a {registry.by_name(artifact.format).title} file: loading it runs code"
            if refused:
                message += f"; the {ctx.stage} stage does not allow pickle-based formats"
            yield PICKLE_STAGE.finding(message, path=f"artifacts[{index}].format",
                                       severity=None if refused else Severity.WARNING)


@register()
def target_formats(ctx):
    """MG229: each target's runtime runs the format of the artifacts it deploys."""
    for target in ctx.typed.targets:
        if target.runtime is None or target.artifact is None:
            continue
        runs = registry.runtime_formats(target.runtime)
        for index, artifact in ctx.artifacts():
            fmt = registry.by_name(artifact.format)
            if artifact.variant == target.artifact and fmt is not None and fmt.names[0] not in runs:
                yield TARGET_FORMAT.finding(
                    f"target {target.name!r} runs {target.runtime}, which does not run {fmt.title} "
                    f"({artifact.path})", path=f"targets[{target.index}].runtime",
                    hint=f"{target.runtime} runs: {', '.join(runs) or 'nothing ModelGate knows'}.")


def _ports(ctx, facts: ModelFacts):
    """The declared interface against a graph the format read (TFLite); ONNX has MG206-MG212."""
    for section, undeclared in (("inputs", INPUT_UNDECLARED), ("outputs", OUTPUT_UNDECLARED)):
        ports = {port.name: port for port in getattr(facts, section)}
        declared = [t for t in getattr(ctx.typed.interface, section) if t.name is not None]
        for tensor in declared:
            port = ports.get(tensor.name)
            if port is None:
                yield DECLARED_MISSING.finding(
                    f"{facts.path}: {section[:-1]} {tensor.name!r} is declared but the model has no such "
                    f"{section[:-1]}", path=f"interface.{section}[{tensor.index}].name",
                    hint=f"The model's {section} are: {', '.join(ports) or 'none'}.")
            else:
                yield from _compare(facts.path, section, tensor.index, tensor,
                                    ("tensor_type", port.dtype, list(port.shape)))
        known = {t.name for t in declared}
        for name in ports:
            if declared and name not in known:
                yield undeclared.finding(f"{facts.path}: model {section[:-1]} {name!r} is not declared in "
                                         f"interface.{section}", path=f"interface.{section}")


@register()
def format_interface(ctx):
    """MG206-MG211 for formats with a graph of their own; MG230 where a file has none."""
    declared = bool(ctx.typed.interface.inputs or ctx.typed.interface.outputs)
    for index, artifact in _artifacts(ctx):
        facts, _ = _read(ctx, index, artifact)
        if facts is None:
            continue
        if facts.inputs is not None:
            yield from _ports(ctx, facts)
        elif declared:
            yield WEIGHTS_ONLY.finding(f"{artifact.path} is a {registry.by_name(artifact.format).title} "
                                       "file without a graph: the declared interface is not checked "
                                       "against it", path=f"artifacts[{index}].path")


def _runtime(ctx, index: int, artifact) -> list[Finding]:
    from modelgate.core.checks.model import RESOURCE_LIMIT
    from modelgate.core.formats import sandbox

    where = {"file": artifact.path, "path": f"artifacts[{index}].path"}
    fmt = registry.by_name(artifact.format)
    size = ctx.bundle.size(artifact.path)
    try:
        ran = sandbox.run("runtime", str(ctx.bundle.resolve(artifact.path)), fmt.names[0],
                          limits=sandbox.Limits.for_model(model_bytes=size), progress=ctx.progress)
    except sandbox.LimitExceeded as breach:
        return [RESOURCE_LIMIT.finding(f"{artifact.path} was stopped: {breach.message}", **where)]
    except sandbox.ModelFailure as error:
        return [RUNTIME_FAILED.finding(f"{artifact.path}: {error.message[:300]}", **where)]
    if ran.get("error"):
        return [RUNTIME_FAILED.finding(f"{artifact.path}: {ran['error'][:300]}", **where)]
    if "unavailable" in ran:
        return [RUNTIME_SKIPPED.finding(f"{artifact.path}: not loaded in a runtime: {ran['unavailable']}; "
                                        f"the {ctx.stage} stage requires inference", severity=Severity.WARNING,
                                        **where)]
    return []


@register()
def format_runtime(ctx):
    """MG232, MG233: where the stage requires inference, each readable non-ONNX, non-pickle artifact
    is loaded in its format's runtime, in the bounded model process."""
    if not ctx.gates.require_inference:
        return
    for index, artifact in _artifacts(ctx):
        fmt = registry.by_name(artifact.format)
        facts, found = _read(ctx, index, artifact)
        if fmt.onnx_checks or fmt.executes_code or facts is None or \
                any(f.severity is Severity.ERROR for f in found):
            continue  # ONNX has its smoke run; a pickle is never loaded; a broken file is not run
        yield from ctx.memo(f"format-runtime:{artifact.path}", lambda: _runtime(ctx, index, artifact))


def _weight_types(ctx, index: int, artifact) -> tuple[str, ...]:
    facts, _ = _read(ctx, index, artifact)
    if facts is None and registry.by_name(artifact.format).onnx_checks:
        from modelgate.core.formats.describe import read_artifact

        facts = ctx.memo(f"format-onnx-facts:{artifact.path}", lambda: read_artifact(
            bundle=ctx.bundle, path=artifact.path, declared=artifact.format)[0])
    return facts.dtypes if facts is not None else ()


@register()
def device_policy(ctx):
    """MG234: each target's artifact in a format and weight types the policy allows on its device."""
    for target in ctx.typed.targets:
        formats, dtypes = ctx.policy.device(target.device)
        if (formats is None and dtypes is None) or target.artifact is None:
            continue
        where = f"targets[{target.index}].artifact"
        for index, artifact in _artifacts(ctx):
            if artifact.variant != target.artifact:
                continue
            name = registry.by_name(artifact.format).names[0]
            if formats is not None and name not in formats:
                yield DEVICE_POLICY.finding(f"target {target.name!r} runs {artifact.path} ({name}) on "
                                            f"{target.device}, where the policy allows {', '.join(formats)}",
                                            path=where)
                continue
            refused = [t for t in _weight_types(ctx, index, artifact)
                       if dtypes is not None and t.lower() not in dtypes]
            if refused:
                yield DEVICE_POLICY.finding(f"target {target.name!r} runs {artifact.path} on {target.device}, "
                                            f"whose weights include {', '.join(refused)}; the policy allows "
                                            f"{', '.join(dtypes)} there", path=where)
