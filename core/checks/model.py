"""MG201-MG216: the ONNX model and its interface contract.

Each artifact is read once without its external data, and its external-data
references are confined to the bundle before onnx's checker or onnxruntime
opens the model by path, so neither ever follows a reference out of the
bundle. The declared interface is compared with every artifact's graph, then
each model runs once in onnxruntime on synthetic inputs built from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modelgate.core import settings
from modelgate.core.formats.onnx import load as onnxload
from modelgate.core.formats.onnx import ortcompat
from modelgate.core.formats.onnx.samples import sample_sets
from modelgate.core.formats.onnx.value_inputs import value_dependent_inputs
from modelgate.core.formats import registry as formats
from modelgate.core.formats import sandbox
from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.bundle.manifest_types import Tensor
from modelgate.core.rules import rule

UNREADABLE = rule(
    "MG201", title="ONNX file cannot be read", severity=Severity.ERROR,
    rationale="""An artifact that does not parse as an ONNX model (empty, truncated, another
    format) cannot be reviewed, run or deployed.""",
    fix="""Export the model again and copy the complete .onnx file into the bundle.""",
)
CHECKER = rule(
    "MG202", title="The ONNX checker rejects the model", severity=Severity.ERROR,
    rationale="""onnx.checker (with full shape inference) finds graphs that break the ONNX
    standard: undefined inputs, unsorted nodes, wrong attributes, shapes that contradict the
    operators. Runtimes may reject such models or, worse, compute something else.""",
    fix="""Fix the exporter or the graph; the message is the checker's.""",
)
EXTERNAL_LOCATION = rule(
    "MG203", title="External data reference is unsafe or dangling", severity=Severity.ERROR,
    rationale="""A tensor stored as external data names a file relative to the model. A
    location that is absolute or climbs out with '..' would make tools read files the bundle
    does not own (`../../etc/passwd`); one naming a missing file, or a file outside the
    digests, leaves weights unaccounted for. Such models are never opened by onnx's checker
    or onnxruntime.""",
    fix="""Save the model with `onnx.save_model(..., save_as_external_data=True,
    location="NAME.bin")` so the data file sits beside the model, keep it in the bundle and
    run `modelgate lock`.""",
)
EXTERNAL_RANGE = rule(
    "MG204", title="External data does not fit its file", severity=Severity.ERROR,
    rationale="""Each external tensor names an offset and length in its data file. A range past
    the end of the file, or a length that disagrees with the tensor's type and shape, means a
    truncated or mismatched weights file; runtimes fail to load it.""",
    fix="""Save the model and its external data again, together, and lock the bundle.""",
)
VERSIONS = rule(
    "MG205", title="IR version or opset not supported", severity=Severity.ERROR,
    rationale="""A model that uses ONNX operators must import the default ONNX operator set
    (a model of ai.onnx.ml operators alone need not), and its IR version and opset must be
    known to the installed onnx, or it cannot be checked at all.""",
    fix="""Export with an opset the toolchain supports (or upgrade onnx where ModelGate
    runs); make sure the default domain is imported.""",
)
DECLARED_MISSING = rule(
    "MG206", title="Declared tensor is not in the graph", severity=Severity.ERROR,
    rationale="""Callers feed inputs and read outputs by the names in `interface`. A declared
    name the graph does not have breaks every caller written against the contract.""",
    fix="""Rename the tensor in `interface` to the graph's name, or re-export the model with
    the promised names.""",
)
INPUT_UNDECLARED = rule(
    "MG207", title="Graph input is not declared", severity=Severity.ERROR,
    rationale="""A graph input missing from `interface.inputs` is one callers do not know
    about and cannot feed, so the model cannot run as documented.""",
    fix="""Declare the input in `interface.inputs` (or turn it into an initializer).""",
)
OUTPUT_UNDECLARED = rule(
    "MG208", title="Graph output is not declared", severity=Severity.WARNING,
    rationale="""An output missing from `interface.outputs` is computed but undocumented;
    callers may start depending on it without it being part of the contract.""",
    fix="""Declare the output, or remove it from the graph.""",
)
DTYPE = rule(
    "MG209", title="Element type differs from the graph", severity=Severity.ERROR,
    rationale="""Feeding float32 to an int64 input fails at runtime; reading an output with
    the wrong type gives garbage. The declared dtype must be the graph's.""",
    fix="""Correct the dtype in `interface`, or export the model with the declared type.""",
)
SHAPE = rule(
    "MG210", title="Shape differs from the graph", severity=Severity.ERROR,
    rationale="""A declared shape whose rank or fixed sizes differ from the graph's makes
    callers build tensors the model rejects, or misread its outputs.""",
    fix="""Correct `shape` in `interface` to the graph's, or re-export the model.""",
)
DIM_KIND = rule(
    "MG211", title="Fixed and symbolic dimension disagree", severity=Severity.WARNING,
    rationale="""A dimension the manifest calls dynamic but the graph fixes (or the reverse)
    means callers will send sizes the model refuses, or limit themselves needlessly.""",
    fix="""Make the manifest say what the graph does: a number for a fixed size, a name for a
    dynamic axis.""",
)
DIM_NAME = rule(
    "MG212", title="Symbolic dimension names differ", severity=Severity.INFO,
    rationale="""Matching names for dynamic axes (`batch`, `sequence`) make the contract
    easier to read next to the graph; different names are harmless but confusing.""",
    fix="""Use the graph's dimension names in `interface`.""",
)
SMOKE_OUTPUT = rule(
    "MG213", title="Smoke inference output does not match the interface", severity=Severity.ERROR,
    rationale="""The model was run on synthetic inputs built from `interface.inputs`; an
    output whose type or shape differs from `interface.outputs` shows the graph's declared
    shapes do not describe what it computes.""",
    fix="""Correct `interface.outputs` to what the model produces, or fix the model.""",
)
SMOKE_FAILED = rule(
    "MG214", title="Smoke inference failed", severity=Severity.ERROR,
    rationale="""The model passed onnx's checker but onnxruntime could not load it or failed
    while running it on inputs that honour the declared interface.""",
    fix="""Run the model in onnxruntime with inputs of the declared shapes and fix the error
    it reports.""",
)
SMOKE_SKIPPED = rule(
    "MG215", title="Smoke inference not run", severity=Severity.INFO,
    rationale="""Some models cannot be run here: onnxruntime lacks an operator or custom-op
    library, the model is too large, or an input type cannot be synthesised. A stage whose
    policy sets `require_inference` turns "onnxruntime cannot run it" into an error.""",
    fix="""Run the model in the target runtime yourself, or use operators onnxruntime
    implements.""",
)

RESOURCE_LIMIT = rule(
    "MG216", title="Model exceeds the memory or time limit", severity=Severity.ERROR,
    rationale="""Checking, loading and running a model happen in a separate process with a
    memory cap and a deadline. A model that needs more than that (a constant folded into
    gigabytes at load time, a run-time shape that allocates gigabytes, a Loop with an
    astronomical trip count) is stopped, and the stage it reached is reported: such a model
    would exhaust the machines that serve it too.""",
    fix="""Check the graph for shapes and trip counts computed from constants or inputs. If the
    model is genuine and simply large, raise MODELGATE_MODEL_MEMORY_MB or
    MODELGATE_SMOKE_TIMEOUT_S.""",
)

SAMPLE_MISMATCH = rule(
    "MG217", title="Output differs from the bundle's sample", severity=Severity.ERROR,
    rationale="""The bundle's samples hold inputs with the outputs the model is meant to give.
    A model that gives other values on them (beyond the declared tolerance) is not the model
    the samples describe. Types without a meaningful value comparison (bfloat16, float8,
    int4...) are checked for type and shape only.""",
    fix="""Re-export the model, or update the samples (and their tolerance) if they are wrong.""",
)
MACHINE = rule(
    "MG218", title="This machine cannot run the model", severity=Severity.WARNING,
    rationale="""Some failures belong to the machine running the checks, not to the model: a
    locale that is not installed, an execution provider that is missing. They say nothing
    about the model, so they are not reported as model errors.""",
    fix="""Install what the message names on this machine (for a locale on Debian:
    `locale-gen en_US.UTF-8`), or validate on a machine like the one that serves the model.""",
)

@dataclass
class _Model:
    """What one artifact yields once: its header, findings, and whether it may be run."""

    path: str
    index: int
    header: object | None = None
    findings: list = field(default_factory=list)
    runnable: bool = False
    data_bytes: int = 0
    custom: bool = False


def _short(text: str, limit: int = 300) -> str:
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", " ".join(str(text).split()))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _relative(ctx, text: str) -> str:
    """``text`` without the bundle's absolute folder (often a temporary extraction folder)."""
    for root in {str(ctx.bundle.root), str(ctx.bundle.root.resolve())}:
        text = text.replace(root + "/", "").replace(root + "\\", "")
    return text


def _onnx_artifacts(ctx) -> list[tuple[int, str]]:
    seen, found = set(), []
    for index, artifact in ctx.artifacts():
        fmt = formats.by_name(artifact.format)
        if fmt is not None and fmt.onnx_checks and artifact.path not in seen:
            seen.add(artifact.path)
            found.append((index, artifact.path))
    return found


def _uses_default_domain(graph) -> bool:
    """Whether ``graph`` or a subgraph holds a node of the default ONNX domain."""
    for node in graph.node:
        if node.domain in ("", "ai.onnx"):
            return True
        for attribute in node.attribute:
            bodies = [attribute.g] if attribute.HasField("g") else list(attribute.graphs)
            if any(_uses_default_domain(body) for body in bodies):
                return True
    return False


def _inspect(ctx, index: int, path: str) -> _Model:
    import onnx

    from modelgate.core.formats.onnx.info import default_opset

    result = _Model(path, index)
    where = {"file": path, "path": f"artifacts[{index}].path"}
    try:
        header = ctx.onnx_header(path)
    except Exception as error:  # onnx raises DecodeError, ValueError, OSError, MemoryError...
        result.findings.append(UNREADABLE.finding(
            f"{path} is not a readable ONNX model: {_short(error, 200) or error.__class__.__name__}",
            **where))
        return result
    if not header.HasField("graph"):
        result.findings.append(UNREADABLE.finding(f"{path} holds no ONNX graph (empty or not ONNX)",
                                                  **where))
        return result
    result.header = header
    problems, data_files = onnxload.check_external_data(ctx.bundle, path, onnxload.external_refs(header))
    for problem in problems:
        which = EXTERNAL_LOCATION if problem.kind == "location" else EXTERNAL_RANGE
        result.findings.append(which.finding(f"{path}: {problem.message}", **where))
    result.data_bytes = ctx.bundle.size(path) + sum(ctx.bundle.size(f) for f in data_files)
    result.custom = bool(ortcompat.foreign_ops(header))  # reported as MG307 by the targets checks
    opset, newest = default_opset(header), onnx.defs.onnx_opset_version()
    versions = []
    if opset is None and _uses_default_domain(header.graph):
        # A model of ai.onnx.ml (or training) operators alone needs no default opset.
        versions.append(f"{path} uses ONNX operators but imports no default ONNX opset "
                        "(domain '' or 'ai.onnx')")
    elif opset is not None and opset > newest:
        versions.append(f"{path} imports opset {opset}; the installed onnx knows up to {newest}")
    if header.ir_version > onnx.IR_VERSION:
        versions.append(f"{path} has IR version {header.ir_version}; "
                        f"the installed onnx supports up to {onnx.IR_VERSION}")
    result.findings.extend(VERSIONS.finding(text, **where) for text in versions)
    if problems or versions:
        return result  # never hand an unconfined or unknown model to the checker or runtime
    try:
        sandbox.run("check", str(ctx.bundle.resolve(path)),
                    limits=sandbox.Limits.for_model(model_bytes=result.data_bytes), progress=ctx.progress)
    except sandbox.LimitExceeded as breach:
        result.findings.append(RESOURCE_LIMIT.finding(f"{path} was stopped: {breach.message}", **where))
        return result
    except sandbox.ModelFailure as error:
        result.findings.append(CHECKER.finding(f"{path}: {_short(_relative(ctx, error.message))}", **where))
        return result
    result.runnable = True
    return result


def _model(ctx, index: int, path: str) -> _Model:
    return ctx.memo(f"mg2-model:{path}", lambda: _inspect(ctx, index, path))


@register()
def onnx_model(ctx):
    """MG201-MG205: each ONNX artifact parses, keeps its data inside the bundle, passes
    onnx's checker."""
    for index, path in _onnx_artifacts(ctx):
        ctx.progress.check()
        yield from _model(ctx, index, path).findings


# ----------------------------------------------------------------------------- the contract

def _declared(ctx, section: str) -> list[tuple[int, Tensor]]:
    """Well-formed ``interface.<section>`` entries (malformed ones are MG103's business)."""
    return [(t.index, t) for t in getattr(ctx.typed.interface, section) if t.name is not None]


def _spaced(type_text: str) -> str:
    """A declared type written as :func:`~modelgate.core.formats.onnx.info.type_text` writes it
    (``map<int64,float32>`` and ``map<int64, float32>`` are the same type)."""
    return re.sub(r"\s*,\s*", ", ", re.sub(r"\s+", "", type_text))


def _compare(path: str, section: str, k: int, declared: Tensor, graph: tuple):
    """Findings for one declared tensor against the graph's ``(kind, dtype, shape)``."""
    _, dtype, shape = graph
    noun = section[:-1]
    name = declared.name
    at = f"interface.{section}[{k}]"
    if declared.dtype is not None and _spaced(declared.dtype) != dtype:
        yield DTYPE.finding(f"{path}: {noun} {name!r} is {declared.dtype} in the manifest "
                            f"but {dtype} in the graph", path=f"{at}.dtype")
    wanted = declared.shape
    if shape is None or wanted is None:
        return
    if len(wanted) != len(shape):
        yield SHAPE.finding(f"{path}: {noun} {name!r} has rank {len(wanted)} in the manifest "
                            f"{onnxload.show_shape(wanted)} but rank {len(shape)} in the graph "
                            f"{onnxload.show_shape(shape)}", path=f"{at}.shape")
        return
    for j, (mine, theirs) in enumerate(zip(wanted, shape)):
        mine, where = onnxload.manifest_dim(mine), f"{at}.shape[{j}]"
        lead = f"{path}: {noun} {name!r} dimension {j} is"
        if mine is None or mine == theirs:
            continue
        if isinstance(mine, int) and isinstance(theirs, int):
            yield SHAPE.finding(f"{lead} {mine} in the manifest but {theirs} in the graph", path=where)
        elif isinstance(mine, int):
            graph_side = f"dynamic ({theirs!r})" if theirs else "dynamic and unnamed"
            yield DIM_KIND.finding(f"{lead} fixed to {mine} in the manifest but {graph_side} in the "
                                   "graph", path=where)
        elif isinstance(theirs, int):
            yield DIM_KIND.finding(f"{lead} symbolic ({mine!r}) in the manifest but fixed to "
                                   f"{theirs} in the graph", path=where)
        elif theirs is not None:
            yield DIM_NAME.finding(f"{lead} called {mine!r} in the manifest and {theirs!r} in the "
                                   "graph", path=where)


def _contract(ctx, model: _Model) -> tuple[list, bool]:
    """The contract findings for one artifact, and whether its inputs honour the contract."""
    from modelgate.core.formats.onnx.info import graph_interface

    ports = graph_interface(model.header)
    values = onnxload.graph_values(model.header)
    findings, inputs_ok = [], True
    for section, undeclared in (("inputs", INPUT_UNDECLARED), ("outputs", OUTPUT_UNDECLARED)):
        names = [t["name"] for t in ports[section]]
        declared = _declared(ctx, section)
        for k, tensor in declared:
            if tensor.name not in names:
                found = [DECLARED_MISSING.finding(
                    f"{model.path}: {section[:-1]} {tensor.name!r} is declared but the graph has "
                    f"no such {section[:-1]}", path=f"interface.{section}[{k}].name",
                    hint=f"The graph's {section} are: {', '.join(names) or 'none'}.")]
            else:
                found = list(_compare(model.path, section, k, tensor, values[tensor.name]))
            findings.extend(found)
            inputs_ok &= section == "outputs" or not any(f.severity is Severity.ERROR for f in found)
        known = {t.name for _, t in declared}
        listed = section in ctx.typed.interface.listed
        for name in names:
            # An absent or malformed list is MG103's finding; an empty one declares "none".
            if (declared or listed) and name not in known:
                findings.append(undeclared.finding(
                    f"{model.path}: graph {section[:-1]} {name!r} is not declared in "
                    f"interface.{section}", path=f"interface.{section}"))
                inputs_ok &= section == "outputs"
    # A model without inputs runs on no feeds; otherwise the declared inputs build them.
    return findings, inputs_ok and (bool(_declared(ctx, "inputs")) or not ports["inputs"])


@register()
def interface_contract(ctx):
    """MG206-MG212: every artifact's graph honours `interface`."""
    for index, path in _onnx_artifacts(ctx):
        model = _model(ctx, index, path)
        if model.header is not None:
            yield from ctx.memo(f"mg2-contract:{path}", lambda: _contract(ctx, model))[0]


# ----------------------------------------------------------------------------- smoke inference

def _check_outputs(ctx, path: str, outputs: dict, bindings: dict, settled: set):
    for k, tensor in _declared(ctx, "outputs"):
        actual, got = outputs.get(tensor.name, (None, None))
        if actual is None or k in settled:
            continue
        at, lead = f"interface.outputs[{k}]", f"{path}: smoke inference output {tensor.name!r}"
        if tensor.dtype is not None and actual != tensor.dtype:
            yield SMOKE_OUTPUT.finding(f"{lead} is {actual}; the manifest declares {tensor.dtype}",
                                       path=f"{at}.dtype")
        wanted, got = tensor.shape, list(got)
        if wanted is None:
            continue
        if len(wanted) != len(got):
            yield SMOKE_OUTPUT.finding(f"{lead} has shape {onnxload.show_shape(got)}; the manifest "
                                       f"declares {onnxload.show_shape(wanted)}", path=f"{at}.shape")
            continue
        for j, (mine, size) in enumerate(zip(wanted, got)):
            mine = onnxload.manifest_dim(mine)
            expected = mine if isinstance(mine, int) else bindings.get(mine)
            if expected is not None and expected != size:
                why = f"the manifest fixes it to {mine}" if isinstance(mine, int) else \
                    f"the inputs set {mine!r} to {expected}"
                yield SMOKE_OUTPUT.finding(f"{lead} has shape {onnxload.show_shape(got)}: dimension "
                                           f"{j} is {size}, but {why}", path=f"{at}.shape[{j}]")


def _smoke(ctx, model: _Model, contract: list) -> list:
    path = model.path
    where = {"file": path, "path": f"artifacts[{model.index}].path"}
    limit = settings.get(settings.MAX_SESSION_BYTES)
    if model.data_bytes > limit:
        return [SMOKE_SKIPPED.finding(
            f"{path}: smoke inference skipped: the model and its external data take "
            f"{model.data_bytes / 1024**3:.1f} GiB, above the {limit / 1024**3:g} GiB limit "
            "(MODELGATE_MAX_SESSION_BYTES)",
            **where)]
    sets, rtol, atol = sample_sets(ctx.manifest, ctx.bundle.content_files())
    sets = [s for s in sets if s.inputs or not model.header.graph.input]
    needed = value_dependent_inputs(model.header)
    if needed and not sets:
        # Made-up values there would fail an honest model or prove nothing about it.
        shown = "; ".join(use.describe() for use in needed[:3]) + ("; ..." if len(needed) > 3 else "")
        required = ctx.gates.require_inference  # the stage wants a run: samples are the way
        return [SMOKE_SKIPPED.finding(
            f"{path}: smoke inference not run: the model needs real values for its inputs "
            f"({shown}), and made-up ones would not show whether it works"
            + (f"; the {ctx.stage} stage requires the model to run" if required else ""),
            severity=Severity.ERROR if required else None, **where,
            hint="Declare sample inputs the model is meant to receive in `samples` (bundle "
                 "standard v1.1) so the run uses them.")]
    findings = []
    for sample in sets or [None]:
        job = None if sample is None else {
            "folder": sample.folder, "rtol": rtol, "atol": atol,
            "inputs": [(k, str(ctx.bundle.resolve(f))) for k, f in sorted(sample.inputs.items())],
            "outputs": [(k, str(ctx.bundle.resolve(f))) for k, f in sorted(sample.outputs.items())]}
        findings += _smoke_run(ctx, model, contract, job, where)
    return findings


def _smoke_run(ctx, model: _Model, contract: list, sample: dict | None, where: dict) -> list:
    path = model.path
    limits = sandbox.Limits.for_model(model_bytes=model.data_bytes)
    try:
        ran = sandbox.run("smoke", str(ctx.bundle.resolve(path)), [t.as_dict() for _, t in _declared(ctx, "inputs")],
                          onnxload.graph_values(model.header), sample, limits=limits, progress=ctx.progress)
    except sandbox.LimitExceeded as breach:
        if breach.stage != sandbox.INFERENCE:  # the targets checks reuse the verdict
            ctx.memo(f"ort-session-ok:{path}", lambda: f"the session was stopped: {breach.message}")
        return [RESOURCE_LIMIT.finding(f"{path} was stopped: {breach.message}", **where)]
    except sandbox.ModelFailure as error:
        if error.stage == sandbox.INFERENCE:
            ctx.memo(f"ort-session-ok:{path}", lambda: True)
            if ortcompat.machine_problem(error.message):
                return [MACHINE.finding(f"{path}: inference on {error.inputs} failed because of this "
                                        f"machine: {_short(_relative(ctx, error.message))}", **where)]
            return [SMOKE_FAILED.finding(f"{path}: inference on {error.inputs} failed: "
                                         f"{_short(_relative(ctx, error.message))}",
                                         **where,
                                         hint="The inputs were built from interface.inputs; check that "
                                              "the declared shapes are ones the model accepts.")]
        return _session_refused(ctx, model, error, where)
    if "skipped" in ran:
        return [SMOKE_SKIPPED.finding(f"{path}: smoke inference skipped: {ran['skipped']}", **where)]
    ctx.memo(f"ort-session-ok:{path}", lambda: True)
    bindings = ran["bindings"]
    outputs = {name: (dtype, shape) for name, dtype, shape in ran["outputs"]}
    # Outputs whose static type or shape is already reported are not reported twice.
    settled = {int(m.group(1)) for f in contract if f.severity is Severity.ERROR
               for m in [re.match(r"interface\.outputs\[(\d+)\]", f.location.path or "")] if m}
    found = [SAMPLE_MISMATCH.finding(f"{path}: on {ran['shown']}, output {name!r} {text}", **where)
             for name, text in ran.get("mismatches", [])]
    return found + list(_check_outputs(ctx, path, outputs, bindings, settled))


def _session_refused(ctx, model: _Model, error, where: dict) -> list:
    path = model.path
    text = error.message
    if ortcompat.machine_problem(text):
        ctx.memo(f"ort-session-ok:{path}", lambda: True)  # not the model's incompatibility
        return [MACHINE.finding(f"{path}: onnxruntime cannot load the model on this machine: "
                                f"{_short(_relative(ctx, text))}", **where)]
    ctx.memo(f"ort-session-ok:{path}", lambda: text)  # the targets checks reuse the verdict
    failure = ortcompat.explain_failure(_relative(ctx, text))
    unsupported = failure.kind != "other" or error.kind == "NotImplemented"
    if not (model.custom or unsupported):
        return [SMOKE_FAILED.finding(f"{path}: onnxruntime cannot load the model: {failure.detail}",
                                     **where)]
    required = ctx.gates.require_inference
    message = f"{path}: smoke inference skipped: onnxruntime cannot run this model ({failure.detail})"
    if any(entry.domain == "ai.onnx.preview.training" for entry in model.header.opset_import):
        message += "; it is a training graph (ai.onnx.preview.training), which inference runtimes do not run"
    if required:
        message += f"; the {ctx.stage} stage requires the model to run"
    return [SMOKE_SKIPPED.finding(message, severity=Severity.ERROR if required else None, **where)]


@register()
def smoke_inference(ctx):
    """MG213-MG215: each artifact runs once in onnxruntime on inputs built from `interface`."""
    for index, path in _onnx_artifacts(ctx):
        model = _model(ctx, index, path)
        if not model.runnable:
            continue
        contract, inputs_ok = ctx.memo(f"mg2-contract:{path}", lambda: _contract(ctx, model))
        if inputs_ok:
            yield from ctx.memo(f"mg2-smoke:{path}", lambda: _smoke(ctx, model, contract))
