"""Exceptions that carry a user-facing explanation.

Every error the core raises on bad input is a :class:`ModelGateError`. The CLI
prints ``str(error)`` (and the hint, when there is one) as one message on
stderr and exits with ``error.exit_code``; the desktop app shows the same text
in its error dialog. No traceback ever reaches a user for these.
"""

from __future__ import annotations


class ModelGateError(Exception):
    """Base class: an error a user can understand and act on."""

    #: Exit code the CLI uses: 2 means the input or the call could not be used.
    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.rule = rule

    def explain(self) -> str:
        """The full user-facing text: the message, then the hint on its own line."""
        text = f"{self.rule}: {self.message}" if self.rule else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(ModelGateError):
    """The command was called wrongly (unknown option, missing argument)."""


class BundleError(ModelGateError):
    """A bundle could not be opened or read."""


class UnsafeBundleError(BundleError):
    """A bundle or archive tries to reach outside itself or to exhaust resources."""


class ManifestError(BundleError):
    """``bundle.yaml`` could not be read at all (missing, not UTF-8, not YAML)."""


class PolicyError(ModelGateError):
    """A policy file is missing, malformed or invalid."""


class OperationCancelled(ModelGateError):
    """The user cancelled a long operation (hashing, validation)."""

    exit_code = 130

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)
