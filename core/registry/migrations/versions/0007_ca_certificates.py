"""Certificates in the trust store: CA certificates that issue signing certificates, and revocations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

A row is either a trusted CA (``is_ca``; a signature whose chain leads to it is
trusted) or a certificate that was revoked without ever being trusted itself (a
signing certificate or an intermediate). Revoked rows stay, for the record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("is_ca", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trusted_certificates"),
        sa.UniqueConstraint("fingerprint", name="uq_trusted_certificates_fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("trusted_certificates")
