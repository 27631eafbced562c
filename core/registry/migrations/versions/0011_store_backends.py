"""Versions whose bytes live in an OCI registry.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

A version's ``store_path`` is either its folder in the folder store (``ab/abcd…``) or, when
the store is an OCI registry, its repository and manifest digest
(``oci://HOST:PORT/PREFIX/NAME@sha256:…``). The table already holds either; on PostgreSQL
the guarded ``import_version`` function is installed again so that it accepts the second form.
"""

from __future__ import annotations

from alembic import op

from modelgate.core.registry import pgwrites

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pgwrites.install(op.get_bind())


def downgrade() -> None:
    # The functions are re-created from the list in force; nothing to drop.
    pass
