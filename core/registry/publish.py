"""Publishing a registered version to an OCI registry, and the gates that allow it.

A version leaves for an OCI registry only when the gates of the stage it stands at hold
today (its stored copy re-hashed, validation, approvals and signature as the policy in
force asks for that stage) and only by a signer or an admin. Its release signatures and a
decision record (reviews, promotions, the gates just judged) travel with it as referrers.
The "store.pushed" event is appended only after the registry accepted the manifest, so
no record claims bytes the registry does not hold.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import select

from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.registry import audit, identity
from modelgate.core.registry.errors import WorkflowRefused
from modelgate.core.registry.gates import GateResult, _approvals, _signature, _validation, stored_copy
from modelgate.core.registry.models import Promotion, Review, Signature
from modelgate.core.registry.queries import get_version
from modelgate.core.store import modelpack
from modelgate.core.store.client import OciClient
from modelgate.core.store.oci import Attachment, Pushed, push_bundle
from modelgate.core.store.reference import OciReference, tag_for

PUSH_ROLES = ("signer", "admin")


def standing_gates(session, row, *, label: str, policy: Policy, actor: str, store) -> list[GateResult]:
    """The gates of the stage ``row`` stands at, judged today, in the caller's transaction."""
    copy = stored_copy(session, row, label=label, store=store, actor=actor)
    if copy.blocking:
        return [copy]
    return [copy,
            _validation(session, row, label=label, to_stage=row.stage, policy=policy, actor=actor, fresh=None,
                        store=store, verify_store=False),
            _approvals(session, row, to_stage=row.stage, policy=policy),
            _signature(session, row, to_stage=row.stage, policy=policy)]


def push_version(registry, *, name: str, version: str, target: OciReference, insecure: bool = False,
                 policy: Policy | None = None, progress: Progress | None = None) -> Pushed:
    """Push ``name@version`` to ``target`` (a repository; the tag is the version). Refused
    (:class:`WorkflowRefused`, exit 1) when a gate of its stage does not hold."""
    from modelgate.core.registry.policies import policy_in_force

    label = f"{name}@{version}"
    policy = policy or policy_in_force(registry)
    store = registry.store
    with registry.session() as session:
        identity.require(session, registry.actor, *PUSH_ROLES, action="push a version", subject=label)
        row = get_version(session, name=name, version=version)
        results = standing_gates(session, row, label=label, policy=policy, actor=registry.actor, store=store)
        blocking = [g for g in results if g.blocking]
        if blocking:
            raise WorkflowRefused(f"{label} cannot be pushed: the gates of {row.stage} do not hold ("
                                  + "; ".join(f"{g.name}: {g.reason}" for g in blocking) + ")",
                                  hint="Push a version whose stage's gates hold, or meet them first.")
        digest, stage = row.digest, row.stage
        attachments = _attachments(session, row, label=label, gates=results)
    files = store.listing(digest)
    if files is None:
        raise WorkflowRefused(f"{label}: no trustworthy file list is kept for its stored copy",
                              hint="`modelgate registry fsck` checks the store.")
    folder = store.path_of(store.relative(digest))
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.reader import open_bundle

    with open_bundle(folder) as bundle:
        manifest = load_manifest(bundle).require()
    client = OciClient(reference=target, insecure=insecure)
    pushed = push_bundle(client=client, folder=folder, files=files, manifest=manifest, bundle_digest=digest,
                         tag=tag_for(version), attachments=attachments, progress=progress)
    with registry.session() as session:
        audit.append(session, actor=registry.actor, action="store.pushed", subject=label,
                     payload={"reference": pushed.reference, "manifest_digest": pushed.digest,
                              "bundle_digest": digest, "stage": stage, "attachments": pushed.attachments})
    return pushed


def _attachments(session, row, *, label: str, gates: list[GateResult]) -> tuple[Attachment, ...]:
    def rows(model):
        return session.execute(select(model).where(model.version_id == row.id).order_by(model.id)).scalars().all()

    signatures, names = [], set()
    for number, signature in enumerate(rows(Signature), start=1):
        if not (signature.document and signature.verified):
            continue
        name = _signature_name(signature, number)
        name = name if name not in names else f"{number}-{name}"
        names.add(name)
        signatures.append(Attachment(modelpack.SIGNATURE_TYPE, name, signature.document.encode()))
    record = {"subject": label, "bundle_digest": row.digest, "stage": row.stage,
              "reviews": [{"reviewer": r.reviewer, "decision": r.decision, "stage": r.stage,
                           "comment": r.comment, "at": r.created_at.isoformat()} for r in rows(Review)],
              "promotions": [{"from": p.from_stage, "to": p.to_stage, "kind": p.kind, "actor": p.actor,
                              "reason": p.reason, "at": p.created_at.isoformat()} for p in rows(Promotion)],
              "gates": [asdict(g) for g in gates]}
    decisions = Attachment(modelpack.DECISIONS_TYPE, "decisions.json",
                           json.dumps(record, sort_keys=True, indent=1).encode())
    return (*signatures, decisions)


def _signature_name(row, number: int) -> str:
    name = (row.file or "").rsplit("/", 1)[-1]
    return name if name and name not in (".", "..") else f"signature-{number}.sig"
