"""Gathering a version's evidence pack from the registry's public functions.

Collecting only reads: it records no validation run and writes no audit event, so a
login that may only read the registry (a PostgreSQL role with SELECT alone) can make
an auditor's report. The report instead carries the audit chain's head as verified
while it was made; ``modelgate audit verify --expect-head SEQ:HASH`` later proves the
log still holds that state.
"""

from __future__ import annotations

from datetime import datetime, timezone

from modelgate.core import __version__
from modelgate.core.evidence.pack import (ChainEvidence, EvidencePack, FindingEntry, PolicyEvidence,
                                          SignatureEvidence, StoredCopy, ValidationEvidence)
from modelgate.core.evidence.stored_bundle import read_stored
from modelgate.core.progress import Progress
from modelgate.core.policy.stages import check_stage, target_stage


def _location(location) -> str:
    if not isinstance(location, dict):
        return ""
    text = str(location.get("file") or "")
    if location.get("line"):
        text += f":{location['line']}"
    if location.get("path"):
        text += f" ({location['path']})"
    return text


def _finding(item: dict, waivers: dict) -> FindingEntry:
    rule = str(item.get("rule", "?"))
    return FindingEntry(rule, str(item.get("severity", "?")), str(item.get("message", "")),
                        _location(item.get("location")), item.get("hint"), waivers.get(rule))


def waiver_notes(waivers, *, now: datetime, policy) -> dict[str, str]:
    """``{rule: what its waiver says at now}`` for the version's confirmed, unrevoked waivers
    (:class:`~modelgate.core.findings.Waived`): a valid one wins over one that expired, and a
    waiver of a rule ``policy`` forbids waiving does not count."""
    notes: dict[str, str] = {}
    for waiver in sorted(waivers, key=lambda w: w.expires):
        if policy.waiver_forbidden(waiver.rule):
            notes[waiver.rule] = f"the waiver does not count: policy {policy.name} forbids waiving {waiver.rule}"
        elif waiver.expires > now:
            notes[waiver.rule] = (f"waived until {waiver.expires:%Y-%m-%d} by {' and '.join(waiver.approvers)}: "
                                  f"{waiver.reason}")
        else:
            notes[waiver.rule] = f"the waiver expired on {waiver.expires:%Y-%m-%d} and no longer counts"
    return notes


def _champion_label(report: dict) -> str | None:
    champion = report.get("champion")
    if isinstance(champion, dict) and champion.get("name") and champion.get("version"):
        return f"{champion['name']}@{champion['version']}"
    return None


def _validations(records, *, policy_digest: str, waivers: dict) -> tuple[ValidationEvidence, ...]:
    """The latest run per stage (in the order the stages were first validated)."""
    latest, runs = {}, {}
    for record in records:
        latest[record.info.stage] = record
        runs[record.info.stage] = runs.get(record.info.stage, 0) + 1
    found = []
    for stage, record in latest.items():
        info = record.info
        findings = sorted((_finding(f, waivers) for f in record.findings), key=_severity_rank)
        found.append(ValidationEvidence(
            stage, info.policy_name, info.policy_digest, info.policy_digest == policy_digest,
            _champion_label(record.report), info.passed, info.actor, info.created_at,
            tuple(findings), runs[stage] - 1))
    return tuple(found)


def _severity_rank(finding: FindingEntry) -> int:
    return {"error": 0, "warning": 1, "info": 2}.get(finding.severity, 3)


def _signatures(signatures, *, digest: str, keys) -> tuple[SignatureEvidence, ...]:
    by_fingerprint = {key.fingerprint: key for key in keys}
    found = []
    for sig in signatures:
        key = by_fingerprint.get(sig.key_fingerprint)
        state = "unknown" if key is None else "revoked" if key.revoked_at else "trusted"
        found.append(SignatureEvidence(
            sig.signer, sig.key_fingerprint, sig.bundle_digest, sig.bundle_digest == digest, sig.verified,
            sig.created_at, state, key.name if key else None, key.revoked_at if key else None,
            key.revoke_reason if key else None))
    return tuple(found)


def _chain(registry, progress: Progress) -> ChainEvidence:
    verdict = registry.verify_audit(progress=progress)
    last = registry.audit_log(seq=verdict.checked) if verdict.checked else []
    head = (last[0].seq, last[0].hash) if last else None
    return ChainEvidence(verdict.ok, verdict.checked, head, verdict.first_broken, verdict.reason)


def collect(registry, *, name: str, version: str, stage: str | None = None,
            progress: Progress | None = None) -> EvidencePack:
    """Everything the auditor report of ``name@version`` says, read from ``registry``.

    Re-hashes the stored bundle (is it still the bytes imported?) and verifies the whole
    audit chain, reporting both on ``progress``. The benchmarks are judged for ``stage``
    (default: the stage the desktop app judges the version for, the next on its way to
    production) under the policy in force, against the production version when there is
    another. Raises :class:`~modelgate.core.registry.NotFound` for an unknown version;
    everything else that is wrong (a damaged store, a broken chain) goes into the pack.
    """
    from modelgate.core.registry.database import redact
    from modelgate.core.registry.models import as_utc
    from modelgate.core.registry.policies import policy_info, policy_in_force
    from modelgate.core.registry.runs import validation_records
    from modelgate.core.registry.signatures import trusted_keys

    progress = progress or Progress()
    progress.start(label="reading the registry", total=0)
    generated_at = datetime.now(timezone.utc)
    detail = registry.show(name=name, version=version)
    info = detail.info
    if detail.damage is not None:  # marked by fsck: no report vouches for bytes known to be wrong
        from modelgate.core.registry.damage import refusal

        raise refusal(f"{name}@{version}", detail.damage, action="report on")
    judged = check_stage(stage) if stage else target_stage(info.stage)
    policy = policy_info(registry)
    records = validation_records(registry, name=name, version=version)
    keys = trusted_keys(registry)
    current = registry.champion(name=name, version=version)
    champion = (f"{name}@{current[0]}", current[1]) if current is not None else None
    progress.start(label="verifying the stored bundle", total=0)
    stored = StoredCopy(info.digest, registry.store.verify(info.digest, progress=progress))
    progress.start(label="reading the manifest and benchmarks", total=0)
    manifest, benchmarks = read_stored(path=detail.store_path, policy=policy_in_force(registry), stage=judged,
                                       champion=champion)
    chain = _chain(registry, progress)

    return EvidencePack(
        name=name, version=version, stage=info.stage, submitter=info.submitter, imported_at=info.created_at,
        generated_at=generated_at, tool_version=__version__, registry=redact(registry.url),
        generated_by=registry.actor, stored=stored, manifest=manifest,
        policy=PolicyEvidence(policy.name, policy.digest, policy.set_by, as_utc(policy.set_at)), chain=chain,
        benchmarks=benchmarks, validations=_validations(records, policy_digest=policy.digest, waivers=waiver_notes(
            detail.waivers, now=generated_at, policy=policy_in_force(registry))),
        reviews=tuple(detail.reviews), signatures=_signatures(detail.signatures, digest=info.digest, keys=keys),
        promotions=tuple(detail.promotions), events=tuple(detail.events))
