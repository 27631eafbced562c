"""Who is acting, which roles they hold, and refusing (and recording) what they may not do.

On SQLite the acting user is whoever the caller names (``--user`` or
``MODELGATE_USER``) or else the operating-system login. On PostgreSQL it is the
database login (``session_user``): naming someone else is refused, so a person
cannot act under another name without that person's database credentials.

Admins pass every role check. The first user of a new registry becomes its admin.
On PostgreSQL the database makes the same checks again in the functions every
write goes through (:mod:`.pgwrites`), so a client without these checks gains nothing.
"""

from __future__ import annotations

import getpass
import re

from sqlalchemy import func, select, text

from . import audit, pgwrites
from .errors import IdentityError, PermissionDenied, RegistryError
from .models import ROLES, User, UserRole

_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,200}$")


def check_name(name: str) -> str:
    """Return ``name`` if it is a usable user name (1–200 characters, no spaces or controls)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise RegistryError(f"{name!r} is not a usable user name",
                            hint="Use 1 to 200 characters without spaces, e.g. a login name.")
    return name


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
        login = connection.execute(text("SELECT session_user")).scalar_one()
        if explicit and explicit != login:
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
    """The roles ``name`` holds (empty when not a registry user), in canonical order."""
    held = set(session.execute(
        select(UserRole.role).join(User, User.id == UserRole.user_id).where(User.name == name)
    ).scalars())
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
    if pgwrites.guarded(session):
        held = set(roles_of(session, name))
        outcome = pgwrites.call(session, "grant_roles", name=name, roles=list(roles))
        created, added = outcome.created, list(outcome.added)
        user = session.execute(select(User).where(User.name == name)).scalar_one()
    else:
        user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
        created = user is None
        if created:
            user = User(name=name)
            session.add(user)
            session.flush()
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
    check_name(name)
    ensure_first_admin(session, actor)
    require(session, actor, "admin", action="add users", subject=name)
    _grant(session, actor=actor, name=name, roles=wanted)
    return roles_of(session, name)
