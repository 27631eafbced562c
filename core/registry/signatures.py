"""Trusted signers and recorded release signatures.

An admin trusts a signer's public key under the signer's user name; a
signature is recorded only after it verifies against the stored bundle and a
trusted, unrevoked key, so every recorded signature names a trusted signer.
The production gate (``gates.py``) reads these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from modelgate.core.signing.keys import check_name as check_key_name
from modelgate.core.signing.keys import fingerprint_prefix, short
from modelgate.core.signing.trust import TrustedKey as TrustEntry
from modelgate.core.signing.trust import TrustStore, trusted_key

from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.certificates import registry_signer, revoked_key_of
from modelgate.core.registry.errors import NotFound, WorkflowRefused
from modelgate.core.registry.models import Signature, TrustedKey, as_utc, utcnow
from modelgate.core.registry.queries import get_version
from modelgate.core.registry.records import SignatureInfo

#: The status of a signature whose key the registry revoked.
REVOKED = "revoked"


@dataclass(frozen=True)
class TrustedKeyInfo:
    """One trusted key, as ``keys list`` shows it."""

    name: str
    fingerprint: str
    added_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None


def _info(row: TrustedKey) -> TrustedKeyInfo:
    return TrustedKeyInfo(row.name, row.fingerprint, row.added_by, as_utc(row.created_at),
                          as_utc(row.revoked_at) if row.revoked_at else None, row.revoke_reason)


def trust_key(registry, *, name: str, public_key: Path) -> TrustedKeyInfo:
    """Trust the public key at ``public_key`` as user ``name``'s (admins only; audited)."""
    name = identity.check_name(name)  # the same canonical name the user holds, never a look-alike
    key = trusted_key(name=check_key_name(name, what="signer name"), path=public_key)
    with registry.session() as session:
        identity.require(session, registry.actor, "admin", action="trust signing keys", subject=name)
        user = identity.find_user(session, name)
        if user is None or user.removed_at is not None:
            raise NotFound(f"no user {name!r} in this registry" if user is None else f"{name!r} was removed",
                           hint=f"Add them first: modelgate users add {name} --role signer")
        name = user.name
        known = session.execute(select(TrustedKey).where(TrustedKey.fingerprint == key.fingerprint)
                                ).scalar_one_or_none()
        if known is not None:
            state = "revoked" if known.revoked_at else "trusted"
            raise WorkflowRefused(f"this key is already {state} as {known.name!r}",
                                  hint="A revoked key is never trusted again; generate a new pair.")
        if pgwrites.guarded(session):
            row = session.get(TrustedKey, pgwrites.call(session, "trust_key", name=name, fingerprint=key.fingerprint,
                                                        public_key=key.public_pem.decode("ascii")))
        else:
            row = TrustedKey(name=name, fingerprint=key.fingerprint, public_key=key.public_pem.decode("ascii"),
                             added_by=registry.actor, created_at=utcnow())
            session.add(row)
            session.flush()
        audit.append(session, actor=registry.actor, action="key.trust", subject=f"user:{name}",
                     payload={"fingerprint": key.fingerprint})
        return _info(row)


def revoke_key(registry, *, fingerprint: str, reason: str) -> TrustedKeyInfo:
    """Stop trusting a key (admins only; audited). Its earlier signatures stop counting too."""
    if not reason or not reason.strip():
        raise WorkflowRefused("a revocation needs a reason", hint="Pass --reason TEXT.")
    with registry.session() as session:
        identity.require(session, registry.actor, "admin", action="revoke signing keys", subject=fingerprint)
        try:
            prefix = fingerprint_prefix(fingerprint)
        except ValueError as exc:
            raise NotFound(str(exc), hint="`modelgate keys list` shows the fingerprints.") from None
        rows = session.execute(select(TrustedKey).where(TrustedKey.fingerprint.startswith(prefix))
                               ).scalars().all()
        if len(rows) != 1:
            raise NotFound(f"{'no' if not rows else 'more than one'} trusted key with fingerprint "
                           f"{fingerprint!r}", hint="`modelgate keys list` shows the fingerprints.")
        row = rows[0]
        if row.revoked_at is None:
            if pgwrites.guarded(session):
                pgwrites.call(session, "revoke_key", key_id=row.id, reason=reason.strip())
                session.refresh(row)
            else:
                row.revoked_at, row.revoked_by, row.revoke_reason = utcnow(), registry.actor, reason.strip()
            audit.append(session, actor=registry.actor, action="key.revoke", subject=f"user:{row.name}",
                         payload={"fingerprint": row.fingerprint, "reason": reason.strip()})
        return _info(row)


def trusted_keys(registry) -> list[TrustedKeyInfo]:
    """Every trusted key, revoked ones included, by name."""
    with registry.session(write=False) as session:
        rows = session.execute(select(TrustedKey).order_by(TrustedKey.name, TrustedKey.id)).scalars()
        return [_info(row) for row in rows]


def trust_store(registry) -> TrustStore:
    """The registry's unrevoked trusted keys as a trust store."""
    with registry.session(write=False) as session:
        rows = session.execute(select(TrustedKey).where(TrustedKey.revoked_at.is_(None))).scalars().all()
        keys = tuple(TrustEntry(r.name, r.fingerprint, r.public_key.encode("ascii"), "registry") for r in rows)
    from modelgate.core.registry.certificates import with_certificates

    return with_certificates(registry, TrustStore(keys, f"the registry's trusted signers ({len(keys)})"))


def _stored(registry, *, name: str, version: str, role: str, action: str):
    from modelgate.core.registry.damage import damage_of, refusal

    with registry.session(write=False) as session:
        identity.require(session, registry.actor, role, action=action, subject=f"{name}@{version}")
        row = get_version(session, name=name, version=version)
        marked = damage_of(session, row.id)
        if marked is not None:  # a damaged copy is never signed: the signature would vouch for other bytes
            raise refusal(f"{name}@{version}", marked, action="sign")
        return row.digest, registry.store.path_of(row.store_path)


def _hash_stored(registry, bundle, digest: str, name: str, version: str, progress) -> dict[str, str]:
    from modelgate.core.signing.payload import hash_while_importing

    digests = hash_while_importing(bundle, progress=progress)
    _require_intact(registry, digests, digest, name, version)
    return digests


def _require_intact(registry, digests: dict[str, str], digest: str, name: str, version: str) -> None:
    """Refuse bytes that are not the ones imported, marking the version damaged (and audited)."""
    from modelgate.core.bundle.digests import bundle_digest
    from modelgate.core.registry.damage import mark_damaged, refusal

    if bundle_digest(digests) != digest:
        check = registry.store.inspect(digest)
        with registry.session() as session:
            row = get_version(session, name=name, version=version)
            mark_damaged(session, row, check=check, actor=registry.actor, label=f"{name}@{version}")
        raise refusal(f"{name}@{version}", check, action="sign")


def record_signatures(registry, *, name: str, version: str, documents: dict[str, bytes],
                      progress=None) -> list[SignatureInfo]:
    """Verify ``{file: document}`` against the stored bundle and record them.

    Needs the signer role. Refuses (:class:`WorkflowRefused`, exit 1) when any
    document does not verify with a trusted, unrevoked key; a signature already
    recorded is not recorded twice.
    """
    from modelgate.core.bundle.reader import open_bundle

    digest, stored = _stored(registry, name=name, version=version, role="signer", action="record signatures")
    with open_bundle(stored) as bundle:
        digests = _hash_stored(registry, bundle, digest, name, version, progress)
        return _verify_and_record(registry, name=name, version=version, documents=documents,
                                  root=bundle.root, digests=digests)


def sign_version(registry, *, name: str, version: str, key: Path, passphrase: bytes, signer: str,
                 progress=None, certificate: Path | None = None, chain: tuple[Path, ...] = ()) -> list[SignatureInfo]:
    """Sign the stored bundle of ``name@version`` with ``key``, verify and record the signature.

    With ``certificate`` (and intermediates in ``chain``) the signature carries the
    certificate chain; it is recorded when the chain leads to a CA the registry trusts.
    """
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.sign import prepare, signature_document

    digest, stored = _stored(registry, name=name, version=version, role="signer", action="sign versions")
    with open_bundle(stored) as bundle:
        digests, _ = prepare(bundle, key=key, passphrase=passphrase, signer=signer, progress=progress)
        _require_intact(registry, digests, digest, name, version)
        document = signature_document(root=bundle.root, digests=digests, key=key, passphrase=passphrase,
                                      certificate=certificate, chain=tuple(chain))
        return _verify_and_record(registry, name=name, version=version, root=bundle.root, digests=digests,
                                  documents={f"signatures/{signer}.sig": document})


def _verify_and_record(registry, *, name: str, version: str, documents: dict[str, bytes], root: Path,
                       digests: dict[str, str]) -> list[SignatureInfo]:
    from modelgate.core.signing.document import CERTIFICATE
    from modelgate.core.signing.payload import build_manifest
    from modelgate.core.signing.verify import check_signature

    store = trust_store(registry)
    manifest = build_manifest(digests, model_name=root.name)
    checks = [check_signature(name=file, document=document, root=root, manifest=manifest, trust=store)
              for file, document in sorted(documents.items())]
    # A release signature vouches for every stored byte: one whose own ignore paths
    # leave files out is valid for what it covers, but is not recorded as the release's.
    failed = [c for c in checks if not c.valid or c.uncovered]
    if failed:
        raise WorkflowRefused("; ".join(f"{c.file}: {c.reason or 'leaves out ' + ', '.join(c.uncovered[:5])}"
                                        for c in failed),
                              hint="Only signatures that verify with a trusted key are recorded; "
                                   "`modelgate keys list` shows the trusted keys.")
    recorded = []
    with registry.session() as session:
        row = get_version(session, name=name, version=version, for_update=True)
        for check in checks:
            document = documents[check.file].decode("utf-8")
            duplicate = session.execute(select(Signature.id).where(
                Signature.version_id == row.id, Signature.key_fingerprint == check.fingerprint,
                Signature.document == document)).scalar_one_or_none()
            if duplicate is not None:
                continue
            signer = registry_signer(session, check)
            revoked = revoked_key_of(session, document)
            if revoked is not None:
                raise WorkflowRefused(f"{check.file}: the signing certificate carries {revoked.name}'s key "
                                      f"{short(revoked.fingerprint)}, revoked on {as_utc(revoked.revoked_at):%Y-%m-%d}; "
                                      "a revoked key signs nothing, under a certificate or not",
                                      hint="Sign with a new key, and have the CA certify that key.")
            if pgwrites.guarded(session) and check.signer_kind == CERTIFICATE:
                signature = session.get(Signature, pgwrites.call(
                    session, "record_certificate_signature", version_id=row.id, signer=signer,
                    fingerprint=check.fingerprint, chain=list(_certificate_path(document, store)),
                    file=check.file, document=document))
            elif pgwrites.guarded(session):
                signature = session.get(Signature, pgwrites.call(
                    session, "record_signature", version_id=row.id, signer=signer,
                    fingerprint=check.fingerprint, file=check.file, document=document))
            else:
                signature = Signature(version_id=row.id, signer=signer, key_fingerprint=check.fingerprint,
                                      bundle_digest=row.digest, verified=True, created_at=utcnow(),
                                      file=check.file, document=document, recorded_by=registry.actor)
                session.add(signature)
                session.flush()
            audit.append(session, actor=registry.actor, action="signature.add", subject=f"{name}@{version}",
                         payload={"signer": signer, "fingerprint": check.fingerprint,
                                  "bundle_digest": row.digest, "file": check.file})
            recorded.append(SignatureInfo.of(signature))
    return recorded


def _certificate_path(document: str, store: TrustStore) -> tuple[str, ...]:
    """Fingerprints from a verified certificate signature's signing certificate to the CA its chain
    leads to in ``store``, which the database checks against its trusted and revoked certificates."""
    from modelgate.core.signing.certificates import verify_chain
    from modelgate.core.signing.document import read_signature

    parsed = read_signature(document.encode("utf-8"))
    return verify_chain(certificates=parsed.certificates, authorities=store.authorities,
                        revoked=store.revoked).chain_fingerprints


def reverified_signatures(registry, *, name: str, version: str, progress=None) -> set[int]:
    """The ids of the recorded signatures of ``name@version`` that verify again, now: each
    document checked cryptographically against the stored bytes (hashed afresh) with the keys
    the registry trusts today. A rollback counts only these."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.payload import build_manifest, hash_while_importing
    from modelgate.core.signing.verify import check_signature

    store = trust_store(registry)
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        recorded = session.execute(select(Signature.id, Signature.file, Signature.document)
                                   .where(Signature.version_id == row.id, Signature.document.is_not(None))
                                   .order_by(Signature.id)).all()
        stored = registry.store.path_of(row.store_path)
    if not recorded:
        return set()
    with open_bundle(stored, progress=progress) as bundle:
        digests = hash_while_importing(bundle, progress=progress)
        manifest = build_manifest(digests, model_name=bundle.root.name)
        return {number for number, file, document in recorded
                if check_signature(name=file or f"signature #{number}", document=document.encode("utf-8"),
                                   root=bundle.root, manifest=manifest, trust=store).valid}


def signature_documents(path: Path) -> dict[str, bytes]:
    """``{signatures/NAME.sig: document}`` of a bundle folder or archive."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.verify import MAX_SIGNATURE_BYTES, signature_files

    with open_bundle(path) as bundle:
        return {name: bundle.read_bytes(name, limit=MAX_SIGNATURE_BYTES) for name in signature_files(bundle)}


def verify_version(registry, *, name: str, version: str, trust: TrustStore | None = None,
                   progress=None):
    """Check every signature of ``name@version`` again, cryptographically, against ``trust``
    (default: the registry's trusted signers): those the registry recorded and the
    ``signatures/*.sig`` files the stored bundle holds. Returns a
    :class:`~modelgate.core.signing.verify.VerifyReport`; needs no role."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.bundle.digests import bundle_digest
    from modelgate.core.signing.payload import build_manifest, hash_while_importing
    from modelgate.core.signing.verify import VerifyReport, check_signature

    store = trust or trust_store(registry)
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        recorded = session.execute(select(Signature.id, Signature.file, Signature.document, Signature.signer)
                                   .where(Signature.version_id == row.id, Signature.document.is_not(None))
                                   .order_by(Signature.id)).all()
        stored = registry.store.path_of(row.store_path)
    # Keyed by record: one signer signing twice (a new key, say) writes the same file name.
    documents = {f"{file or 'signatures/' + signer + '.sig'} (recorded #{number})": document.encode("utf-8")
                 for number, file, document, signer in recorded}
    for file, document in signature_documents(stored).items():
        if document not in documents.values():
            documents[file] = document
    with open_bundle(stored, progress=progress) as bundle:
        digests = hash_while_importing(bundle, progress=progress)
        manifest = build_manifest(digests, model_name=bundle.root.name)
        checks = tuple(check_signature(name=file, document=document, root=bundle.root, manifest=manifest,
                                       trust=store) for file, document in documents.items())
    if trust is None:
        checks = mark_revoked(registry, checks)
    return VerifyReport(checks, bundle_digest(digests), store.description)


def mark_revoked(registry, checks):
    """``checks`` with each signature by a key the registry revoked shown as revoked, with the
    signer and the revocation date, instead of as made by an unknown key."""
    from dataclasses import replace

    revoked = {k.fingerprint: k for k in trusted_keys(registry) if k.revoked_at is not None}
    marked = []
    for check in checks:
        key = revoked.get(check.fingerprint or "")
        if key is not None and not check.valid:
            why = f" ({key.revoke_reason})" if key.revoke_reason else ""
            check = replace(check, status=REVOKED, signer=key.name,
                            reason=f"the key was revoked on {key.revoked_at:%Y-%m-%d %H:%M} UTC{why}; "
                                   "its signatures no longer count")
        marked.append(check)
    return tuple(marked)
