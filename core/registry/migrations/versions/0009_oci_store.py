"""A push to an OCI registry and an export are recorded as audit events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Re-creates the functions of ``modelgate_api`` so that signers and admins may append the
"store.pushed" and "store.exported" events (where a version was pushed or exported to,
and the manifest digest). See :mod:`modelgate.core.registry.pgwrites`. Nothing happens on SQLite.
"""

from __future__ import annotations

from alembic import op

from modelgate.core.registry import pgwrites

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pgwrites.install(op.get_bind())


def downgrade() -> None:
    # The event-only functions are re-created from the list in force; nothing to drop.
    pass
