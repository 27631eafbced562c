"""Reading a model-signing signature file before trusting any of it: who it names, what it claims.

Every published version of the OpenSSF model-signing format is a Sigstore bundle
(media type ``application/vnd.dev.sigstore.bundle.v0.3+json``) holding a DSSE
envelope over an in-toto statement. The versions differ in three places, which
:func:`read_signature` tells apart so that the right signer is looked up:

- **how the signer is named**: a certificate chain
  (``verificationMaterial.x509CertificateChain``, every version), the signer's
  public key itself (``publicKey.rawBytes``, written by 0.3.x to 1.0.x) or the
  SHA-256 of that key's PEM (``publicKey.hint``, written since 1.1.0);
- **the predicate**: ``https://model_signing/Digests/v0.1`` (0.2.x: one in-toto
  subject per file) or ``https://model_signing/signature/v1.0`` (since 0.3: one
  subject for the model, its files as ``predicate.resources``; a single-file
  model is the resource ``.``);
- **the serialization record**: since 1.1.0 ``predicate.serialization.ignore_paths``
  lists what the signer left out.

Nothing here is verified yet; the library's verifiers check the DSSE signature,
and :mod:`.model_verify` checks the files. Parsing is bounded and never raises
anything but :class:`SignatureFormatError`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import PurePosixPath

from modelgate.core.bundle import strictjson
from modelgate.core.signing.errors import SignatureFormatError

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PREDICATE_V1 = "https://model_signing/signature/v1.0"
PREDICATE_DIGESTS = "https://model_signing/Digests/v0.1"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
#: A signature names at most a handful of certificates (leaf, intermediates, root).
MAX_CERTIFICATES = 16

KEY_HINT, EMBEDDED_KEY, CERTIFICATE, NO_SIGNER = "key hint", "embedded public key", "certificate", "none"
#: A keyless Sigstore signature: a short-lived Fulcio certificate (``verificationMaterial.certificate``)
#: and transparency-log entries, verified against Sigstore's trust root, not a CA of one's own.
KEYLESS = "Sigstore keyless certificate"


@dataclass(frozen=True)
class SignatureDocument:
    """What a signature file says about itself, unverified.

    ``signer_kind`` is one of :data:`KEY_HINT`, :data:`EMBEDDED_KEY`,
    :data:`CERTIFICATE`, :data:`KEYLESS` or :data:`NO_SIGNER`; ``key_hint`` the SHA-256 hex of the
    key's PEM when the signature names one; ``embedded_key`` the embedded key's
    SubjectPublicKeyInfo (PEM, as model-signing wrote it, or DER); ``certificates`` the DER chain,
    signing certificate first. ``ignore_paths`` are the paths the signer left out
    (format 1.1.0 and later), ``hash_type`` and ``method`` the serialization.
    """

    raw: bytes
    predicate_type: str
    signer_kind: str
    key_hint: str | None
    embedded_key: bytes | None
    certificates: tuple[bytes, ...]
    method: str
    hash_type: str
    ignore_paths: tuple[str, ...]
    #: ``(name, sha256 hex)`` of every file the statement lists.
    resources: tuple[tuple[str, str], ...]

    @property
    def format_version(self) -> str:
        """The model-signing releases that write this layout, from the evidence in the file."""
        if self.predicate_type == PREDICATE_DIGESTS:
            return "0.2.x (Digests/v0.1 predicate)"
        if self.signer_kind == EMBEDDED_KEY:
            return "0.3.x-1.0.x (signature/v1.0, embedded public key)"
        if self.ignore_paths:
            return "1.1.0+ (signature/v1.0, ignore paths recorded)"
        if self.signer_kind == KEY_HINT:
            return "1.1.0+ (signature/v1.0, key hint)"
        return "0.3.0+ (signature/v1.0)"


def _b64(value, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise SignatureFormatError(f"the signature's {what} is missing or not text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError(f"the signature's {what} is not base64") from None


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise SignatureFormatError(f"the signature's {what} is missing or not an object")
    return value


def _clean_ignore_path(text) -> str | None:
    """An ignore path as a model-relative POSIX name; ``None`` for one that leaves the model."""
    if not isinstance(text, str) or not text.strip():
        return None
    path = PurePosixPath(text.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        return None
    name = str(path)
    return None if name == "." else name


def _named(listed) -> tuple[tuple[str, str], ...]:
    return tuple((n, d.lower()) for n, d in listed if isinstance(n, str) and isinstance(d, str))


def read_signature(data: bytes) -> SignatureDocument:
    """Parse a model-signing signature file (any published version); raise :class:`SignatureFormatError`."""
    if len(data) > MAX_SIGNATURE_BYTES:
        raise SignatureFormatError("the file is too large to be a signature")
    try:
        parsed = strictjson.load_bytes(data, what="the signature")
    except strictjson.JsonProblem as problem:
        raise SignatureFormatError(f"not a model-signing signature ({problem.message})") from None
    bundle = _object(parsed, "top level")
    if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise SignatureFormatError(f"not a Sigstore bundle of the kind model-signing writes "
                                   f"(media type {str(bundle.get('mediaType'))[:80]!r})")
    material = _object(bundle.get("verificationMaterial"), "verificationMaterial")
    key_hint = embedded = None
    certificates: tuple[bytes, ...] = ()
    if "x509CertificateChain" in material:
        chain = _object(material["x509CertificateChain"], "certificate chain").get("certificates")
        if not isinstance(chain, list) or not chain or len(chain) > MAX_CERTIFICATES:
            raise SignatureFormatError("the signature's certificate chain is empty or too long")
        certificates = tuple(_b64(_object(c, "certificate").get("rawBytes"), "certificate") for c in chain)
        kind = CERTIFICATE
    elif "certificate" in material:
        kind = KEYLESS
    elif "publicKey" in material:
        public_key = _object(material["publicKey"], "publicKey")
        hint = public_key.get("hint")
        if isinstance(hint, str) and hint:
            key_hint, kind = hint.lower(), KEY_HINT
        elif "rawBytes" in public_key:
            embedded, kind = _b64(public_key["rawBytes"], "embedded public key"), EMBEDDED_KEY
        else:
            kind = NO_SIGNER
    else:
        kind = NO_SIGNER
    envelope = _object(bundle.get("dsseEnvelope"), "DSSE envelope")
    if envelope.get("payloadType") != IN_TOTO_PAYLOAD:
        raise SignatureFormatError("the DSSE envelope does not hold an in-toto statement")
    try:
        statement = strictjson.load_bytes(_b64(envelope.get("payload"), "DSSE payload"), what="the signed statement")
    except strictjson.JsonProblem as problem:
        raise SignatureFormatError(f"the signed statement cannot be read ({problem.message})") from None
    statement = _object(statement, "statement")
    predicate_type = statement.get("predicateType")
    if predicate_type == PREDICATE_DIGESTS:
        subjects = statement.get("subject")
        listed = tuple((s.get("name"), (s.get("digest") or {}).get("sha256") if isinstance(s.get("digest"), dict)
                        else None) for s in subjects if isinstance(s, dict)) if isinstance(subjects, list) else ()
        return SignatureDocument(data, predicate_type, kind, key_hint, embedded, certificates,
                                 "files", "sha256", (), _named(listed))
    if predicate_type != PREDICATE_V1:
        named = f"predicate type {str(predicate_type)[:120]!r}" if isinstance(predicate_type, str) else "no predicate type"
        raise SignatureFormatError(f"the signed statement has {named}, not one of model-signing's")
    predicate = _object(statement.get("predicate"), "predicate")
    serialization = _object(predicate.get("serialization"), "serialization record")
    resources = predicate.get("resources")
    listed = tuple((r.get("name"), r.get("digest")) for r in resources
                   if isinstance(r, dict)) if isinstance(resources, list) else ()
    raw_ignores = serialization.get("ignore_paths") or []
    ignores = tuple(sorted({p for p in map(_clean_ignore_path, raw_ignores if isinstance(raw_ignores, list) else [])
                            if p is not None}))
    method, hash_type = serialization.get("method"), serialization.get("hash_type")
    return SignatureDocument(data, predicate_type, kind, key_hint, embedded, certificates,
                             method if isinstance(method, str) else "", hash_type if isinstance(hash_type, str) else "",
                             ignores, _named(listed))
