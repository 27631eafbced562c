"""Publishing a registered version (to an OCI registry, an OCI image layout or a plain
folder), and the gates that allow it.

A version leaves for an OCI registry only when the gates of the stage it stands at hold
today (its stored copy re-hashed, validation, approvals and signature as the policy in
force asks for that stage) and only by a signer or an admin. Its release signatures and a
decision record (reviews, promotions, the gates just judged) travel with it as referrers.
The "store.pushed" / "store.exported" event is appended only after the registry accepted
the manifest (or the folder is in place), so no record claims bytes that are not there.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select

from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.registry import audit, identity
from modelgate.core.registry.errors import WorkflowRefused
from modelgate.core.policy.stages import STAGES
from modelgate.core.registry.gates import (MET, NOT_MET, RETIRED, GateResult, _approvals, _signature, _validation,
                                           stored_copy)
from modelgate.core.registry.models import Attestation, Promotion, Review, Signature
from modelgate.core.registry.queries import get_version
from modelgate.core.store.folder import remove_tree
from modelgate.core.registry.modelfacts import measured_config
from modelgate.core.store import modelpack
from modelgate.core.store.client import OciClient
from modelgate.core.store.oci import Attachment, Pushed, push_bundle
from modelgate.core.store.reference import OciReference, tag_for

PUSH_ROLES = ("signer", "admin")


@dataclass(frozen=True)
class _EnteredFrom:
    """A version seen at the stage it was promoted from, where the approvals that let it in
    were recorded (the approvals gate tallies the reviews of the version's stage)."""

    id: int
    stage: str
    submitter: str


def standing_gates(session, row, *, label: str, policy: Policy, actor: str, store) -> list[GateResult]:
    """The gates that let ``row`` into the stage it stands at, judged again today in the caller's
    transaction: the stored copy, validation for that stage, the approvals recorded at the stage
    before it, the signature that stage asks for. A retired version is not published."""
    if row.stage in RETIRED:
        return [GateResult("stage", NOT_MET, f"the version is {row.stage}: retired versions are not published")]
    copy = stored_copy(session, row, label=label, store=store, actor=actor)
    if copy.blocking:
        return [copy]
    here = STAGES.index(row.stage)
    if here == 0:
        approvals = GateResult("approvals", MET, f"none are asked to enter {row.stage}", required=False)
    else:
        approvals = _approvals(session, _EnteredFrom(row.id, STAGES[here - 1], row.submitter), to_stage=row.stage,
                               policy=policy)
    return [copy,
            _validation(session, row, label=label, to_stage=row.stage, policy=policy, actor=actor, fresh=None,
                        store=store, verify_store=False),
            approvals,
            _signature(session, row, to_stage=row.stage, policy=policy)]


@dataclass(frozen=True)
class Release:
    """A version cleared to leave: its verified stored folder and what travels with it."""

    label: str
    digest: str
    stage: str
    folder: Path
    files: dict[str, str]
    manifest: dict
    attachments: tuple[Attachment, ...]


def release(registry, *, name: str, version: str, policy: Policy | None = None, action: str) -> Release:
    """``name@version`` when its stage's gates hold today and the actor is a signer or an
    admin; :class:`WorkflowRefused` (exit 1) naming every gate that does not hold otherwise."""
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.registry.policies import policy_in_force

    label = f"{name}@{version}"
    policy = policy or policy_in_force(registry)
    store = registry.store
    with registry.session() as session:
        identity.require(session, registry.actor, *PUSH_ROLES, action=action, subject=label)
        row = get_version(session, name=name, version=version)
        if row.stage in RETIRED:
            raise WorkflowRefused(f"{label} is {row.stage}: a retired version is not pushed or exported",
                                  hint="Push or export the version that replaced it.")
        results = standing_gates(session, row, label=label, policy=policy, actor=registry.actor, store=store)
        blocking = [g for g in results if g.blocking]
        if blocking:
            raise WorkflowRefused(f"{label} cannot leave: the gates of {row.stage} do not hold ("
                                  + "; ".join(f"{g.name}: {g.reason}" for g in blocking) + ")",
                                  hint="Only a version whose stage's gates hold is pushed or exported.")
        digest, stage = row.digest, row.stage
        attachments = _attachments(session, row, label=label, gates=results)
    files = store.listing(digest)
    if files is None:
        raise WorkflowRefused(f"{label}: no trustworthy file list is kept for its stored copy",
                              hint="`modelgate registry fsck` checks the store.")
    folder = store.path_of(store.relative(digest))
    with open_bundle(folder) as bundle:
        manifest = load_manifest(bundle).require()
    return Release(label, digest, stage, folder, files, manifest, attachments)


def _record(registry, chosen: Release, *, action: str, where: str, digest: str | None) -> None:
    """The event, appended only once the bytes are where it says."""
    with registry.session() as session:
        audit.append(session, actor=registry.actor, action=action, subject=chosen.label,
                     payload={"reference": where, "manifest_digest": digest, "bundle_digest": chosen.digest,
                              "stage": chosen.stage, "attachments": len(chosen.attachments)})


def push_version(registry, *, name: str, version: str, target: OciReference, insecure: bool = False,
                 policy: Policy | None = None, progress: Progress | None = None) -> Pushed:
    """Push ``name@version`` to ``target`` (a repository; the tag is the version). Refused
    (:class:`WorkflowRefused`, exit 1) when a gate of its stage does not hold."""
    chosen = release(registry, name=name, version=version, policy=policy, action="push a version")
    client = OciClient(reference=target, insecure=insecure)
    pushed = push_bundle(client=client, folder=chosen.folder, files=chosen.files, manifest=chosen.manifest,
                         bundle_digest=chosen.digest, tag=tag_for(version), attachments=chosen.attachments,
                         progress=progress, measured=measured_config(chosen.folder, chosen.manifest))
    _record(registry, chosen, action="store.pushed", where=pushed.reference, digest=pushed.digest)
    return pushed


def export_layout(registry, *, name: str, version: str, dest: Path, policy: Policy | None = None,
                  progress: Progress | None = None) -> Pushed:
    """Write ``name@version`` as an OCI image layout in the new folder ``dest`` (for the air
    gap); nothing is left at ``dest`` when it fails."""
    from modelgate.core.store.layout import LayoutStore

    chosen = release(registry, name=name, version=version, policy=policy, action="export a version")
    staging = _staging(dest)
    try:
        layout = LayoutStore(folder=staging)
        layout.create()
        pushed = push_bundle(client=layout, folder=chosen.folder, files=chosen.files, manifest=chosen.manifest,
                             bundle_digest=chosen.digest, tag=tag_for(version), attachments=chosen.attachments,
                             progress=progress)
        _into_place(staging, dest)
    except BaseException:
        remove_tree(staging)
        raise
    _record(registry, chosen, action="store.exported", where=f"oci:{dest}:{tag_for(version)}", digest=pushed.digest)
    return pushed


def export_folder(registry, *, name: str, version: str, dest: Path, policy: Policy | None = None) -> Path:
    """Write ``name@version`` as a plain bundle folder ``dest``, every file read back through
    the store's verification, with its signatures in ``signatures/`` (the layout the stock
    ``model_signing verify --ignore-paths DEST/signatures`` checks) and its decision record
    beside it as ``DEST.decisions.json``."""
    from modelgate.core.registry.attestations import attestations
    from modelgate.core.signing.attestations import BUNDLE_FILE

    chosen = release(registry, name=name, version=version, policy=policy, action="export a version")
    statements = attestations(registry, name=name, version=version)
    unsigned = [s for s in statements if s.envelope is None]
    if unsigned:
        # A copy missing one decision would claim less than the registry knows, or fail to verify.
        raise WorkflowRefused(f"{chosen.label} has {len(unsigned)} unsigned decision attestation(s)",
                              hint=f"A signer signs them: modelgate attest {chosen.label} --key NAME.key")
    staging = _staging(dest)
    try:
        for relative in sorted(chosen.files):
            target = staging.joinpath(*relative.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            with registry.store.open_verified(chosen.digest, relative) as reader, open(target, "xb") as out:
                while chunk := reader.read(4 * 1024 * 1024):
                    out.write(chunk)
        for attachment in chosen.attachments:
            if attachment.artifact_type == modelpack.SIGNATURE_TYPE:
                (staging / "signatures").mkdir(exist_ok=True)
                (staging / "signatures" / attachment.filename).write_bytes(attachment.data)
        if statements:
            lines = "".join(json.dumps(s.envelope, sort_keys=True) + "\n" for s in statements)
            (staging / BUNDLE_FILE).parent.mkdir(exist_ok=True)
            (staging / BUNDLE_FILE).write_text(lines, encoding="utf-8")
        _into_place(staging, dest)
    except BaseException:
        remove_tree(staging)
        raise
    decisions = next(a for a in chosen.attachments if a.artifact_type == modelpack.DECISIONS_TYPE)
    dest.with_name(dest.name + ".decisions.json").write_bytes(decisions.data)
    _record(registry, chosen, action="store.exported", where=str(dest), digest=None)
    return dest


def _staging(dest: Path) -> Path:
    import tempfile

    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise WorkflowRefused(f"{dest} already exists and is not an empty folder", hint="Export into a new folder.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".export-", dir=dest.parent))


def _into_place(staging: Path, dest: Path) -> None:
    if dest.exists():
        dest.rmdir()
    os.rename(staging, dest)


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
    # each signed decision attestation is a referrer of its own (unsigned ones wait for a signer)
    attested = tuple(Attachment(modelpack.ATTESTATION_TYPE, f"decision-{a.sequence}-{a.id}.dsse.json",
                                a.envelope.encode("utf-8"))
                     for a in rows(Attestation) if a.envelope)
    return (*signatures, decisions, *attested)


def _signature_name(row, number: int) -> str:
    name = (row.file or "").rsplit("/", 1)[-1]
    return name if name and name not in (".", "..") else f"signature-{number}.sig"
