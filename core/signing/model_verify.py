"""Verifying one signature over a model (a folder or a single file), as ``model_signing verify`` does.

This is the shape of the stock command: ``MODEL_PATH --signature SIG`` with a
trust store (public keys, CA certificates) instead of one key or chain. The
signer is identified as the signature's format version names it (key hint,
embedded public key or certificate chain, see :mod:`.document`), the DSSE
signature is checked by the model-signing library's own verifiers, and the
files are compared with what the signature lists.

A signature's verdict covers exactly what it signed. Files present but left
out, by the signature's own ``ignore_paths`` or by ``--ignore-paths``, are not
hidden: the verdict lists them as *uncovered*, and validation turns them into
a finding (MG805) that the policy weighs.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modelgate.core.errors import UsageError
from modelgate.core.progress import Progress

from modelgate.core.signing.document import CERTIFICATE, EMBEDDED_KEY, KEY_HINT, KEYLESS, MAX_SIGNATURE_BYTES, read_signature
from modelgate.core.signing.errors import SignatureFormatError
from modelgate.core.signing.trust import TrustStore

#: What ``model_signing`` leaves out of every model unless told otherwise (``--ignore-git-paths``).
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
#: A model folder with more files than this is not a model; refuse before hashing it.
MAX_FILES = 200_000


def is_ignored(name: str, ignore_paths) -> bool:
    """Whether the model-relative ``name`` lies at or under one of ``ignore_paths`` (model-signing's rule)."""
    return any(name == p or name.startswith(p.rstrip("/") + "/") for p in ignore_paths)


class ScopedHashing:
    """Stands in for ``model_signing.hashing.Config``: the manifest of ``digests`` minus what is ignored.

    model-signing hands over the ignore paths the signature records
    (:meth:`add_ignored_paths`) before it asks for the manifest; the names they
    remove are kept in :attr:`uncovered`, so that the verdict can list them.
    ``digests`` maps model-relative names (``.`` for a single-file model) to SHA-256 hex.
    """

    def __init__(self, digests: dict[str, str], *, ignore_paths=(), model_name: str = "model") -> None:
        self._digests = digests
        self._ignored: set[str] = set(ignore_paths)
        self._model_name = model_name
        self.uncovered: tuple[str, ...] = ()
        self.covered: dict[str, str] = {}

    def add_ignored_paths(self, *, model_path, paths) -> None:
        for path in paths:
            text = str(path).replace("\\", "/")
            if text and not text.startswith("/") and ".." not in PurePosixPath(text).parts:
                self._ignored.add(str(PurePosixPath(text)))

    def hash(self, model_path, *, files_to_hash=None):
        from modelgate.core.signing.payload import build_manifest

        covered = {n: d for n, d in self._digests.items() if n == "." or not is_ignored(n, self._ignored)}
        self.uncovered = tuple(sorted(set(self._digests) - set(covered)))
        self.covered = covered
        return build_manifest(covered, model_name=self._model_name)


@dataclass(frozen=True)
class Identity:
    """Who made a signature, as the trust store knows them."""

    signer: str
    fingerprint: str
    public_pem: bytes | None  # the trusted key, for key signatures
    chain: tuple[str, ...] = ()  # subjects, signing certificate first, for certificate signatures


def identify(document, trust: TrustStore):
    """``(identity, None)`` for a trusted signer, else ``(None, (status, fingerprint, reason))``."""
    from modelgate.core.signing.keys import fingerprint as key_fingerprint

    if document.signer_kind == KEY_HINT:
        trusted = trust.find(document.key_hint)
        if trusted is None:
            return None, ("untrusted", document.key_hint, "signed by a key that is not in the trust store")
        return Identity(trusted.name, trusted.fingerprint, trusted.public_pem), None
    if document.signer_kind == EMBEDDED_KEY:
        from cryptography.hazmat.primitives import serialization

        try:
            # model-signing 0.3-1.0 embedded the key's PEM text; the Sigstore bundle
            # specification says DER. Both name the same key.
            raw = document.embedded_key
            key = (serialization.load_pem_public_key(raw) if raw.lstrip().startswith(b"-----BEGIN")
                   else serialization.load_der_public_key(raw))
        except (ValueError, TypeError):
            return None, ("invalid", None, "the public key embedded in the signature is not a valid key")
        printed = key_fingerprint(key)
        trusted = trust.find(printed)
        if trusted is None:
            return None, ("untrusted", printed, "signed by a key (embedded in the signature) that is not "
                                                "in the trust store")
        return Identity(trusted.name, trusted.fingerprint, trusted.public_pem), None
    if document.signer_kind == CERTIFICATE:
        from modelgate.core.signing.certificates import ChainRejected, certificate_fingerprint_der, verify_chain

        printed = certificate_fingerprint_der(document.certificates[0])
        if not trust.authorities:
            return None, ("untrusted", printed, "signed with a certificate, and no CA certificate is trusted "
                                                "(pass --certificate-chain CA.pem)")
        try:
            certified = verify_chain(certificates=document.certificates, authorities=trust.authorities,
                                     revoked=trust.revoked)
        except ChainRejected as exc:
            return None, ("untrusted", printed, str(exc))
        return Identity(certified.subject, certified.fingerprint, None, certified.chain), None
    if document.signer_kind == KEYLESS:
        return None, ("untrusted", None, "a keyless Sigstore signature (identity certificate and transparency "
                                         "log); ModelGate verifies key and certificate signatures offline, and "
                                         "keyless ones only with `model_signing verify sigstore`")
    return None, ("untrusted", None, "the signature names no key, so it cannot be matched with a trusted one")


def _mismatch(expected: dict[str, str], actual: dict[str, str]) -> str:
    """Which files changed, are not signed, or are missing, from the statement and the files hashed."""
    label = {".": "the model file"}
    changed = [label.get(n, n) for n in sorted(set(expected) & set(actual)) if expected[n] != actual[n]]
    extra, missing = sorted(set(actual) - set(expected)), sorted(set(expected) - set(actual))
    parts = [f"changed: {', '.join(changed)}" if changed else "", f"not signed: {', '.join(extra)}" if extra else "",
             f"missing: {', '.join(missing)}" if missing else ""]
    said = "; ".join(p for p in parts if p)[:600]
    return f"the files differ from what was signed ({said})" if said else "the files differ from what was signed"


def check_document(*, name: str, document: bytes, root: Path, hashing: ScopedHashing, trust: TrustStore):
    """Verify one signature ``document`` over the model at ``root``, hashed by ``hashing``.

    Returns a :class:`~modelgate.core.signing.verdicts.SignatureCheck`.
    """
    from modelgate.core.signing.payload import import_model_signing
    from modelgate.core.signing.verdicts import INVALID, UNREADABLE, UNTRUSTED, VALID, SignatureCheck

    try:
        parsed = read_signature(document)
    except SignatureFormatError as exc:
        return SignatureCheck(name, UNREADABLE, None, None, exc.message)
    identity, refusal = identify(parsed, trust)
    if identity is None:
        status, printed, reason = refusal
        return SignatureCheck(name, UNTRUSTED if status == "untrusted" else INVALID, None, printed, reason,
                              signer_kind=parsed.signer_kind, format_version=parsed.format_version)
    details = dict(signer_kind=parsed.signer_kind, format_version=parsed.format_version, chain=identity.chain)
    if parsed.method != "files" or parsed.hash_type != "sha256":
        return SignatureCheck(name, INVALID, identity.signer, identity.fingerprint,
                              f"the signature hashes by {parsed.method or '?'}/{parsed.hash_type or '?'}; "
                              "like the model_signing command, ModelGate verifies per-file SHA-256 only",
                              **details)
    model_signing = import_model_signing()
    with tempfile.TemporaryDirectory(prefix="modelgate-verify-") as scratch:
        sig_file = Path(scratch, "model.sig")
        sig_file.write_bytes(document)
        config = model_signing.verifying.Config()
        if identity.public_pem is not None:
            key_file = Path(scratch, "key.pub")
            key_file.write_bytes(identity.public_pem)
            config.use_elliptic_key_verifier(public_key=key_file)
        else:
            ca_file = Path(scratch, "ca.pem")
            ca_file.write_bytes(b"".join(a.pem for a in trust.authorities if a.fingerprint not in trust.revoked))
            config.use_certificate_verifier(certificate_chain=[ca_file])
        try:
            # The library prints a notice about older formats on stdout; the verdict says it instead.
            with contextlib.redirect_stdout(io.StringIO()):
                config.set_hashing_config(hashing).verify(root, sig_file)
        except ValueError as exc:
            # The DSSE signature held, so the statement is the signer's: compare it with the files.
            text = str(exc)
            reason = (_mismatch(dict(parsed.resources), hashing.covered) if text.startswith("Signature mismatch")
                      else f"rejected: {text[:300]}")
            return SignatureCheck(name, INVALID, identity.signer, identity.fingerprint, reason,
                                  uncovered=hashing.uncovered, **details)
        except Exception as exc:  # InvalidSignature, protobuf and JSON errors from a forged file
            kind = type(exc).__name__
            reason = ("the cryptographic signature does not match its content"
                      if kind == "InvalidSignature" else f"damaged signature ({kind}: {str(exc)[:200]})")
            return SignatureCheck(name, INVALID, identity.signer, identity.fingerprint, reason, **details)
    return SignatureCheck(name, VALID, identity.signer, identity.fingerprint, uncovered=hashing.uncovered,
                          **details)


def _model_files(model: Path, *, skip: Path | None) -> list[tuple[str, Path]]:
    """``(name, path)`` of every regular file of the model; a single file is named ``.``."""
    info = model.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{model} is a symbolic link; pass the model itself",
                         hint="model_signing refuses links too, unless signed with --allow_symlinks.")
    if stat.S_ISREG(info.st_mode):
        return [(".", model)]
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{model} is neither a file nor a folder")
    found, pending = [], [model]
    skip = skip.resolve() if skip is not None else None
    while pending:
        here = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError as exc:
            raise UsageError(f"cannot read the folder {here}: {exc.strerror}") from None
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(model).as_posix()
            if entry.is_symlink():
                raise UsageError(f"{rel} in {model} is a symbolic link",
                                 hint="model_signing refuses links in a model unless signed with "
                                      "--allow_symlinks, and so does ModelGate.")
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif entry.is_file(follow_symlinks=False):
                if skip is None or path.resolve() != skip:
                    found.append((rel, path))
            else:
                raise UsageError(f"{rel} in {model} is a device, FIFO or socket, not a regular file")
            if len(found) > MAX_FILES:
                raise UsageError(f"{model} holds more than {MAX_FILES} files; that is not a model")
    return sorted(found)


def model_ignore_paths(*, model: Path, paths: list[Path]) -> list[str]:
    """``--ignore-paths`` as model-relative names, resolved as the stock command does (against the cwd)."""
    root = model.resolve()
    names = []
    for path in paths:
        candidate = (path if path.is_absolute() else Path.cwd() / path).resolve()
        try:
            names.append(candidate.relative_to(root).as_posix())
        except ValueError:
            raise UsageError(f"--ignore-paths {path} is not inside the model {model}",
                             hint="Paths are taken relative to the current folder, as model_signing does.") \
                from None
    return [n for n in names if n != "."]


@dataclass(frozen=True)
class ModelVerdict:
    """The verdict on one signature over one model; ``covered`` counts the files it vouches for."""

    check: object  # a SignatureCheck
    model: Path
    covered: int
    trust: str

    @property
    def passed(self) -> bool:
        return self.check.valid


def verify_model(*, model: Path, signature: Path, trust: TrustStore, ignore_paths: list[Path] = (),
                 ignore_git_paths: bool = True, progress: Progress | None = None) -> ModelVerdict:
    """Verify ``signature`` over ``model`` (a folder or a single file) against ``trust``.

    Raises :class:`UsageError` (exit 2) for a path that cannot be read; every
    verdict on the signature itself (invalid, untrusted, tampered) is in the result.
    """
    from modelgate.core.bundle.digests import hash_files

    model, signature = Path(model), Path(signature)
    for path, what in ((model, "model"), (signature, "signature")):
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{what} {path} does not exist")
    if not signature.is_file():
        raise UsageError(f"signature {signature} is not a file")
    if signature.stat().st_size > MAX_SIGNATURE_BYTES:
        raise UsageError(f"{signature} is too large to be a signature")
    document = signature.read_bytes()
    ignored = model_ignore_paths(model=model, paths=list(ignore_paths)) if model.is_dir() else []
    if ignore_git_paths and model.is_dir():
        ignored += list(GIT_PATHS)
    files = _model_files(model, skip=signature)
    digests = hash_files(files, progress=progress)
    hashing = ScopedHashing(digests, ignore_paths=ignored, model_name=model.resolve().name)
    check = check_document(name=str(signature), document=document, root=model, hashing=hashing, trust=trust)
    return ModelVerdict(check, model, len(digests) - len(check.uncovered), trust.description)
