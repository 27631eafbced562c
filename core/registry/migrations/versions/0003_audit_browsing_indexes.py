"""Audit browsing: indexes that let a filtered page of the audit log read only the rows it shows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The audit view lists events newest first, filtered by actor, action, subject and time.
``(actor, seq)``, ``(action, seq)`` and ``(subject, seq)`` hold each value's events in
sequence order, so "the newest 200 events by ben" walks 200 index entries instead of
the whole log; they replace the single-column ``action`` and ``subject`` indexes, which
they serve as well. ``(created_at, seq)`` finds the events of a time range and their
sequence numbers without reading the table.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "audit_events"
#: New index name -> its columns.
INDEXES = {
    "ix_audit_events_actor_seq": ["actor", "seq"],
    "ix_audit_events_action_seq": ["action", "seq"],
    "ix_audit_events_subject_seq": ["subject", "seq"],
    "ix_audit_events_created_at_seq": ["created_at", "seq"],
}
#: The 0001 indexes the new ones replace -> their column.
REPLACED = {"ix_audit_events_action": "action", "ix_audit_events_subject": "subject"}


def upgrade() -> None:
    for name in REPLACED:
        op.drop_index(name, table_name=TABLE)
    for name, columns in INDEXES.items():
        op.create_index(name, TABLE, columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name=TABLE)
    for name, column in REPLACED.items():
        op.create_index(name, TABLE, [column])
