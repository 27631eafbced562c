"""Errors of the store back-ends, each with a message a user can act on."""

from __future__ import annotations

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
