"""EC key pairs for release signing: generation, loading, fingerprints, passphrases.

model-signing accepts elliptic-curve keys only (P-256, P-384, P-521). Private
keys are written as PKCS#8 PEM encrypted with the passphrase, mode 0600; the
public key goes beside them as ``NAME.pub``.

A key's fingerprint is the SHA-256 of its PEM SubjectPublicKeyInfo, which is the
key hint model-signing writes into every signature: a signature names the key
that made it, even when that key is not trusted.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from modelgate.core.signing.errors import KeyFileError

CURVES = {"p256": "SECP256R1", "p384": "SECP384R1"}
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
PASSPHRASE_ENV = "MODELGATE_KEY_PASSPHRASE"
MIN_PASSPHRASE = 8
MAX_KEY_BYTES = 64 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class KeyPair:
    """Where a new key pair was written, and its fingerprint."""

    private_path: Path
    public_path: Path
    fingerprint: str
    curve: str


def check_name(name: str, *, what: str = "key name") -> str:
    """``name`` if it can name a key or a signature file; raise :class:`KeyFileError` if not."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise KeyFileError(f"{name!r} cannot be used as a {what}",
                           hint="Use letters, digits, '.', '_' and '-' (at most 100), "
                                "starting with a letter or digit.")
    return name


def fingerprint(public_key) -> str:
    """The SHA-256 (hex) of the key's PEM SubjectPublicKeyInfo, as model-signing records it."""
    from cryptography.hazmat.primitives import serialization

    pem = public_key.public_bytes(encoding=serialization.Encoding.PEM,
                                  format=serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def short(fingerprint_hex: str) -> str:
    """A fingerprint as people compare it: ``SHA256:`` and the first 16 hex digits in pairs."""
    pairs = [fingerprint_hex[i:i + 2] for i in range(0, 16, 2)]
    return "SHA256:" + ":".join(pairs)


def fingerprint_prefix(written: str) -> str:
    """The hex digits of a fingerprint as a person may copy it: whole, or as :func:`short` shows it.

    Raises :class:`ValueError` when fewer than 8 hex digits are left (a shorter prefix could name
    a key nobody meant), or when anything but hex digits, colons and a leading ``SHA256:`` remains.
    """
    text = written.strip()
    if text[:7].upper() == "SHA256:":
        text = text[7:]
    text = text.replace(":", "").lower()
    if len(text) < 8 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{written!r} is not a key fingerprint (at least 8 hex digits, as "
                         "`modelgate keys list` shows it)")
    return text


def generate_key_pair(*, name: str, out_dir: Path, passphrase: bytes, curve: str = "p256") -> KeyPair:
    """Write ``NAME.key`` (encrypted, 0600) and ``NAME.pub`` into ``out_dir``; never overwrite."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    check_name(name)
    if curve not in CURVES:
        raise KeyFileError(f"unknown curve {curve!r}", hint=f"Use one of: {', '.join(CURVES)}.")
    check_passphrase(passphrase)
    out_dir = Path(out_dir)
    private_path, public_path = out_dir / f"{name}.key", out_dir / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise KeyFileError(f"{path} already exists; a key is never overwritten",
                               hint="Choose another --name or --out folder.")
    out_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(getattr(ec, CURVES[curve])())
    private_pem = key.private_bytes(encoding=serialization.Encoding.PEM,
                                    format=serialization.PrivateFormat.PKCS8,
                                    encryption_algorithm=serialization.BestAvailableEncryption(passphrase))
    public_pem = key.public_key().public_bytes(encoding=serialization.Encoding.PEM,
                                               format=serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, private_pem, mode=0o600)
    try:
        _write_new(public_path, public_pem, mode=0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return KeyPair(private_path, public_path, fingerprint(key.public_key()), curve)


def _write_new(path: Path, data: bytes, *, mode: int) -> None:
    # O_EXCL: a file that appeared since the check is never overwritten; the mode
    # is set at creation, so the private key is never readable by others.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; a key is never overwritten") from None
    except OSError as exc:
        raise KeyFileError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _read_key_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise KeyFileError(f"{path} is too large to be a PEM key")
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except IsADirectoryError:
        raise KeyFileError(f"{path} is a folder, not a key file") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None


def load_private_key(path: Path, *, passphrase: bytes):
    """The EC private key in ``path``; :class:`KeyFileError` (exit 2) for a wrong passphrase or bad file."""
    from cryptography.hazmat.primitives import serialization

    data = _read_key_file(Path(path))
    if b"PRIVATE KEY" not in data:
        raise KeyFileError(f"{path} is not a PEM private key",
                           hint="Pass the NAME.key file written by `modelgate keys generate`.")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except TypeError:
        if not passphrase:
            raise KeyFileError(f"{path} is encrypted and no passphrase was given",
                               hint=f"Set {PASSPHRASE_ENV} or pass --passphrase-file FILE.") from None
        raise KeyFileError(f"{path} is not encrypted; release keys must be protected by a passphrase",
                           hint="Generate a new pair with `modelgate keys generate`.") from None
    except ValueError:
        # cryptography says "Bad decrypt" for a wrong passphrase and other words for
        # a damaged file; both are the same to a user holding the wrong secret.
        raise KeyFileError(f"cannot decrypt {path}: wrong passphrase, or the key file is damaged",
                           hint=f"Check the passphrase ({PASSPHRASE_ENV}, --passphrase-file or the "
                                "prompt).") from None
    return _require_ec(key, path)


def load_public_key(path: Path):
    """The EC public key in ``path`` (PEM); :class:`KeyFileError` if it is not one."""
    from cryptography.hazmat.primitives import serialization

    data = _read_key_file(Path(path))
    if b"PRIVATE KEY" in data:
        # Never parse, echo or keep a private key handed in where a public one belongs.
        raise KeyFileError(f"{path} holds a private key; a trust store takes public keys only",
                           hint="Use the NAME.pub file beside it.")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyFileError(f"{path} is not a PEM public key") from None
    return _require_ec(key, path)


def _require_ec(key, path: Path):
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) \
            or key.curve.name not in SUPPORTED_CURVES:
        raise KeyFileError(f"{path} is not a P-256, P-384 or P-521 elliptic-curve key",
                           hint="model-signing signs with elliptic-curve keys only; "
                                "generate one with `modelgate keys generate`.")
    return key


def check_passphrase(passphrase: bytes) -> None:
    """Refuse passphrases too short to protect a release key."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase is shorter than {MIN_PASSPHRASE} characters")


def read_passphrase(*, passphrase_file: Path | None = None, confirm: bool = False,
                    prompt: str = "Passphrase: ") -> bytes:
    """The passphrase from ``--passphrase-file``, ``MODELGATE_KEY_PASSPHRASE``, or a prompt.

    Never from the command line, where other users could read it. ``confirm``
    asks twice (for a new key).
    """
    if passphrase_file is not None:
        try:
            text = Path(passphrase_file).read_bytes()[:4096]
        except OSError as exc:
            raise KeyFileError(f"cannot read the passphrase file {passphrase_file}: {exc.strerror}") from None
        return text.rstrip(b"\r\n")
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env.encode("utf-8")
    if not os.isatty(0):
        raise KeyFileError("no passphrase given and no terminal to ask on",
                           hint=f"Set {PASSPHRASE_ENV} or pass --passphrase-file FILE.")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat the passphrase: ") != first:
        raise KeyFileError("the two passphrases differ")
    return first.encode("utf-8")
