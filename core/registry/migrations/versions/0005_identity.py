"""Identity: users are removed by marking them, so their name and past decisions stay theirs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

``users.removed_at`` and ``users.removed_by`` record who removed a user and when; a removed
user holds no role and can no longer act, and their name is not given to anyone else.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("removed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("removed_by")
        table.drop_column("removed_at")
