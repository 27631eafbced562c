"""The registry's tables as SQLAlchemy 2.0 declarative models.

The table and column names are a contract shared by the store, the audit log,
the workflow and the Alembic migrations: ``migrations/versions/0001_initial.py``
creates exactly this schema, and a test compares the two on SQLite and
PostgreSQL. Change a column here only together with a new migration.

Timestamps are timezone-aware UTC (``DateTime(timezone=True)``); SQLite gives
them back naive, so readers should treat a naive value as UTC (see
:func:`as_utc`). The audit log keeps its own ``created_at`` as an ISO string
because that exact text is part of each event's hash.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from modelgate.core.policy.stages import DRAFT

#: Deterministic constraint names, identical on every dialect and in the migration.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The roles a user may hold.
ROLES = ("submitter", "reviewer", "approver", "signer", "admin")
#: Review decisions.
DECISIONS = ("approve", "reject", "request-changes")
#: Kinds of rows in ``promotions``; "break-glass" restores a version whose gates did not hold.
PROMOTION_KINDS = ("promote", "superseded", "rollback", "restored", "break-glass")


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base holding the registry's metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _version_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), nullable=False, index=True)


class User(Base):
    """A person known to the registry."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    #: Set when an admin removed the user (migration 0005); the row stays so their name and
    #: their past decisions remain theirs.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")


class Model(Base):
    """A model name; its versions hang off it."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    versions: Mapped[list[Version]] = relationship(back_populates="model")


class Version(Base):
    """One stored, immutable bundle of a model and where it stands in the lifecycle."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        Index("ix_versions_stage", "stage"),
        Index("ix_versions_updated_at", "updated_at"),
        Index("ix_versions_model_id_stage", "model_id", "stage"),
        # The listing's filter, newest first (migration 0013).
        Index("ix_versions_model_id_updated_at", "model_id", "updated_at"),
        Index("ix_versions_submitter_updated_at", "submitter", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), nullable=False)
    version: Mapped[str] = mapped_column(String(100), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    stage: Mapped[str] = mapped_column(String(20), nullable=False, default=DRAFT)
    submitter: Mapped[str] = mapped_column(String(200), nullable=False)
    store_path: Mapped[str] = mapped_column(String(500), nullable=False)
    license: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )

    model: Mapped[Model] = relationship(back_populates="versions")


class ValidationRun(Base):
    """The outcome of validating a stored version under one policy for one stage."""

    __tablename__ = "validation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_fk()
    stage: Mapped[str] = mapped_column(String(20), nullable=False)
    policy_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    policy_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: The production version's digest the metrics were compared with, if there was one.
    champion_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    warnings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    report: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Review(Base):
    """A reviewer's decision on a version at the stage it had then."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_fk()
    stage: Mapped[str] = mapped_column(String(20), nullable=False)
    reviewer: Mapped[str] = mapped_column(String(200), nullable=False)
    roles: Mapped[str] = mapped_column(String(200), nullable=False)
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Promotion(Base):
    """One move of a version between stages (promotion, supersession or rollback)."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_fk()
    from_stage: Mapped[str] = mapped_column(String(20), nullable=False)
    to_stage: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    policy_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Signature(Base):
    """A release signature recorded for a version."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_fk()
    signer: Mapped[str] = mapped_column(String(200), nullable=False)
    key_fingerprint: Mapped[str] = mapped_column(String(128), nullable=False)
    bundle_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    file: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class TrustedKey(Base):
    """A signer's public key the registry accepts; revoked keys stay, for the record."""

    __tablename__ = "trusted_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)
    added_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class TrustedCertificate(Base):
    """A CA certificate the registry trusts to issue signing certificates, or a revoked
    certificate (signing or intermediate); revoked rows stay, for the record (migration 0007)."""

    __tablename__ = "trusted_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    certificate: Mapped[str] = mapped_column(Text, nullable=False)
    is_ca: Mapped[bool] = mapped_column(Boolean, nullable=False)
    added_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class StoreDamage(Base):
    """A version whose stored copy was found damaged; it stands until a repair removes it
    (migration 0004). ``details`` is the JSON of what was found (missing, changed, extra)."""

    __tablename__ = "store_damage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), nullable=False,
                                            unique=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False)
    found_by: Mapped[str] = mapped_column(String(200), nullable=False)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class AuditEventRow(Base):
    """One hash-chained audit event (written only by :mod:`.audit`).

    Each filter the audit view offers has an index ending in ``seq``, so a page of one
    actor's, action's or subject's events, newest first, reads only its own rows
    (migration 0003).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_seq", "actor", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_subject_seq", "subject", "seq"),
        Index("ix_audit_events_created_at_seq", "created_at", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class PolicyRow(Base):
    """A policy put in force by an admin; the newest row is the one every gate uses."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    set_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class ChainHead(Base):
    """The single row (id 1) naming the last audit event; locked to serialise appends."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Attestation(Base):
    """One in-toto statement about a version (a promotion decision or its verification summary),
    kept as the canonical JSON that is hashed and signed, and its DSSE envelope once signed."""

    __tablename__ = "attestations"
    __table_args__ = (UniqueConstraint("version_id", "sequence", "predicate_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_fk()
    #: The decision's place among the version's promotions (1 for its first).
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    predicate_type: Mapped[str] = mapped_column(String(200), nullable=False)
    statement: Mapped[str] = mapped_column(Text, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    envelope: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class Waiver(Base):
    """A documented exception: rule ``rule`` does not block ``version`` until ``expires_at``, once
    a second approver confirmed it (four eyes). Revoked and expired waivers stay, for the record."""

    __tablename__ = "waivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = _version_fk()
    rule: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
