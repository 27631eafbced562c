"""What verifying one signature file can conclude, shared by the bundle-level and per-document checks."""

from __future__ import annotations

from dataclasses import dataclass

VALID, UNTRUSTED, INVALID, UNREADABLE = "valid", "untrusted", "invalid", "unreadable"


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature file.

    ``signer`` is the trusted name of the key that made it, or the subject of
    its certificate (``None`` when not trusted); ``fingerprint`` the key's (or
    the signing certificate's), as the signature names it.
    """

    file: str
    status: str
    signer: str | None
    fingerprint: str | None
    reason: str = ""
    #: Files present but not covered: left out by the signature's ignore paths or --ignore-paths.
    uncovered: tuple[str, ...] = ()
    #: How the signature names its signer (key hint, embedded public key, certificate).
    signer_kind: str = ""
    #: The model-signing releases that write this layout (see :mod:`.document`).
    format_version: str = ""
    #: For a certificate signer: the subjects from the signing certificate to the trusted CA.
    chain: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.status == VALID
