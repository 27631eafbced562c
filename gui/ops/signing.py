"""Signing operations: what a signature of a stored version covers, signing it, verifying it.

The signing station reaches the registry's signatures only through these functions. Each takes
the open :class:`~modelgate.gui.ops.registry.RegistryConnection` and runs on the registry
worker (see :mod:`.workflow` for the rule), hashing the stored bundle with progress.
"""

from __future__ import annotations

from pathlib import Path

from modelgate.core.progress import Progress
from modelgate.core.registry.records import SignatureInfo
from modelgate.core.registry import signatures


def covered(connection, *, name: str, version: str) -> list[tuple[str, int]]:
    """``(file, size)`` of every file a signature of the stored ``name@version`` covers."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.payload import covered_files

    with open_bundle(connection.registry.bundle_path(name=name, version=version)) as bundle:
        return [(file, bundle.size(file)) for file in covered_files(bundle)]


def sign(connection, *, name: str, version: str, key: Path, passphrase: bytes, progress: Progress,
         certificate: Path | None, chain: tuple[Path, ...]) -> list[SignatureInfo]:
    """Sign the stored ``name@version`` with ``key`` as the acting user; verify and record it."""
    return signatures.sign_version(connection.registry, name=name, version=version, key=key, passphrase=passphrase,
                                   signer=connection.actor, progress=progress, certificate=certificate, chain=chain)


def sign_with_token(connection, *, name: str, version: str, uri: str, pin: str,
                    progress: Progress) -> list[SignatureInfo]:
    """Sign the stored ``name@version`` with the hardware-token key at the ``pkcs11:`` ``uri``."""
    from modelgate.core.registry.token_signatures import sign_version_with_token

    return sign_version_with_token(connection.registry, name=name, version=version, uri=uri, pin=pin,
                                   signer=connection.actor, progress=progress)


def verify(connection, *, name: str, version: str, progress: Progress):
    """Check every signature of ``name@version`` again against the registry's trusted signers."""
    return signatures.verify_version(connection.registry, name=name, version=version, progress=progress)
