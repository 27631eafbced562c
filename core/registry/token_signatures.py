"""Signing a stored version with a key inside a PKCS#11 token, then verifying and recording it.

The same path as :func:`.signatures.sign_version` (role check, hashing the stored copy, refusing
damaged bytes, verifying against the registry's trusted keys before recording), with the
signature made by the token (:mod:`modelgate.core.signing.token_sign`).
"""

from __future__ import annotations

from modelgate.core.registry.records import SignatureInfo
from modelgate.core.registry.signatures import _require_intact, _stored, _verify_and_record


def sign_version_with_token(registry, *, name: str, version: str, uri: str, pin: str | None,
                            signer: str, progress=None) -> list[SignatureInfo]:
    """Sign ``name@version``'s stored bundle with the token key ``uri`` (RFC 7512), as ``signer``.

    ``pin`` is the token's user PIN (``None``: from the URI's pin-source, the environment, or a
    prompt). The token key's public key must be trusted in the registry, as for a key file.
    """
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.keys import check_name
    from modelgate.core.signing.payload import hash_while_importing
    from modelgate.core.signing.pkcs11 import TokenSigner
    from modelgate.core.signing.sign import _refuse_unless_locked
    from modelgate.core.signing.token_sign import token_signature_document

    check_name(signer, what="signer name")
    digest, stored = _stored(registry, name=name, version=version, role="signer", action="sign versions")
    with TokenSigner(uri, pin=pin) as token, open_bundle(stored) as bundle:  # the PIN is checked before hashing
        digests = hash_while_importing(bundle, progress=progress)
        _refuse_unless_locked(bundle, digests)
        _require_intact(registry, digests, digest, name, version)
        document = token_signature_document(root=bundle.root, digests=digests, signer=token)
        return _verify_and_record(registry, name=name, version=version, root=bundle.root, digests=digests,
                                  documents={f"signatures/{signer}.sig": document})
