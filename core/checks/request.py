"""What a caller asks the validation engine, and what it really knows.

Every validation, whether from ``modelgate validate``, the desktop app or the
registry, is one :class:`ValidationRequest` handed to
:func:`~modelgate.core.checks.engine.validate_bundle`. The request says what the
caller knows about signatures as facts it looked up, never as a flag: a trust store
it loaded (or none), or the signatures the registry recorded for the version it
read. A caller that looked nothing up gets the full MG8xx checks against the files
in ``signatures/``, so the desktop app and CI reach the same verdict on one folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from modelgate.core.bundle.reader import Bundle
from modelgate.core.policy.document import Policy


@dataclass(frozen=True)
class RecordedSignatures:
    """The signatures a registry recorded for ``label`` (``name@version``), read from it by the
    caller. The registry's signature gate judges them (trusted keys, roles, revocations), so
    the MG8xx checks of the files in ``signatures/`` stand aside for such a request."""

    label: str
    fingerprints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationRequest:
    """One validation: ``bundle`` under ``policy`` for ``stage``.

    ``champion``: the production bundle whose metrics the candidate is compared with.
    ``trust``: the trust store (a :class:`~modelgate.core.signing.trust.TrustStore`) the
    caller loaded; ``None`` trusts no signer. ``recorded``: the registry's record of the
    version's signatures, when the caller read it (see :class:`RecordedSignatures`).
    ``digests``: ``{path: sha256}`` of the bundle's content files, when the caller hashed
    exactly these bytes already in this run (a prepared promotion); ``None`` hashes them here.
    """

    bundle: Bundle
    policy: Policy
    stage: str
    champion: Bundle | None = None
    trust: object | None = None
    recorded: RecordedSignatures | None = None
    digests: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.digests is not None:  # frozen all the way down: nobody edits what was hashed
            object.__setattr__(self, "digests", MappingProxyType(dict(self.digests)))


def trust_from(*, location: str):
    """The trust store at ``location`` (files or folders, separated by ``os.pathsep``), or ``None``
    when it is empty. Raises :class:`~modelgate.core.signing.trust.KeyFileError` (a
    :class:`~modelgate.core.errors.ModelGateError`) for a path that does not exist."""
    paths = [Path(part).expanduser() for part in location.split(os.pathsep) if part.strip()]
    if not paths:
        return None
    from modelgate.core.signing.trust import load_trust_store

    return load_trust_store(paths)
