"""DSSE envelopes (Dead Simple Signing Envelope v1) signed with elliptic-curve keys.

The signature covers the pre-authentication encoding of the payload type and the payload
(``PAE``), never the JSON around it, so a verifier needs only the envelope and a public key.
ECDSA signatures are DER-encoded, the digest follows the curve (SHA-256 for P-256, SHA-384 for
P-384, SHA-512 for P-521), and each signature's ``keyid`` is the key's fingerprint, the same
hint model-signing writes (:func:`.keys.fingerprint`).

A signer is anything with ``public_key()`` and ``sign(data) -> DER signature``: a key file
(:class:`KeySigner`) or a key inside a token (:mod:`.pkcs11`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Protocol

from modelgate.core.signing.errors import SignatureFormatError
from modelgate.core.signing.keys import fingerprint

#: The payload type of an in-toto Statement inside a DSSE envelope.
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: Envelopes larger than this are refused unread: a decision statement is a few kilobytes.
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024


class Signer(Protocol):
    """Signs bytes with an EC private key it may never reveal."""

    def public_key(self):  # pragma: no cover - a protocol
        ...

    def sign(self, data: bytes) -> bytes:  # pragma: no cover - a protocol
        ...


def hash_for(curve_name: str):
    """The hash ECDSA uses with the curve named ``curve_name`` (as cryptography names it)."""
    from cryptography.hazmat.primitives import hashes

    return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(curve_name, hashes.SHA256())


@dataclass(frozen=True)
class KeySigner:
    """A signer over an EC private key held in memory (read from a key file)."""

    private_key: object

    def public_key(self):
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import ec

        return self.private_key.sign(data, ec.ECDSA(hash_for(self.private_key.curve.name)))


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload_type`` and ``payload``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign_envelope(*, payload: bytes, signer: Signer, payload_type: str = INTOTO_PAYLOAD_TYPE) -> dict:
    """A DSSE envelope of ``payload`` with one signature by ``signer``."""
    signature = signer.sign(pae(payload_type, payload))
    return {"payloadType": payload_type,
            "payload": base64.b64encode(payload).decode("ascii"),
            "signatures": [{"keyid": fingerprint(signer.public_key()),
                            "sig": base64.b64encode(signature).decode("ascii")}]}


@dataclass(frozen=True)
class OpenedEnvelope:
    """An envelope whose signature verified: its payload and the key that signed it."""

    payload_type: str
    payload: bytes
    key_fingerprint: str


def _b64(value, *, what: str) -> bytes:
    if not isinstance(value, str):
        raise SignatureFormatError(f"the envelope's {what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:  # DSSE allows the URL-safe alphabet too
            return base64.urlsafe_b64decode(value.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise SignatureFormatError(f"the envelope's {what} is not valid base64") from None


def parse_envelope(data: bytes | str | dict) -> dict:
    """The envelope in ``data`` (JSON text or an already parsed object), its shape checked."""
    if not isinstance(data, dict):
        if len(data) > MAX_ENVELOPE_BYTES:
            raise SignatureFormatError("the DSSE envelope is too large to be a decision attestation")
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise SignatureFormatError("the attestation is not a JSON DSSE envelope") from None
    if not isinstance(data, dict) or not isinstance(data.get("payloadType"), str) \
            or not isinstance(data.get("signatures"), list) or not data["signatures"]:
        raise SignatureFormatError("the attestation is not a DSSE envelope (payloadType, payload, signatures)")
    return data


def open_envelope(envelope: dict, *, public_keys: dict[str, object]) -> OpenedEnvelope:
    """Verify ``envelope`` against ``public_keys`` (fingerprint -> EC public key) and return its payload.

    The first signature that verifies with one of the keys wins; raises
    :class:`SignatureFormatError` (exit 1) naming the key hints when none does.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    envelope = parse_envelope(envelope)
    payload = _b64(envelope.get("payload"), what="payload")
    message = pae(envelope["payloadType"], payload)
    hints = []
    for entry in envelope["signatures"]:
        if not isinstance(entry, dict):
            continue
        keyid = entry.get("keyid") if isinstance(entry.get("keyid"), str) else ""
        hints.append(keyid[:16] or "no key id")
        signature = _b64(entry.get("sig"), what="signature")
        # The key id is only a hint: an unknown or missing one still tries every trusted key.
        candidates = [public_keys[keyid]] if keyid in public_keys else list(public_keys.values())
        for key in candidates:
            try:
                key.verify(signature, message, ec.ECDSA(hash_for(key.curve.name)))
            except InvalidSignature:
                continue
            return OpenedEnvelope(envelope["payloadType"], payload, fingerprint(key))
    raise SignatureFormatError(
        "no signature on the attestation verifies with a trusted key "
        f"(signed by {', '.join(hints) or 'nobody'})",
        hint="Trust the signer's public key with --trust, or the attestation was altered.")
