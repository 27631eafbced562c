"""Signing a bundle folder with a key in a PKCS#11 token, in the model-signing format.

model-signing's EC key signer reads its key from a PEM file; here it is handed an object that
behaves as that key but asks the token to sign, so the signature file is the library's own
(a Sigstore bundle holding a DSSE envelope) and verifies with the public key alone, through
``modelgate verify`` or ``model_signing verify key``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from modelgate.core.bundle.reader import open_bundle
from modelgate.core.progress import Progress
from modelgate.core.signing.errors import SigningRefused
from modelgate.core.signing.keys import check_name, fingerprint
from modelgate.core.signing.pkcs11 import TokenSigner
from modelgate.core.signing.sign import SignResult, _refuse_unless_locked, write_signature
from modelgate.core.signing.payload import build_manifest, hash_while_importing


class _TokenKey:
    """Stands in for a cryptography EC private key: ``public_key()`` and ``sign(data, ECDSA(hash))``.

    The hash model-signing asks for is the curve's (SHA-256 for P-256, ...), which is the one
    :class:`TokenSigner` uses, so the algorithm argument is not needed.
    """

    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer
        self.curve = signer.public_key().curve

    def public_key(self):
        return self._signer.public_key()

    def sign(self, data: bytes, _algorithm) -> bytes:
        return self._signer.sign(data)


def token_signature_document(*, root: Path, digests: dict[str, str], signer: TokenSigner) -> bytes:
    """The model-signing signature over ``digests`` of the bundle at ``root``, made by the token."""
    import model_signing  # noqa: F401  (loads the library's signing modules)
    from model_signing._signing import sign_ec_key, signing

    class TokenSigningKeySigner(sign_ec_key.Signer):
        def __init__(self) -> None:  # the parent's would read a key file
            self._private_key = _TokenKey(signer)

    manifest = build_manifest(digests, model_name=root.name)
    signature = TokenSigningKeySigner().sign(signing.Payload(manifest))
    with tempfile.TemporaryDirectory(prefix="modelgate-sign-") as scratch:
        target = Path(scratch) / "bundle.sig"
        signature.write(target)
        return target.read_bytes()


def sign_bundle_with_token(*, path: Path, signer: TokenSigner, name: str,
                           progress: Progress | None = None) -> SignResult:
    """Sign the locked bundle folder ``path`` with the token key and write ``signatures/NAME.sig``."""
    from modelgate.core.bundle.digests import bundle_digest

    check_name(name, what="signer name")
    path = Path(path)
    if not path.is_dir():
        raise SigningRefused(f"{path} is not a bundle folder",
                             hint="Signing writes signatures/ into the bundle, so it needs the folder.")
    with open_bundle(path) as bundle:
        digests = hash_while_importing(bundle, progress=progress)
        _refuse_unless_locked(bundle, digests)
        document = token_signature_document(root=bundle.root, digests=digests, signer=signer)
        target = write_signature(root=bundle.root, name=name, document=document)
        return SignResult(target, name, fingerprint(signer.public_key()), len(digests),
                          sum(bundle.size(n) for n in digests), bundle_digest(digests))
