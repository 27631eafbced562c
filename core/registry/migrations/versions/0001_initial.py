"""The initial registry schema: users, models, versions, their records and the audit chain.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Constraint and index names follow ``models.NAMING_CONVENTION`` so the schema is
identical on SQLite and PostgreSQL. The single ``chain_head`` row starts at
sequence 0 with the genesis hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _when(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _version_id(table: str) -> list:
    return [
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], ondelete="CASCADE",
                                name=f"fk_{table}_version_id_versions"),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_user_roles_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("name", name="uq_models_name"),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("submitter", sa.String(200), nullable=False),
        sa.Column("store_path", sa.String(500), nullable=False),
        sa.Column("license", sa.String(200), nullable=True),
        _when(),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name="fk_versions_model_id_models"),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.UniqueConstraint("model_id", "version", name="uq_versions_model_id_version"),
    )
    op.create_index("ix_versions_stage", "versions", ["stage"])
    op.create_index("ix_versions_updated_at", "versions", ["updated_at"])
    op.create_index("ix_versions_model_id_stage", "versions", ["model_id", "stage"])

    op.create_table(
        "validation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        *_version_id("validation_runs"),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=True),
        sa.Column("champion_digest", sa.String(64), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_validation_runs"),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        *_version_id("reviews"),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
    )
    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        *_version_id("promotions"),
        sa.Column("from_stage", sa.String(20), nullable=False),
        sa.Column("to_stage", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("policy_digest", sa.String(64), nullable=True),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_promotions"),
    )
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        *_version_id("signatures"),
        sa.Column("signer", sa.String(200), nullable=False),
        sa.Column("key_fingerprint", sa.String(128), nullable=False),
        sa.Column("bundle_digest", sa.String(64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_signatures"),
    )
    for table in ("validation_runs", "reviews", "promotions", "signatures"):
        op.create_index(f"ix_{table}_version_id", table, ["version_id"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chain_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        _when(),
        sa.PrimaryKeyConstraint("id", name="pk_policies"),
    )


def downgrade() -> None:
    for index, table in (("ix_audit_events_action", "audit_events"),
                         ("ix_audit_events_subject", "audit_events")):
        op.drop_index(index, table_name=table)
    for table in ("policies", "chain_head", "audit_events", "signatures", "promotions", "reviews",
                  "validation_runs"):
        op.drop_table(table)
    for index in ("ix_versions_model_id_stage", "ix_versions_updated_at", "ix_versions_stage"):
        op.drop_index(index, table_name="versions")
    for table in ("versions", "models", "user_roles", "users"):
        op.drop_table(table)
