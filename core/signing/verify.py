"""Verifying every signature of a bundle against a trust store."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelgate.core import strictjson
from modelgate.core.bundle import SIGNATURES, Bundle, open_bundle
from modelgate.core.progress import Progress

from .payload import PrecomputedHashing, build_manifest, hash_while_importing
from .trust import TrustStore

MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
VALID, UNTRUSTED, INVALID, UNREADABLE = "valid", "untrusted", "invalid", "unreadable"


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature file.

    ``signer`` is the trusted name of the key that made it (``None`` when the
    key is not trusted); ``fingerprint`` the key's, as the signature names it.
    """

    file: str
    status: str
    signer: str | None
    fingerprint: str | None
    reason: str = ""

    @property
    def valid(self) -> bool:
        return self.status == VALID


@dataclass(frozen=True)
class VerifyReport:
    """Every signature's verdict; passes when there is at least one and all are valid."""

    checks: tuple[SignatureCheck, ...]
    bundle_digest: str
    trust: str

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.valid for check in self.checks)


def signature_files(bundle: Bundle) -> list[str]:
    """The ``signatures/*.sig`` files of a bundle, sorted."""
    return sorted(name for name in bundle.files()
                  if name.startswith(SIGNATURES + "/") and name.endswith(".sig") and name.count("/") == 1)


def key_hint(document: bytes) -> str | None:
    """The key fingerprint a model-signing signature names, or ``None`` if it names none."""
    parsed = strictjson.load_bytes(document, what="the signature") if isinstance(document, bytes) \
        else strictjson.loads(document)
    hint = ((parsed.get("verificationMaterial") or {}).get("publicKey") or {}).get("hint")
    return hint if isinstance(hint, str) and hint else None


def _mismatch(message: str) -> str:
    # model-signing lists the differing files; say what that means for the bundle.
    text = message.removeprefix("Signature mismatch: ")
    return f"the bundle's files differ from what was signed: {text[:600]}"


def check_signature(*, name: str, document: bytes, root: Path, manifest, trust: TrustStore) -> SignatureCheck:
    """Verify one signature document over the bundle at ``root``, hashed into ``manifest``."""
    import model_signing

    try:
        hint = key_hint(document)
    except (strictjson.JsonProblem, ValueError, AttributeError):
        return SignatureCheck(name, UNREADABLE, None, None, "not a model-signing signature (not JSON)")
    trusted = trust.find(hint) if hint else None
    if trusted is None:
        why = ("signed by a key that is not in the trust store" if hint
               else "the signature names no key, so it cannot be matched with a trusted one")
        return SignatureCheck(name, UNTRUSTED, None, hint, why)
    with tempfile.TemporaryDirectory(prefix="modelgate-verify-") as scratch:
        key_file, sig_file = Path(scratch, "key.pub"), Path(scratch, "bundle.sig")
        key_file.write_bytes(trusted.public_pem)
        sig_file.write_bytes(document)
        try:
            config = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key_file)
            config.set_hashing_config(PrecomputedHashing(manifest)).verify(root, sig_file)
        except ValueError as exc:
            text = str(exc)
            reason = _mismatch(text) if text.startswith("Signature mismatch") else f"rejected: {text[:300]}"
            return SignatureCheck(name, INVALID, trusted.name, hint, reason)
        except Exception as exc:  # InvalidSignature, protobuf and JSON errors from a forged file
            kind = type(exc).__name__
            reason = ("the cryptographic signature does not match its content"
                      if kind == "InvalidSignature" else f"damaged signature ({kind})")
            return SignatureCheck(name, INVALID, trusted.name, hint, reason)
    return SignatureCheck(name, VALID, trusted.name, hint)


def verify_bundle(*, path: Path, trust: TrustStore, progress: Progress | None = None) -> VerifyReport:
    """Check every ``signatures/*.sig`` of the bundle at ``path`` (folder or archive) against ``trust``."""
    from modelgate.core.digests import bundle_digest

    with open_bundle(path, progress=progress) as bundle:
        digests = hash_while_importing(bundle, progress=progress)
        manifest = build_manifest(digests, model_name=bundle.root.name)
        checks = []
        for name in signature_files(bundle):
            if bundle.size(name) > MAX_SIGNATURE_BYTES:
                checks.append(SignatureCheck(name, UNREADABLE, None, None, "too large to be a signature"))
                continue
            document = bundle.read_bytes(name, limit=MAX_SIGNATURE_BYTES)
            checks.append(check_signature(name=name, document=document, root=bundle.root,
                                          manifest=manifest, trust=trust))
        return VerifyReport(tuple(checks), bundle_digest(digests), trust.description)
