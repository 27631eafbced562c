"""Errors of the signing station; none of them ever quotes a key or a passphrase."""

from __future__ import annotations

from modelgate.core.errors import ModelGateError


class KeyFileError(ModelGateError):
    """A key file cannot be used: unreadable, not a key, wrong passphrase, unsupported curve."""


class SigningRefused(ModelGateError):
    """The bundle may not be signed as it is (unlocked, or its bytes no longer match its lock)."""

    exit_code = 1
