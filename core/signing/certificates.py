"""X.509 signers: certificates chained to an organisation's CA, checked with cryptography.

A certificate signature carries the signing certificate and the intermediates
(``verificationMaterial.x509CertificateChain``). It is trusted when the chain
leads to one of the configured CA certificates, as cryptography's path
validation (:mod:`cryptography.x509.verification`) judges it, with
ModelGate's code-signing profile on the signing certificate:

- every certificate of the chain is valid *now*. model-signing itself checks
  the chain at the moment the signing certificate became valid; a signature
  carries no trusted time, so a signature made with a certificate after it
  expired (or was superseded) cannot be told from one made before. ModelGate
  therefore refuses expired certificates: re-sign with a current one;
- the signing certificate allows signatures: its key usage, when present,
  includes digitalSignature, and its extended key usage, when present,
  includes codeSigning, and at least one of the two is present.
  model-signing accepts either one alone, even beside a TLS-server-only EKU;
- no certificate of the chain, and no CA, is revoked in the trust store.

The signer is named by the signing certificate's subject; its fingerprint is
the SHA-256 of the certificate (DER).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path

from modelgate.core.signing.errors import CertificateError

MAX_PEM_BYTES = 1024 * 1024
#: Leaf, intermediates and root: deeper chains are not what an organisation's PKI issues.
MAX_CHAIN_DEPTH = 6


@dataclass(frozen=True)
class TrustedAuthority:
    """One CA certificate a verification accepts as a root of trust."""

    name: str
    fingerprint: str
    pem: bytes
    source: str


@dataclass(frozen=True)
class CertifiedSigner:
    """A signing certificate whose chain verified: its subject, fingerprint and the chain's subjects."""

    subject: str
    fingerprint: str
    chain: tuple[str, ...]
    chain_fingerprints: tuple[str, ...]
    not_after: datetime.datetime
    public_key: object


class ChainRejected(Exception):
    """The chain does not lead to a trusted CA under the code-signing profile; the text says why."""


def certificate_fingerprint(certificate) -> str:
    """SHA-256 (hex) of the certificate's DER encoding."""
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def certificate_fingerprint_der(der: bytes) -> str:
    """SHA-256 (hex) of a DER certificate as a signature carries it."""
    return hashlib.sha256(der).hexdigest()


def subject_text(certificate) -> str:
    """The certificate's subject as people read it (RFC 4514)."""
    return certificate.subject.rfc4514_string() or "(empty subject)"


def load_certificates(path: Path) -> list:
    """Every PEM certificate in ``path``; :class:`CertificateError` (exit 2) if there is none."""
    from cryptography import x509

    path = Path(path)
    try:
        if path.stat().st_size > MAX_PEM_BYTES:
            raise CertificateError(f"{path} is too large to be a certificate file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(f"certificate file {path} does not exist") from None
    except IsADirectoryError:
        raise CertificateError(f"{path} is a folder, not a certificate file") from None
    except OSError as exc:
        raise CertificateError(f"cannot read certificate file {path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        raise CertificateError(f"{path} holds a private key; pass certificates only")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CertificateError(f"{path} is not a PEM certificate file") from None
    return certificates


def authority(*, certificate, source: str, name: str | None = None) -> TrustedAuthority:
    """A CA certificate as a trust anchor; refuses one that is not a CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CertificateError(f"{subject_text(certificate)} ({source}) is not a CA certificate",
                               hint="--certificate-chain and the trust store take the CA certificates "
                                    "that issue signing certificates, not a signing certificate.")
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    return TrustedAuthority(name or subject_text(certificate), certificate_fingerprint(certificate), pem, source)


def load_authorities(paths: list[Path]) -> tuple[TrustedAuthority, ...]:
    """The CA certificates in ``paths`` (PEM files, each holding one or more)."""
    found: dict[str, TrustedAuthority] = {}
    for path in paths:
        for certificate in load_certificates(Path(path)):
            entry = authority(certificate=certificate, source=str(path))
            found.setdefault(entry.fingerprint, entry)
    return tuple(found.values())


def usage_problem(certificate) -> str | None:
    """Why ``certificate`` may not sign releases, or ``None`` when its key usages allow it."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    extensions = certificate.extensions
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    try:
        extended = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        extended = None
    if usage is None and extended is None:
        return "the signing certificate states neither key usage nor extended key usage"
    if usage is not None and not usage.digital_signature:
        return "the signing certificate's key usage does not include digitalSignature"
    if extended is not None and ExtendedKeyUsageOID.CODE_SIGNING not in extended:
        return "the signing certificate's extended key usage does not include codeSigning"
    return None


def _code_signing_policy():
    """cryptography's extension policy for the signing certificate: ModelGate's usage rules."""
    from cryptography import x509
    from cryptography.x509.verification import Criticality, ExtensionPolicy

    def check_usage(policy, certificate, _extension) -> None:
        problem = usage_problem(certificate)
        if problem is not None:
            raise ValueError(problem)

    return (ExtensionPolicy.permit_all()
            .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, check_usage)
            .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, check_usage))


def _validity_problem(certificate, at: datetime.datetime, role: str) -> str | None:
    if certificate.not_valid_after_utc < at:
        return (f"the {role} {subject_text(certificate)} expired on {certificate.not_valid_after_utc:%Y-%m-%d}; "
                "a signature holds no trusted time, so ModelGate refuses expired certificates "
                "(model-signing checks only the certificate's start date)")
    if certificate.not_valid_before_utc > at:
        return (f"the {role} {subject_text(certificate)} is not valid before "
                f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return None


def verify_chain(*, certificates: tuple[bytes, ...], authorities: tuple[TrustedAuthority, ...],
                 revoked: frozenset[str] = frozenset(), at: datetime.datetime | None = None) -> CertifiedSigner:
    """Validate the DER ``certificates`` (signing certificate first) up to one of ``authorities``.

    Raises :class:`ChainRejected` with the reason. ``revoked`` holds fingerprints
    (SHA-256 of DER) of certificates and CAs that must not be trusted any more.
    """
    from cryptography import x509
    from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

    at = at or datetime.datetime.now(datetime.timezone.utc)
    try:
        leaf, *intermediates = [x509.load_der_x509_certificate(der) for der in certificates]
    except ValueError:
        raise ChainRejected("a certificate in the signature is not valid X.509 (DER)") from None
    problem = usage_problem(leaf) or _validity_problem(leaf, at, "signing certificate")
    if problem:
        raise ChainRejected(problem)
    anchors = [x509.load_pem_x509_certificate(a.pem) for a in authorities if a.fingerprint not in revoked]
    if not anchors:
        raise ChainRejected("no trusted CA certificate is configured (pass --certificate-chain CA.pem)")
    builder = (PolicyBuilder().store(Store(anchors)).time(at).max_chain_depth(MAX_CHAIN_DEPTH)
               .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                   ee_policy=_code_signing_policy()))
    try:
        verified = builder.build_client_verifier().verify(leaf, intermediates)
    except (VerificationError, ValueError) as exc:
        expired = next((p for c in intermediates for p in [_validity_problem(c, at, "CA certificate")] if p), None)
        raise ChainRejected(expired or f"the certificate chain does not lead to a trusted CA: {exc}") from None
    chain = list(verified.chain)
    fingerprints = tuple(certificate_fingerprint(c) for c in chain)
    for certificate, print_ in zip(chain, fingerprints):
        if print_ in revoked:
            raise ChainRejected(f"{subject_text(certificate)} (SHA256:{print_[:16]}) is revoked in the trust store")
    return CertifiedSigner(subject_text(leaf), fingerprints[0], tuple(subject_text(c) for c in chain), fingerprints,
                           leaf.not_valid_after_utc, leaf.public_key())


def check_signing_certificate(*, certificate: Path, private_key, chain: list[Path],
                              at: datetime.datetime | None = None):
    """The signing certificate at ``certificate``, if ``private_key`` may sign with it now.

    Refuses (:class:`CertificateError`, exit 2) a certificate that does not hold
    the key's public half, is expired or not yet valid, is not for code signing,
    or whose intermediates in ``chain`` are expired.
    """
    at = at or datetime.datetime.now(datetime.timezone.utc)
    certificates = load_certificates(certificate)
    if len(certificates) != 1:
        raise CertificateError(f"{certificate} holds {len(certificates)} certificates; pass the signing "
                               "certificate alone and the others with --certificate-chain")
    leaf = certificates[0]
    if leaf.public_key() != private_key.public_key():
        raise CertificateError(f"{certificate} does not certify this private key",
                               hint="Pass the certificate issued for the key given with --key.")
    problem = usage_problem(leaf) or _validity_problem(leaf, at, "signing certificate")
    for path in chain:
        for issuer in load_certificates(path):
            problem = problem or _validity_problem(issuer, at, "CA certificate")
    if problem:
        raise CertificateError(f"cannot sign with {certificate}: {problem}")
    return leaf
