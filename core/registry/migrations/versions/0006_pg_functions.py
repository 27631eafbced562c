"""PostgreSQL guards its own tables: writes only through SECURITY DEFINER functions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Creates the group role ``modelgate_app`` (if this login may; otherwise the database
administrator creates it), the schema ``modelgate_api`` with one function per write
operation, and leaves application logins ``SELECT`` on the tables and ``EXECUTE`` on
those functions only: see :mod:`modelgate.core.registry.pgwrites`. Nothing happens
on SQLite, which is single-user by nature.
"""

from __future__ import annotations

from alembic import op

from modelgate.core.registry import pgwrites

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pgwrites.install(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # The tables go back to their owner's hands only; rights for logins are the
    # administrator's to grant again by hand.
    op.execute(f"DROP SCHEMA IF EXISTS {pgwrites.API_SCHEMA} CASCADE")
