"""Errors raised by the registry, each with a message a user can act on.

Exit codes follow the command line's contract: 2 means the input or the call
could not be used (unknown version, conflicting import, wrong login); 1 means
the registry worked but said no (a missing role, a promotion whose gates do
not hold).
"""

from __future__ import annotations

from typing import Any

from modelgate.core.errors import ModelGateError
from modelgate.core.store.errors import StoreDamaged  # raised by the store, reported by the registry


class RegistryError(ModelGateError):
    """The registry could not do what was asked (missing registry, conflicting input)."""

    exit_code = 2


class NotFound(RegistryError):
    """A model, version or user named in the call is not in the registry."""

    exit_code = 2


class IdentityError(RegistryError):
    """The acting user could not be established or contradicts the database login."""

    exit_code = 2


class PermissionDenied(ModelGateError):
    """The acting user lacks the role an action needs; the refusal is audited."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        actor: str | None = None,
        wanted: tuple[str, ...] | list[str] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.actor = actor
        self.wanted = tuple(wanted)


class WorkflowRefused(ModelGateError):
    """A promotion or rollback was refused; ``gates`` says which gates did not hold."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, gates: list[Any] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.gates: list[Any] = list(gates or [])


__all__ = [
    "IdentityError",
    "NotFound",
    "PermissionDenied",
    "RegistryError",
    "StoreDamaged",
    "WorkflowRefused",
]
