"""Decision attestations (the in-toto statements of each promotion and their DSSE envelopes) and waivers.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07

One row per statement (a promotion decision or its verification summary) of a version,
numbered by the version's promotions; the envelope is filled when a signer signs it. A waiver
row is one documented exception to a rule for a version, until a date, confirmed by a second
approver. On PostgreSQL the guarded functions are installed again so that recording and
signing an attestation, and requesting, confirming and revoking a waiver, go through them
(see :mod:`modelgate.core.registry.pgwrites`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelgate.core.registry import pgwrites

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("predicate_type", sa.String(200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=True),
        sa.Column("key_fingerprint", sa.String(64), nullable=True),
        sa.Column("signed_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name="fk_attestations_version_id_versions",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_attestations"),
        sa.UniqueConstraint("version_id", "sequence", "predicate_type",
                            name="uq_attestations_version_id_sequence_predicate_type"),
    )
    op.create_index("ix_attestations_version_id", "attestations", ["version_id"])
    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name="fk_waivers_version_id_versions",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_waivers"),
    )
    op.create_index("ix_waivers_version_id", "waivers", ["version_id"])
    pgwrites.install(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_waivers_version_id", table_name="waivers")
    op.drop_table("waivers")
    op.drop_index("ix_attestations_version_id", table_name="attestations")
    op.drop_table("attestations")
