"""Writes added after the guarded functions go through them too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Re-creates the functions of ``modelgate_api`` so that they include trusting a CA,
revoking a certificate (withdrawing the signatures made under it), recording a
certificate signature, revoking roles, removing and reinstating users, and marking
and clearing store damage; a break-glass rollback is an admin's, and new user names
are canonical. See :mod:`modelgate.core.registry.pgwrites`. Nothing happens on SQLite.
"""

from __future__ import annotations

from alembic import op

from modelgate.core.registry import pgwrites

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pgwrites.install(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Back to 0007: what these functions wrote is written by the registry owner only again.
    for function in ("trust_ca(text, text, text, text)",
                     "revoke_certificate(text, text, text, text, text, integer[])",
                     "record_certificate_signature(integer, text, text, text[], text, text)",
                     "reinstate_user(text)", "revoke_roles(text, text[])", "remove_user(text)",
                     "mark_damaged(integer, text)", "clear_damage(integer)",
                     "_pem_fingerprint(text)", "_chain_of(text)", "_last_admin(integer)"):
        op.execute(f"DROP FUNCTION IF EXISTS {pgwrites.API_SCHEMA}.{function}")
