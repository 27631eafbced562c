"""Errors of the signing station; none of them ever quotes a key or a passphrase."""

from __future__ import annotations

from modelgate.core.errors import ModelGateError


class KeyFileError(ModelGateError):
    """A key file cannot be used: unreadable, not a key, wrong passphrase, unsupported curve."""


class SigningRefused(ModelGateError):
    """The bundle may not be signed as it is (unlocked, or its bytes no longer match its lock)."""

    exit_code = 1


class SignatureFormatError(ModelGateError):
    """A file given as a signature is not a model-signing signature ModelGate can read."""

    exit_code = 1


class CertificateError(ModelGateError):
    """A certificate or CA file cannot be used: unreadable, not X.509, wrong key, not for code signing."""
