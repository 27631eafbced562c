"""Errors of the store back-ends, each with a message a user can act on."""

from __future__ import annotations

from typing import Any

from modelgate.core.errors import ModelGateError


class StoreError(ModelGateError):
    """A store could not be reached or used as asked (bad URL, unreachable host, refused login)."""


class ArtifactRefused(StoreError):
    """What a registry or layout holds is not a bundle we accept: a wrong media type, a
    digest that does not match, a path that leaves the bundle. Nothing was written or recorded."""

    exit_code = 1


class RegistryUnreachable(StoreError):
    """The OCI registry did not answer, or answered with something that is not the
    distribution protocol (an HTML page, a redirect elsewhere, an oversized document)."""

    exit_code = 1


class StoreDamaged(ModelGateError):
    """A stored bundle's bytes are not the ones imported (missing, changed or extra files);
    ``damage`` is the :class:`~modelgate.core.store.folder.StoreCheck` when one was made."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, damage: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.damage = damage
