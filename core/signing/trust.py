"""The trust store: the public keys of accepted signers, each under a signer's name, and CA certificates.

A trust store is read from files and folders (``alice.pub`` trusts that key as
``alice``; a folder trusts every ``*.pub`` and ``*.pem`` in it; a PEM file of
CA certificates trusts the signing certificates they issue) or from the
registry's trusted signers. One key trusted under two names is refused: a
signature must name exactly one person. A certificate signer is named by its
certificate's subject (see :mod:`.certificates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelgate.core.signing.certificates import TrustedAuthority, load_authorities
from modelgate.core.signing.errors import KeyFileError
from modelgate.core.signing.keys import check_name, fingerprint, load_public_key

KEY_SUFFIXES = (".pub", ".pem")


@dataclass(frozen=True)
class TrustedKey:
    """One accepted signer's key; ``source`` says where it was trusted (a file, the registry)."""

    name: str
    fingerprint: str
    public_pem: bytes
    source: str


@dataclass(frozen=True)
class TrustStore:
    """The keys a verification accepts, by fingerprint, and the CA certificates it accepts.

    ``revoked`` holds the fingerprints (SHA-256 of DER) of certificates and CAs
    that no longer count, wherever they appear in a chain.
    """

    keys: tuple[TrustedKey, ...]
    description: str
    authorities: tuple[TrustedAuthority, ...] = ()
    revoked: frozenset[str] = frozenset()

    def find(self, fingerprint_hex: str) -> TrustedKey | None:
        """The trusted key with this fingerprint, or ``None``."""
        return next((k for k in self.keys if k.fingerprint == fingerprint_hex), None)

    def __bool__(self) -> bool:
        return bool(self.keys) or bool(self.authorities)


def trusted_key(*, name: str, path: Path, source: str | None = None) -> TrustedKey:
    """Read the public key at ``path`` as signer ``name``."""
    from cryptography.hazmat.primitives import serialization

    key = load_public_key(path)
    pem = key.public_bytes(encoding=serialization.Encoding.PEM,
                           format=serialization.PublicFormat.SubjectPublicKeyInfo)
    return TrustedKey(check_name(name, what="signer name"), fingerprint(key), pem, source or str(path))


def _key_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in KEY_SUFFIXES and p.is_file())
    if path.is_file():
        return [path]
    raise KeyFileError(f"trust store {path} does not exist",
                       hint="Pass a public key file or a folder of NAME.pub files.")


def _holds_certificates(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return b"-----BEGIN CERTIFICATE-----" in handle.read(1024 * 1024)
    except OSError:
        return False


def load_trust_store(paths: list[Path], *, certificate_chains: list[Path] = ()) -> TrustStore:
    """The trust store made of ``paths`` (public key files, CA certificate files, folders of them)
    and the CA certificates in ``certificate_chains``."""
    keys: dict[str, TrustedKey] = {}
    chains = [Path(p) for p in certificate_chains]
    for path in paths:
        for file in _key_files(Path(path)):
            if _holds_certificates(file):
                chains.append(file)
            else:
                add(keys, trusted_key(name=file.stem, path=file))
    described = [str(p) for p in paths] + [f"CA {p}" for p in certificate_chains]
    return TrustStore(tuple(keys.values()), ", ".join(described), load_authorities(chains))


def add(keys: dict[str, TrustedKey], key: TrustedKey) -> None:
    """Add ``key`` to ``keys`` (by fingerprint), refusing one key under two names."""
    known = keys.get(key.fingerprint)
    if known is not None and known.name != key.name:
        raise KeyFileError(f"the same key is trusted as both {known.name!r} ({known.source}) and "
                           f"{key.name!r} ({key.source})",
                           hint="A key belongs to one signer; remove one of the two.")
    keys.setdefault(key.fingerprint, key)
