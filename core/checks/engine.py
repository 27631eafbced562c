"""The validation engine: run every check on a bundle under a policy and stage."""

from __future__ import annotations

import datetime
import time
from contextlib import ExitStack
from pathlib import Path

from modelgate.core.checks import load_all
from modelgate.core.checks.context import CheckContext
from modelgate.core.bundle.positions import place
from modelgate.core.checks.request import RecordedSignatures, ValidationRequest
from modelgate.core.errors import ModelGateError, OperationCancelled
from modelgate.core import settings
from modelgate.core.findings import Finding, Severity, group_repeats
from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.checks.report import BundleRef, Report
from modelgate.core.rules import CATALOG, rule
from modelgate.core.policy.stages import check_stage

CHECK_FAILED = rule(
    "MG100", title="A check could not run", severity=Severity.ERROR,
    rationale="""A check that crashes cannot vouch for the bundle, so the run fails rather than
    passing silently. This usually means the bundle holds something no rule anticipated.""",
    fix="""Read the message; if the bundle looks sound, report the problem with the bundle
    attached so the check can be fixed.""",
)


def _apply_policy(findings, policy: Policy) -> list[Finding]:
    kept = []
    for finding in findings:
        severity = policy.severity_for(finding.rule, finding.severity)
        if severity is None:
            continue
        if severity is not finding.severity:
            finding = Finding(finding.rule, severity, finding.message, finding.location, finding.hint)
        kept.append(finding)
    return kept


def promotion_gates(policy: Policy, stage: str) -> tuple[str, ...]:
    """The stage's gates that concern people, not the bundle: approvals and a signature."""
    gates = policy.gates(stage)
    found = []
    approvals = gates.approvals
    if approvals.count:
        roles = " or ".join(approvals.roles or ["any role"])
        found.append(f"{approvals.count} approval(s) from {roles}")
    signature = gates.signature
    if signature.required:
        roles = " or ".join(signature.roles or ["a trusted signer"])
        found.append(f"a release signature by {roles}")
    return tuple(found)


def _runs_onnx(name: str | None) -> bool:
    from modelgate.core.formats.registry import by_name

    fmt = by_name(name)
    return fmt is not None and fmt.onnx_checks


def _ref(ctx: CheckContext) -> BundleRef:
    return BundleRef(str(ctx.bundle.source), ctx.typed.name, ctx.typed.version)


def validate_bundle(*, request: ValidationRequest, progress: Progress | None = None) -> Report:
    """Run every check on ``request.bundle`` for ``request.stage``; return the :class:`Report`.

    The one way in for the command line, the desktop app and the registry: the
    request says what the caller knows about signatures (see :mod:`.request`).

    Raises :class:`OperationCancelled` if ``progress`` is cancelled. A check that
    crashes becomes an MG100 finding instead of an exception.
    """
    policy, stage = request.policy, request.stage
    check_stage(stage)
    progress = progress or Progress()
    started = time.perf_counter()
    started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    ctx = CheckContext(bundle=request.bundle, policy=policy, stage=stage, progress=progress,
                       champion_bundle=request.champion, trust=request.trust, recorded=request.recorded)
    if request.digests is not None:
        content = request.bundle.content_files()
        if all(name in request.digests for name in content):  # hashed by the caller in this run
            ctx.digests = {name: request.digests[name] for name in content}
    checks = load_all()
    if ctx.manifest is not None and any(_runs_onnx(a.format) for _, a in ctx.artifacts()):
        from modelgate.core.formats import sandbox
        sandbox.prewarm()  # the model process imports onnxruntime while the bundle is hashed
    findings: list[Finding] = list(ctx.manifest_result.findings)
    timings = []
    if ctx.manifest is not None:
        hash_start = time.perf_counter()
        ctx.digests  # hashing dominates; do it first, with byte progress
        timings.append(("hashing", time.perf_counter() - hash_start))
    progress.start(label="checking", total=len(checks))
    ran = []
    for check in checks:
        progress.check()
        if check.needs_manifest and ctx.manifest is None:
            progress.advance()
            continue
        begin = time.perf_counter()
        try:
            findings.extend(check.function(ctx))
        except (OperationCancelled, KeyboardInterrupt):
            raise
        except ModelGateError as error:
            if error.rule in CATALOG:
                findings.append(CATALOG[error.rule].finding(error.message, hint=error.hint))
            else:
                findings.append(CHECK_FAILED.finding(f"{check.name}: {error.message}", hint=error.hint))
        except Exception as error:  # a crashing check must never pass a bundle
            findings.append(CHECK_FAILED.finding(
                f"{check.name} failed: {error.__class__.__name__}: {error}"))
        timings.append((check.name, time.perf_counter() - begin))
        ran.append(check.name)
        progress.advance()
    findings = _apply_policy(findings, policy)
    findings.sort(key=lambda f: (f.severity.rank, f.rule, f.location.file, f.location.path or ""))
    findings = group_repeats(findings, keep=settings.get(settings.MAX_FINDINGS_PER_RULE))
    findings = place(findings, document=ctx.manifest_result.document)
    return Report(
        bundle=_ref(ctx), stage=stage, policy_name=policy.name, policy_source=policy.source,
        policy_digest=policy.digest, findings=tuple(findings), started_at=started_at,
        duration_s=time.perf_counter() - started, timings=tuple(timings),
        champion=_ref(ctx.champion) if ctx.champion else None, checks_run=tuple(ran),
        promotion_gates=promotion_gates(policy, stage),
    )


def validate_folder(*, path: Path, policy: Policy, stage: str, champion: Path | None = None,
                    trust=None, recorded: RecordedSignatures | None = None, digests=None,
                    progress: Progress | None = None) -> Report:
    """Open the bundle at ``path`` (and the ``champion`` bundle) and validate them as one
    :class:`ValidationRequest` carrying ``trust``, ``recorded`` and ``digests``."""
    from modelgate.core.bundle.reader import open_bundle

    with open_bundle(path, progress=progress) as bundle, ExitStack() as stack:
        opened = stack.enter_context(open_bundle(champion)) if champion is not None else None
        request = ValidationRequest(bundle=bundle, policy=policy, stage=stage, champion=opened, trust=trust,
                                    recorded=recorded, digests=digests)
        return validate_bundle(request=request, progress=progress)
