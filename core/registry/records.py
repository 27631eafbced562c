"""Frozen records the registry hands out: plain values, detached from any database session.

Datetimes are timezone-aware UTC. The command line prints them and dumps them as
JSON; the desktop app shows them; none of them can change the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from modelgate.core.registry.audit import AuditEvent
from modelgate.core.registry.models import Promotion, Review, Signature, ValidationRun, as_utc


@dataclass(frozen=True)
class UserInfo:
    """A registry user and the roles they hold; ``removed_at`` is set once an admin removed them."""

    name: str
    roles: list[str]
    created_at: datetime | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None


@dataclass(frozen=True)
class ImportResult:
    """What ``import_bundle`` did: ``created`` is false when the same bytes were already there."""

    name: str
    version: str
    digest: str
    created: bool
    store_path: Path


@dataclass(frozen=True)
class VersionInfo:
    """One row of the registry listing.

    ``validation`` is the outcome of the latest validation run (``None`` before
    any); ``approvals`` counts distinct reviewers, other than the submitter, who
    approved at the version's current stage; ``signatures`` counts the keys whose verified
    signatures of the version's bytes can count (trusted, unrevoked; each key once).
    """

    name: str
    version: str
    stage: str
    digest: str
    submitter: str
    license: str | None
    created_at: datetime
    updated_at: datetime
    validation: str | None = None
    approvals: int = 0
    signatures: int = 0
    #: The stored copy is marked damaged (``registry fsck``) until ``registry repair``.
    damaged: bool = False
    #: Who, when and why, while the version is in production by a break-glass rollback.
    break_glass_by: str | None = None
    break_glass_at: datetime | None = None
    break_glass_reason: str | None = None

    @property
    def break_glass(self) -> bool:
        """Whether the version is in production by a break-glass rollback (gates overridden)."""
        return self.break_glass_by is not None

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class ValidationInfo:
    """One stored validation run (the full report stays in the database)."""

    stage: str
    policy_name: str | None
    policy_digest: str
    passed: bool
    errors: int
    warnings: int
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, row: ValidationRun) -> ValidationInfo:
        return cls(row.stage, row.policy_name, row.policy_digest, bool(row.passed), row.errors,
                   row.warnings, row.actor, as_utc(row.created_at))


@dataclass(frozen=True)
class ReviewInfo:
    """One review: who, holding which roles, decided what, at which stage, and why."""

    reviewer: str
    roles: str
    decision: str
    comment: str
    stage: str
    created_at: datetime

    @classmethod
    def of(cls, row: Review) -> ReviewInfo:
        return cls(row.reviewer, row.roles, row.decision, row.comment, row.stage, as_utc(row.created_at))


@dataclass(frozen=True)
class PromotionInfo:
    """One stage change of a version."""

    from_stage: str
    to_stage: str
    kind: str
    actor: str
    reason: str | None
    policy_digest: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Promotion) -> PromotionInfo:
        return cls(row.from_stage, row.to_stage, row.kind, row.actor, row.reason, row.policy_digest,
                   as_utc(row.created_at))


@dataclass(frozen=True)
class SignatureInfo:
    """One recorded release signature."""

    signer: str
    key_fingerprint: str
    bundle_digest: str
    verified: bool
    created_at: datetime
    #: When the signing key was revoked (it no longer counts), or None while it is trusted.
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, row: Signature, *, revoked_at: datetime | None = None) -> SignatureInfo:
        return cls(row.signer, row.key_fingerprint, row.bundle_digest, bool(row.verified),
                   as_utc(row.created_at), as_utc(revoked_at))

    @property
    def standing(self) -> str:
        """``revoked YYYY-MM-DD`` once the key is revoked, else ``verified`` or ``unverified``."""
        if self.revoked_at is not None:
            return f"revoked {self.revoked_at:%Y-%m-%d}"
        return "verified" if self.verified else "unverified"


@dataclass(frozen=True)
class VersionDetail:
    """Everything recorded about one version, oldest first."""

    info: VersionInfo
    store_path: Path
    reviews: list[ReviewInfo] = field(default_factory=list)
    promotions: list[PromotionInfo] = field(default_factory=list)
    validations: list[ValidationInfo] = field(default_factory=list)
    signatures: list[SignatureInfo] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    #: What the standing damage mark says (missing, changed, extra files), if there is one.
    damage: Any = None
    #: Confirmed, unrevoked waivers (active or expired), as findings carry them.
    waivers: tuple = ()
    #: Where the bytes live as recorded: the stored folder, or ``oci://HOST/REPO@sha256:…``.
    stored_at: str = ""
