"""Release signatures in the OpenSSF model-signing format, made and checked offline.

A signature is a Sigstore bundle holding a DSSE envelope over an in-toto
statement that lists the SHA-256 of every file of the bundle except
``signatures/``; the stock ``model_signing verify key`` command accepts it.

- :mod:`.keys`: EC key pairs, passphrase-protected private keys, fingerprints.
- :mod:`.trust`: the trust store, named public keys of accepted signers.
- :mod:`.sign`: :func:`sign_bundle` writes ``signatures/<signer>.sig``.
- :mod:`.verify`: :func:`verify_bundle` checks every signature against a trust store.
- :mod:`.document`: what a signature file of any model-signing format version says, unverified.
- :mod:`.certificates`: signing certificates chained to trusted CAs (cryptography's path validation).
- :mod:`.model_verify`: one signature over a model folder or file, as ``model_signing verify`` takes them.

model-signing takes most of a second to import, so it is imported only inside
the functions that need it, while the bundle's files are already being hashed.
"""

from __future__ import annotations

from modelgate.core.signing.errors import CertificateError, KeyFileError, SignatureFormatError, SigningRefused

__all__ = ["CertificateError", "KeyFileError", "SignatureFormatError", "SigningRefused"]
