"""Certificates in the registry's trust store: trusted CAs and revoked certificates.

An admin trusts an organisation's CA certificate (the root, or an issuing
intermediate); signatures whose certificate chain leads to it are trusted, and
the signer is named by the signing certificate's subject. Revoking works like
key revocation: a revoked CA stops anchoring anything, and a revoked signing or
intermediate certificate (revoked by its PEM file or fingerprint, trusted or not)
makes every chain through it untrusted. Both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from modelgate.core.signing.certificates import TrustedAuthority, authority, load_certificates, subject_text
from modelgate.core.signing.keys import check_name

from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.errors import NotFound, WorkflowRefused
from modelgate.core.registry.models import Signature, TrustedCertificate, TrustedKey, as_utc, utcnow


@dataclass(frozen=True)
class TrustedCertificateInfo:
    """One certificate row, as ``keys certificates`` shows it."""

    name: str
    subject: str
    fingerprint: str
    is_ca: bool
    added_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None


def _info(row: TrustedCertificate) -> TrustedCertificateInfo:
    return TrustedCertificateInfo(row.name, row.subject, row.fingerprint, row.is_ca, row.added_by,
                                  as_utc(row.created_at), as_utc(row.revoked_at) if row.revoked_at else None,
                                  row.revoke_reason)


def trust_ca(registry, *, name: str, path: Path) -> list[TrustedCertificateInfo]:
    """Trust every CA certificate in the PEM file ``path`` under ``name`` (admins only; audited)."""
    check_name(name, what="CA name")
    certificates = load_certificates(path)
    entries = [authority(certificate=c, source=str(path), name=name) for c in certificates]
    subjects = {e.fingerprint: subject_text(c) for e, c in zip(entries, certificates)}
    added = []
    with registry.session() as session:
        identity.require(session, registry.actor, "admin", action="trust CA certificates", subject=name)
        for entry in entries:
            known = session.execute(select(TrustedCertificate)
                                    .where(TrustedCertificate.fingerprint == entry.fingerprint)).scalar_one_or_none()
            if known is not None:
                state = "revoked" if known.revoked_at else "trusted"
                raise WorkflowRefused(f"{subjects[entry.fingerprint]} is already {state} as {known.name!r}",
                                      hint="A revoked certificate is never trusted again.")
            if pgwrites.guarded(session):
                row = session.get(TrustedCertificate, pgwrites.call(
                    session, "trust_ca", name=name, subject=subjects[entry.fingerprint],
                    fingerprint=entry.fingerprint, certificate=entry.pem.decode("ascii")))
            else:
                row = TrustedCertificate(name=name, subject=subjects[entry.fingerprint], fingerprint=entry.fingerprint,
                                         certificate=entry.pem.decode("ascii"), is_ca=True, added_by=registry.actor,
                                         created_at=utcnow())
                session.add(row)
                session.flush()
            audit.append(session, actor=registry.actor, action="certificate.trust", subject=f"ca:{name}",
                         payload={"fingerprint": entry.fingerprint, "subject": row.subject})
            added.append(_info(row))
    return added


def revoke_certificate(registry, *, certificate: str, reason: str) -> TrustedCertificateInfo:
    """Revoke a CA, intermediate or signing certificate, given by PEM file or fingerprint (prefix).

    A certificate the registry does not hold yet is recorded as revoked, so a
    signing certificate can be revoked although only its CA was ever trusted.
    """
    from cryptography.hazmat.primitives import serialization

    from modelgate.core.signing.certificates import certificate_fingerprint

    if not reason or not reason.strip():
        raise WorkflowRefused("a revocation needs a reason", hint="Pass --reason TEXT.")
    parsed = None
    if Path(certificate).is_file():
        found = load_certificates(Path(certificate))
        if len(found) != 1:
            raise WorkflowRefused(f"{certificate} holds {len(found)} certificates; revoke them one by one")
        parsed = found[0]
    with registry.session() as session:
        identity.require(session, registry.actor, "admin", action="revoke certificates", subject=certificate)
        if parsed is not None:
            fingerprint = certificate_fingerprint(parsed)
            rows = session.execute(select(TrustedCertificate)
                                   .where(TrustedCertificate.fingerprint == fingerprint)).scalars().all()
        else:
            from modelgate.core.signing.keys import fingerprint_prefix

            try:
                prefix = fingerprint_prefix(certificate)
            except ValueError as exc:
                raise NotFound(str(exc).replace("key fingerprint", "certificate fingerprint"),
                               hint="`modelgate keys certificates` shows the fingerprints; or pass the "
                                    "certificate's PEM file.") from None
            rows = session.execute(select(TrustedCertificate).where(
                TrustedCertificate.fingerprint.startswith(prefix))).scalars().all()
            if len(rows) != 1:
                raise NotFound(f"{'no' if not rows else 'more than one'} certificate with fingerprint "
                               f"{certificate!r} in the registry",
                               hint="Pass the certificate's PEM file to revoke one the registry does not hold.")
        if pgwrites.guarded(session):
            return _revoke_guarded(session, rows[0] if rows else None, parsed, reason.strip(), registry.actor)
        if rows:
            row = rows[0]
        else:
            row = TrustedCertificate(name=_common_name(parsed), subject=subject_text(parsed),
                                     fingerprint=certificate_fingerprint(parsed),
                                     certificate=parsed.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                                     is_ca=False, added_by=registry.actor, created_at=utcnow())
            session.add(row)
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by, row.revoke_reason = utcnow(), registry.actor, reason.strip()
            signatures = _signatures_under(session, row.fingerprint)
            for signature in signatures:
                signature.verified = False
            session.flush()
            _audit_revocation(session, registry.actor, row, reason.strip(), len(signatures))
        return _info(row)


def _revoke_guarded(session, row, parsed, reason: str, actor: str) -> TrustedCertificateInfo:
    """Revoke through the database's guarded function (PostgreSQL); see :func:`revoke_certificate`."""
    from cryptography.hazmat.primitives import serialization

    from modelgate.core.signing.certificates import certificate_fingerprint

    if row is not None and row.revoked_at is not None:
        return _info(row)
    if row is not None:
        fingerprint, name, subject, pem = row.fingerprint, row.name, row.subject, row.certificate
    else:
        fingerprint, name, subject = certificate_fingerprint(parsed), _common_name(parsed), subject_text(parsed)
        pem = parsed.public_bytes(serialization.Encoding.PEM).decode("ascii")
    signature_ids = [signature.id for signature in _signatures_under(session, fingerprint)]
    certificate_id, withdrawn = pgwrites.call(session, "revoke_certificate", fingerprint=fingerprint, reason=reason,
                                              name=name, subject=subject, certificate=pem,
                                              signature_ids=signature_ids)
    session.expire_all()  # the function changed rows this session may hold
    row = session.get(TrustedCertificate, certificate_id)
    _audit_revocation(session, actor, row, reason, withdrawn)
    return _info(row)


def _audit_revocation(session, actor: str, row: TrustedCertificate, reason: str, withdrawn: int) -> None:
    audit.append(session, actor=actor, action="certificate.revoke", subject=f"certificate:{row.name}",
                 payload={"fingerprint": row.fingerprint, "subject": row.subject, "reason": reason,
                          "signatures_withdrawn": withdrawn})


def _chain_fingerprints(document: str) -> set[str]:
    from modelgate.core.signing.certificates import certificate_fingerprint_der
    from modelgate.core.signing.document import read_signature
    from modelgate.core.signing.errors import SignatureFormatError

    try:
        parsed = read_signature(document.encode("utf-8"))
    except SignatureFormatError:
        return set()
    return {certificate_fingerprint_der(der) for der in parsed.certificates}


def _signatures_under(session, fingerprint: str) -> list[Signature]:
    """Recorded, verified certificate signatures whose chain holds ``fingerprint``.

    The chain is re-read from each signature's own document; a recorded
    signature's chain ends at the CA it was verified against, which the document
    may omit, so a signature recorded under a revoked CA is found by its trust anchor too.
    """
    rows = session.execute(select(Signature).where(Signature.verified.is_(True),
                                                   Signature.document.is_not(None))).scalars().all()
    return [signature for signature in rows if "x509CertificateChain" in signature.document
            and fingerprint in _chain_fingerprints(signature.document) | _anchors_of(session, signature)]


def _anchors_of(session, signature) -> set[str]:
    """The fingerprints of the registry's CAs that anchor ``signature``'s chain."""
    from modelgate.core.signing.certificates import ChainRejected, verify_chain
    from modelgate.core.signing.document import read_signature

    parsed = read_signature(signature.document.encode("utf-8"))
    anchors = set()
    for row in session.execute(select(TrustedCertificate).where(TrustedCertificate.is_ca.is_(True))).scalars():
        entry = TrustedAuthority(row.name, row.fingerprint, row.certificate.encode("ascii"), "registry")
        try:
            verify_chain(certificates=parsed.certificates, authorities=(entry,))
        except ChainRejected:
            continue
        anchors.add(row.fingerprint)
    return anchors


def certificate_key_fingerprint(document: str | None) -> str | None:
    """The fingerprint (as trusted keys have it) of the key a certificate signature was made
    with: the signing certificate's public key. ``None`` for any other signature."""
    from cryptography import x509

    from modelgate.core.signing.document import read_signature
    from modelgate.core.signing.errors import SignatureFormatError
    from modelgate.core.signing.keys import fingerprint

    if not document or "x509CertificateChain" not in document:
        return None
    try:
        parsed = read_signature(document.encode("utf-8"))
        return fingerprint(x509.load_der_x509_certificate(parsed.certificates[0]).public_key())
    except (SignatureFormatError, ValueError, IndexError):
        return None


def revoked_key_of(session, document: str | None):
    """The revoked trusted key a certificate signature was made with, or ``None``: revoking a
    leaked key also ends what it signs under a certificate."""
    key = certificate_key_fingerprint(document)
    if key is None:
        return None
    return session.execute(select(TrustedKey).where(TrustedKey.fingerprint == key,
                                                    TrustedKey.revoked_at.is_not(None))).scalar_one_or_none()


def registry_signer(session, check) -> str:
    """The registry user a verified signature is recorded for.

    A key signature names its trusted key's user. A certificate signature names
    the user whose name is the signing certificate's common name: the
    organisation's CA vouches for that name, and the gates weigh that user's roles.
    """
    from modelgate.core.signing.document import CERTIFICATE

    if check.signer_kind != CERTIFICATE:
        return check.signer
    common = _common_name_of_subject(check.signer)
    user = identity.find_user(session, common) if common is not None else None
    if user is not None and user.removed_at is not None:
        raise WorkflowRefused(f"{check.file}: the signing certificate names {user.name}, who was removed from "
                              "this registry and can no longer sign",
                              hint="Revoke the certificate (`modelgate keys revoke-certificate`).")
    if user is None:
        raise WorkflowRefused(f"{check.file}: the signing certificate's subject {check.signer} names no user of "
                              "this registry (its common name must be the signer's user name)",
                              hint="Add the user (`modelgate users add NAME --role signer`), or have the CA "
                                   "issue the certificate with CN=user name.")
    return user.name


def _common_name_of_subject(subject: str) -> str | None:
    from cryptography.x509 import Name

    try:
        name = Name.from_rfc4514_string(subject)
    except ValueError:
        return None
    from cryptography.x509.oid import NameOID

    names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _common_name(certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value)[:200] if names else "certificate"


def trusted_certificates(registry) -> list[TrustedCertificateInfo]:
    """Every certificate row, revoked ones included, by name."""
    with registry.session(write=False) as session:
        rows = session.execute(select(TrustedCertificate)
                               .order_by(TrustedCertificate.name, TrustedCertificate.id)).scalars()
        return [_info(row) for row in rows]


def with_certificates(registry, store):
    """``store`` with the registry's unrevoked CAs as anchors and its revoked certificates as revoked."""
    with registry.session(write=False) as session:
        rows = session.execute(select(TrustedCertificate)).scalars().all()
        anchors = tuple(TrustedAuthority(r.name, r.fingerprint, r.certificate.encode("ascii"), "registry")
                        for r in rows if r.is_ca and r.revoked_at is None)
        revoked = frozenset(r.fingerprint for r in rows if r.revoked_at is not None)
    return replace(store, authorities=store.authorities + anchors, revoked=store.revoked | revoked)
