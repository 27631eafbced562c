"""Signing a bundle folder: ``signatures/<signer>.sig``, in the model-signing format."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelgate.core.bundle.reader import SIGNATURES, open_bundle
from modelgate.core.bundle.integrity import LockState, check_integrity
from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.progress import Progress

from modelgate.core.signing.errors import KeyFileError, SigningRefused
from modelgate.core.signing.keys import check_name, fingerprint, load_private_key
from modelgate.core.signing.payload import PrecomputedHashing, build_manifest, hash_while_importing


@dataclass(frozen=True)
class SignResult:
    """What was signed: the signature file, the key's fingerprint, the files and bytes covered."""

    signature: Path
    signer: str
    fingerprint: str
    files: int
    size: int
    bundle_digest: str


def _refuse_unless_locked(bundle, digests: dict[str, str]) -> None:
    result = load_manifest(bundle)
    if result.data is None or not result.valid:
        raise SigningRefused(f"{bundle.root}: bundle.yaml is not valid, so the bundle cannot be signed",
                             hint="Run `modelgate validate` and fix the manifest first.")
    content = {name: digest for name, digest in digests.items() if name != "bundle.yaml"}
    report = check_integrity(bundle, result.typed, digests=content)
    if report.state is LockState.UNLOCKED:
        raise SigningRefused(f"{bundle.root} is not locked: bundle.yaml lists no file digests",
                             hint="Run `modelgate lock BUNDLE_DIR`, review the change, then sign.")
    if report.state is not LockState.LOCKED:
        changed = [*report.mismatched, *report.missing, *report.unlisted,
                   *(message for _, _, message in report.artifact_problems)]
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise SigningRefused(f"{bundle.root} no longer matches its lock: {shown}",
                             hint="A signature vouches for the locked bytes; find out why they "
                                  "changed, then `modelgate lock` and validate again.")


def signature_document(*, root: Path, digests: dict[str, str], key: Path, passphrase: bytes,
                       certificate: Path | None = None, chain: tuple[Path, ...] = ()) -> bytes:
    """The model-signing signature (Sigstore bundle JSON) over ``digests`` of the bundle at ``root``.

    With ``certificate``, the signature carries that signing certificate and the
    intermediates in ``chain`` instead of a key hint (``model_signing sign certificate``).
    """
    import model_signing

    manifest = build_manifest(digests, model_name=root.name)
    if certificate is not None:
        return _certificate_document(manifest, key=key, passphrase=passphrase, certificate=certificate,
                                     chain=chain)
    with tempfile.TemporaryDirectory(prefix="modelgate-sign-") as scratch:
        target = Path(scratch) / "bundle.sig"
        try:
            config = model_signing.signing.Config().use_elliptic_key_signer(private_key=key,
                                                                            password=passphrase)
            config.set_hashing_config(PrecomputedHashing(manifest)).sign(root, target)
        except ValueError as exc:
            raise KeyFileError(f"model-signing could not sign with {key}: {exc}") from None
        return target.read_bytes()


def _certificate_document(manifest, *, key: Path, passphrase: bytes, certificate: Path,
                          chain: tuple[Path, ...]) -> bytes:
    # model-signing's certificate signer reads the private key unencrypted from a
    # file; a release key never lies on disk decrypted, so the signer is handed the
    # key already decrypted in memory. The signature it writes is the library's own.
    from cryptography import x509
    from model_signing._signing import sign_certificate, signing

    from modelgate.core.signing.certificates import check_signing_certificate, load_certificates

    private_key = load_private_key(key, passphrase=passphrase)
    leaf = check_signing_certificate(certificate=certificate, private_key=private_key, chain=list(chain))
    intermediates = [c for path in chain for c in load_certificates(path)]

    class InMemoryCertificateSigner(sign_certificate.Signer):
        def __init__(self) -> None:  # the parent's would read the key from a file
            self._private_key = private_key
            self._signing_certificate: x509.Certificate = leaf
            self._trust_chain = intermediates

    signature = InMemoryCertificateSigner().sign(signing.Payload(manifest))
    with tempfile.TemporaryDirectory(prefix="modelgate-sign-") as scratch:
        target = Path(scratch) / "bundle.sig"
        signature.write(target)
        return target.read_bytes()


def prepare(bundle, *, key: Path, passphrase: bytes, signer: str, progress: Progress | None):
    """Check the signer name and key, hash the bundle and refuse it unless locked; return the digests."""
    check_name(signer, what="signer name")
    private_key = load_private_key(key, passphrase=passphrase)  # fail fast, before hashing
    digests = hash_while_importing(bundle, progress=progress)
    _refuse_unless_locked(bundle, digests)
    return digests, fingerprint(private_key.public_key())


def sign_bundle(*, path: Path, key: Path, passphrase: bytes, signer: str,
                progress: Progress | None = None, certificate: Path | None = None,
                chain: tuple[Path, ...] = ()) -> SignResult:
    """Sign the bundle folder ``path`` with the EC private key ``key``.

    With ``certificate`` (the key's X.509 signing certificate, valid now and
    issued for code signing) and the intermediates in ``chain``, the signature
    carries the certificate chain, and verifiers trust it through their CA certificates.

    Covers every file except ``signatures/`` and writes ``signatures/<signer>.sig``
    (replacing an earlier signature by the same signer). Refuses a bundle that
    is unlocked or whose bytes do not match its lock (:class:`SigningRefused`,
    exit 1), and a key it cannot decrypt (:class:`KeyFileError`, exit 2).
    """
    from modelgate.core.bundle.digests import bundle_digest

    path = Path(path)
    if not path.is_dir():
        raise SigningRefused(f"{path} is not a bundle folder",
                             hint="Signing writes signatures/ into the bundle, so it needs the folder; "
                                  "unpack an archive first.")
    if certificate is not None:  # refuse an unusable certificate before hashing the bundle
        from modelgate.core.signing.certificates import check_signing_certificate

        check_signing_certificate(certificate=certificate, chain=list(chain),
                                  private_key=load_private_key(key, passphrase=passphrase))
    with open_bundle(path) as bundle:
        digests, key_fingerprint = prepare(bundle, key=key, passphrase=passphrase, signer=signer,
                                           progress=progress)
        document = signature_document(root=bundle.root, digests=digests, key=key, passphrase=passphrase,
                                      certificate=certificate, chain=tuple(chain))
        target = write_signature(root=bundle.root, name=signer, document=document)
        return SignResult(target, signer, key_fingerprint, len(digests),
                          sum(bundle.size(name) for name in digests), bundle_digest(digests))


def write_signature(*, root: Path, name: str, document: bytes) -> Path:
    """Write ``document`` as ``signatures/NAME.sig`` of the bundle at ``root`` in one step: a
    reader sees the old file or the whole new one, never a part."""
    target = root / SIGNATURES / f"{name}.sig"
    target.parent.mkdir(exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(document)
        os.replace(partial, target)   # the atomic step
    finally:
        Path(partial).unlink(missing_ok=True)
    return target
