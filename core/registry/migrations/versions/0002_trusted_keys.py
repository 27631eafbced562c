"""Signing: the registry's trusted signer keys, and the signature documents themselves.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

A recorded signature keeps its model-signing document, so it can be checked
again (and exported) at any time, and names the signature file it came from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trusted_keys"),
        sa.UniqueConstraint("fingerprint", name="uq_trusted_keys_fingerprint"),
    )
    with op.batch_alter_table("signatures") as table:
        table.add_column(sa.Column("file", sa.String(200), nullable=True))
        table.add_column(sa.Column("document", sa.Text(), nullable=True))
        table.add_column(sa.Column("recorded_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signatures") as table:
        for column in ("recorded_by", "document", "file"):
            table.drop_column(column)
    op.drop_table("trusted_keys")
