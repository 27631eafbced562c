"""Store integrity: versions whose stored copy was found damaged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

A row stays while the damage stands: promotion, rollback, signing and reports
refuse the version until ``modelgate registry repair`` puts the imported bytes back
and removes the row (both steps are in the audit log).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_damage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("found_by", sa.String(200), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name="fk_store_damage_version_id_versions",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_store_damage"),
        sa.UniqueConstraint("version_id", name="uq_store_damage_version_id"),
    )


def downgrade() -> None:
    op.drop_table("store_damage")
