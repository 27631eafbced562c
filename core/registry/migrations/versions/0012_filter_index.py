"""Filtering the listing as the user types: indexes that answer each key from the page it shows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

The desktop app's filter matches the typed text anywhere in a model's name (``0742`` finds
``model-0742``), so no index on the name can serve it; the models table has one row per
model and is scanned whole (a thousand names in well under a millisecond), on SQLite and
PostgreSQL alike, which is why neither a NOCASE prefix index nor pg_trgm is used. The cost
is in the versions, a hundred per model, which these indexes reach in the listing's order:

- ``(model_id, updated_at)``: the versions of the few models whose names match, newest
  first, read in order instead of fetched whole and sorted;
- ``(submitter, updated_at)``: the versions a matching submitter submitted, newest first,
  where the table had no index on the submitter at all.

Both are plain B-tree indexes on both databases; nothing is written differently.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "versions"
#: Index name -> its columns.
INDEXES = {
    "ix_versions_model_id_updated_at": ["model_id", "updated_at"],
    "ix_versions_submitter_updated_at": ["submitter", "updated_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, TABLE, columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name=TABLE)
