"""The policy in force: held by the registry, changed only by an admin, every change audited.

Gates never take a policy from whoever asks for a promotion: a promoter who could
pass their own policy file could wave any version through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from modelgate.core.checks.catalog import check_rule_ids
from modelgate.core.policy.document import Policy, load_policy, parse_policy
from modelgate.core.registry import audit, identity, pgwrites
from modelgate.core.registry.models import PolicyRow, utcnow


@dataclass(frozen=True)
class PolicyInfo:
    """The policy in force and who put it there (``set_by`` is ``None`` for the default)."""

    name: str
    digest: str
    text: str
    set_by: str | None
    set_at: datetime | None


def _latest(session) -> PolicyRow | None:
    return session.scalars(select(PolicyRow).order_by(PolicyRow.id.desc()).limit(1)).first()


def policy_info(registry) -> PolicyInfo:
    """The policy every gate of ``registry`` uses: the newest one set, else the default."""
    with registry.session(write=False) as session:
        row = _latest(session)
        if row is not None:
            return PolicyInfo(row.name, row.digest, row.text, row.set_by, row.created_at)
    from modelgate.core import resources
    from modelgate.core.policy.document import DEFAULT_POLICY

    default = load_policy()
    return PolicyInfo(default.name, default.digest, resources.text(DEFAULT_POLICY), None, None)


def policy_in_force(registry) -> Policy:
    """The :class:`Policy` the gates of ``registry`` use."""
    info = policy_info(registry)
    return parse_policy(info.text.encode("utf-8"), source=f"registry policy {info.name}")


def set_policy(registry, *, path: Path) -> PolicyInfo:
    """Put the policy file at ``path`` in force (admins only); audited as ``policy.set``."""
    policy = load_policy(path)
    check_rule_ids(policy)
    text = Path(path).read_bytes().decode("utf-8-sig")
    with registry.session() as session:
        identity.require(session, registry.actor, "admin", action="set the policy", subject=policy.name)
        if pgwrites.guarded(session):
            row = session.get(PolicyRow, pgwrites.call(session, "set_policy", digest=policy.digest,
                                                       name=policy.name, text=text))
        else:
            row = PolicyRow(digest=policy.digest, name=policy.name, text=text, set_by=registry.actor,
                            created_at=utcnow())
            session.add(row)
            session.flush()
        audit.append(session, actor=registry.actor, action="policy.set", subject=policy.name,
                     payload={"digest": policy.digest, "source": str(path)})
    return PolicyInfo(policy.name, policy.digest, text, registry.actor, row.created_at)
