"""Who is acting, which roles they hold, and refusing (and recording) what they may not do.

On SQLite the acting user is whoever the caller names (``--user`` or
``MODELGATE_USER``) or else the operating-system login. On PostgreSQL it is the
database login (``session_user``): naming someone else is refused, so a person
cannot act under another name without that person's database credentials.

Admins pass every role check. The first user of a new registry becomes its admin.

Names are compared in one canonical form, NFKC then case-folded (:func:`canonical_name`), and
two names whose Unicode TR39 skeletons agree (Cyrillic "а" against Latin "a", "l" against "I"
or "1") are one person's: a new user whose name is confusable with an existing one is refused,
and the approval and signature gates count such twins once (:func:`person_key`). Users are removed by marking them removed and taking their roles: their
past decisions stay on record under their name, which no one else may take.
On PostgreSQL the database makes the same checks again in the functions every
write goes through (:mod:`.pgwrites`), so a client without these checks gains nothing.
"""

from __future__ import annotations

import getpass
import re
import unicodedata
from functools import lru_cache

from sqlalchemy import delete, func, select, text

from modelgate.core.registry import audit, pgwrites
from modelgate.core.registry.errors import IdentityError, NotFound, PermissionDenied, RegistryError, WorkflowRefused
from modelgate.core.registry.models import ROLES, User, UserRole

_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,200}$")


def canonical_name(name: str) -> str:
    """``name`` in the one form the registry stores and compares: NFKC, case-folded, NFKC again
    (case folding can leave a string unnormalised)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def check_name(name: str) -> str:
    """Return the canonical form of ``name`` if it is a usable user name (1–200 characters, no
    spaces, controls or invisible format characters)."""
    if isinstance(name, str):
        name = canonical_name(name)
    if (not isinstance(name, str) or not _NAME.match(name)
            or any(unicodedata.category(c) in ("Cf", "Zs", "Zl", "Zp") for c in name)):
        raise RegistryError(f"{name!r} is not a usable user name",
                            hint="Use 1 to 200 characters without spaces, e.g. a login name.")
    return name


@lru_cache(maxsize=4096)
def person_key(name: str) -> str:
    """The TR39 skeleton of ``name``'s canonical form: names with the same key are one person
    to every gate, and a new user may not take a name confusable with an existing one."""
    from disarm import skeleton_key

    return skeleton_key(canonical_name(name), digit_policy="tr39")


def find_user(session, name: str) -> User | None:
    """The user whose canonical name is ``name``'s (stored names may predate normalisation)."""
    wanted = canonical_name(name)
    row = session.execute(select(User).where(User.name == wanted)).scalar_one_or_none()
    if row is not None:
        return row
    return next((user for user in session.execute(select(User)).scalars()
                 if canonical_name(user.name) == wanted), None)


def confusable_with(session, name: str) -> str | None:
    """An existing user name (removed ones included) that differs from ``name`` but is
    confusable with it, or None."""
    wanted, key = canonical_name(name), person_key(name)
    for existing in session.execute(select(User.name)).scalars():
        if canonical_name(existing) != wanted and person_key(existing) == key:
            return existing
    return None


def check_roles(roles) -> list[str]:
    """The roles, validated and in the canonical order of :data:`ROLES`."""
    wanted = set(roles or ())
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise RegistryError(f"unknown role {', '.join(map(repr, unknown))}",
                            hint=f"Roles are: {', '.join(ROLES)}.")
    if not wanted:
        raise RegistryError("no role given", hint=f"Give at least one of: {', '.join(ROLES)}.")
    return [role for role in ROLES if role in wanted]


def acting_user(connection, *, explicit: str | None) -> str:
    """The acting user for a connection: see the module docstring."""
    if connection.dialect.name == "postgresql":
        # session_user is the login itself; current_user follows SET ROLE (or a role=
        # connection option), which would let a login act under another name.
        raw = connection.execute(text("SELECT session_user")).scalar_one()
        login = check_name(raw)
        if login != raw:  # two logins ("Carol" and "carol") must never act as one registry user
            raise IdentityError(
                f"the database login {raw!r} is not written in the registry's form of that name "
                f"({login!r}), so it could pass for another login",
                hint="Give each person a lower-case login (PostgreSQL folds unquoted names to lower case).")
        if explicit and check_name(explicit) != login:
            raise IdentityError(
                f"you are logged in to the registry database as {login}; "
                f"acting as {explicit} is not allowed",
                hint="On PostgreSQL the acting user is the database login: connect as that user, "
                     "or drop --user / MODELGATE_USER.")
        return login
    if explicit:
        return check_name(explicit)
    try:
        return check_name(getpass.getuser())
    except Exception:
        raise IdentityError("could not tell who you are from the operating system",
                            hint="Name yourself with --user NAME or MODELGATE_USER.") from None


def roles_of(session, name: str) -> list[str]:
    """The roles ``name`` holds (empty when not a registry user, or removed), in canonical order."""
    user = find_user(session, name)
    if user is None:
        return []
    held = set(session.execute(select(UserRole.role).where(UserRole.user_id == user.id)).scalars())
    return [role for role in ROLES if role in held]


def user_count(session) -> int:
    """How many users the registry has."""
    return session.execute(select(func.count()).select_from(User)).scalar_one()


def _describe(roles: tuple[str, ...]) -> str:
    names = list(roles)
    if len(names) == 1:
        return f"the {names[0]} role"
    return f"the {', '.join(names[:-1])} or {names[-1]} role"


def require(session, actor: str, *roles: str, action: str, subject: str = "") -> list[str]:
    """Return the actor's roles if they hold one of ``roles`` (admins always do).

    Otherwise the caller's transaction is rolled back, an audit event ``denied``
    (payload ``{"wanted": roles, "action": action}``) is committed on its own, and
    :class:`PermissionDenied` is raised.
    """
    held = roles_of(session, actor)
    if "admin" in held or any(role in held for role in roles):
        return held
    session.rollback()
    audit.append(session, actor=actor, action="denied", subject=subject,
                 payload={"wanted": list(roles), "action": action, "held": held})
    session.commit()
    target = f" {subject}" if subject else ""
    raise PermissionDenied(
        f"{actor} lacks {_describe(roles)} needed to {action}{target}",
        hint=(f"An admin can grant it: modelgate users add {actor} --role {roles[0]}" if roles
              else None),
        actor=actor, wanted=roles)


def _grant(session, *, actor: str, name: str, roles: list[str]) -> tuple[User, list[str], bool]:
    """Give ``name`` the roles (creating the user if new); return (user, roles added, created)."""
    user = find_user(session, name)
    created = user is None
    if created:
        twin = confusable_with(session, name)
        if twin is not None:
            raise RegistryError(f"{name!r} looks like the existing user {twin!r}; a registry keeps "
                                "names that can be mistaken for each other apart",
                                hint="Choose a name that reads differently, or use the existing user.")
    if pgwrites.guarded(session):
        if user is not None and user.removed_at is not None:
            pgwrites.call(session, "reinstate_user", name=user.name)
            audit.append(session, actor=actor, action="user.reinstated", subject=user.name, payload={})
        name = user.name if user is not None else name
        held = set(roles_of(session, name))
        outcome = pgwrites.call(session, "grant_roles", name=name, roles=list(roles))
        created, added = outcome.created, list(outcome.added)
        user = session.execute(select(User).where(User.name == name)).scalar_one()
        session.refresh(user)
    else:
        if created:
            user = User(name=name)
            session.add(user)
            session.flush()
        elif user.removed_at is not None:
            user.removed_at, user.removed_by = None, None
            audit.append(session, actor=actor, action="user.reinstated", subject=user.name, payload={})
        name = user.name
        held = set(session.execute(select(UserRole.role).where(UserRole.user_id == user.id)).scalars())
        added = [role for role in roles if role not in held]
        for role in added:
            session.add(UserRole(user_id=user.id, role=role))
        session.flush()
    if created:
        audit.append(session, actor=actor, action="user.added", subject=name, payload={"roles": added})
    elif added:
        audit.append(session, actor=actor, action="user.roles_granted", subject=name,
                     payload={"added": added, "roles": [r for r in ROLES if r in held | set(added)]})
    return user, added, created


def ensure_first_admin(session, actor: str) -> bool:
    """Make ``actor`` the admin if the registry has no user yet; return whether it did."""
    audit.lock_head(session)  # serialise: two first users cannot both become admin
    if user_count(session):
        return False
    _grant(session, actor=actor, name=actor, roles=["admin"])
    return True


def add_user(session, *, actor: str, name: str, roles) -> list[str]:
    """Add ``name`` or give them more roles, as ``actor`` (an admin, or the very first user).

    Returns the roles ``name`` holds afterwards. Writes ``user.added`` or
    ``user.roles_granted``; a call that changes nothing writes no event.
    """
    wanted = check_roles(roles)
    name = check_name(name)
    ensure_first_admin(session, actor)
    require(session, actor, "admin", action="add users", subject=name)
    _grant(session, actor=actor, name=name, roles=wanted)
    return roles_of(session, name)


def _admins(session) -> list[str]:
    return list(session.execute(select(User.name).join(UserRole, UserRole.user_id == User.id)
                                .where(UserRole.role == "admin").order_by(User.name)).scalars())


def _existing(session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NotFound(f"no user {name!r} in this registry", hint="`modelgate users list` shows the users.")
    if user.removed_at is not None:
        raise NotFound(f"{user.name!r} was already removed", hint="`modelgate users list` shows the users.")
    return user


def revoke_roles(session, *, actor: str, name: str, roles) -> list[str]:
    """Take ``roles`` from ``name`` as ``actor`` (an admin); returns the roles left.

    Writes ``user.roles_revoked``; refuses to take the admin role from the last admin, so the
    registry always has someone who can manage it.
    """
    wanted = check_roles(roles)
    name = check_name(name)
    audit.lock_head(session)  # serialise against a concurrent removal of the other admin
    require(session, actor, "admin", action="revoke roles", subject=name)
    user = _existing(session, name)
    held = set(session.execute(select(UserRole.role).where(UserRole.user_id == user.id)).scalars())
    taken = [role for role in wanted if role in held]
    if "admin" in taken and _admins(session) == [user.name]:
        raise WorkflowRefused(f"{user.name} is the last admin; the registry needs one",
                              hint="Make someone else an admin first: modelgate users add NAME --role admin")
    if taken and pgwrites.guarded(session):
        pgwrites.call(session, "revoke_roles", name=user.name, roles=taken)
    elif taken:
        session.execute(delete(UserRole).where(UserRole.user_id == user.id, UserRole.role.in_(taken)))
    if taken:
        audit.append(session, actor=actor, action="user.roles_revoked", subject=user.name,
                     payload={"revoked": taken, "roles": [r for r in ROLES if r in held - set(taken)]})
    return roles_of(session, user.name)


def remove_user(session, *, actor: str, name: str) -> None:
    """Remove ``name`` as ``actor`` (an admin): every role is taken and the user is marked
    removed. Their past reviews, promotions and signatures stay on record; they can no longer
    act, and their name (or one confusable with it) is not given to anyone else. Writes
    ``user.removed``; refuses to remove the last admin.
    """
    from modelgate.core.registry.models import utcnow

    name = check_name(name)
    audit.lock_head(session)
    require(session, actor, "admin", action="remove users", subject=name)
    user = _existing(session, name)
    held = [role for role in ROLES if role in set(session.execute(
        select(UserRole.role).where(UserRole.user_id == user.id)).scalars())]
    if "admin" in held and _admins(session) == [user.name]:
        raise WorkflowRefused(f"{user.name} is the last admin; the registry needs one",
                              hint="Make someone else an admin first: modelgate users add NAME --role admin")
    if pgwrites.guarded(session):
        pgwrites.call(session, "remove_user", name=user.name)
        session.refresh(user)
    else:
        session.execute(delete(UserRole).where(UserRole.user_id == user.id))
        user.removed_at, user.removed_by = utcnow(), actor
    audit.append(session, actor=actor, action="user.removed", subject=user.name, payload={"roles": held})
