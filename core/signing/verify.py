"""Verifying every signature of a bundle against a trust store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelgate.core.bundle.reader import SIGNATURES, Bundle, open_bundle
from modelgate.core.progress import Progress

from modelgate.core.signing.document import MAX_SIGNATURE_BYTES
from modelgate.core.signing.payload import build_manifest, hash_while_importing
from modelgate.core.signing.trust import TrustStore
from modelgate.core.signing.verdicts import INVALID, UNREADABLE, UNTRUSTED, VALID, SignatureCheck

__all__ = ["MAX_SIGNATURE_BYTES", "SignatureCheck", "VerifyReport", "check_signature", "verify_bundle"]
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


def check_signature(*, name: str, document: bytes, root: Path, manifest, trust: TrustStore) -> SignatureCheck:
    """Verify one signature document over the bundle at ``root``, hashed into ``manifest``.

    Every published format version is read (see :mod:`.document`); files the
    signature's own ignore paths leave out are listed in ``uncovered``.
    """
    from modelgate.core.signing.model_verify import ScopedHashing, check_document

    # No manifest: no file is known, so any signature that names one fails as "extra files".
    digests = {rd.identifier: rd.digest.digest_hex for rd in manifest.resource_descriptors()} if manifest else {}
    hashing = ScopedHashing(digests, model_name=root.name)
    return check_document(name=name, document=document, root=root, hashing=hashing, trust=trust)


def verify_bundle(*, path: Path, trust: TrustStore, progress: Progress | None = None) -> VerifyReport:
    """Check every ``signatures/*.sig`` of the bundle at ``path`` (folder or archive) against ``trust``."""
    from modelgate.core.bundle.digests import bundle_digest

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
