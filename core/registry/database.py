"""Where the registry lives, how to connect to it, and keeping its schema current.

SQLite (the default, a file in the user's data folder) runs in WAL mode with
foreign keys on and a busy timeout. SQLAlchemy, not the ``sqlite3`` driver,
emits ``BEGIN``: write transactions start with ``BEGIN IMMEDIATE`` so they take
the database's write lock before reading anything, and concurrent writers wait
for each other instead of failing half-way. PostgreSQL is reached through
psycopg 3 (``postgresql+psycopg://``).

On open the schema revision is read from ``alembic_version`` with one query;
Alembic is imported and run only when the database is behind the code. A
database migrated by a newer ModelGate is refused rather than touched.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from modelgate.core.registry.errors import RegistryError

#: Milliseconds a SQLite connection waits for another writer before giving up.
BUSY_TIMEOUT_MS = 30_000
#: Execution option that marks an engine whose transactions write.
WRITE_OPTION = "modelgate_write"
#: Key of PostgreSQL's transaction-scoped advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 0x4D47_5245  # "MGRE"
MIGRATIONS = Path(__file__).with_name("migrations")
#: SQLSTATE PostgreSQL reports when a login lacks a privilege.
INSUFFICIENT_PRIVILEGE = "42501"


def data_dir() -> Path:
    """The user's ModelGate data folder (platform specific)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("modelgate", appauthor=False))


def default_url() -> str:
    """``sqlite:///<user data dir>/registry.db``."""
    return f"sqlite:///{data_dir() / 'registry.db'}"


def resolve_url(url: str | None) -> str:
    """The registry URL: ``url``, else ``$MODELGATE_REGISTRY``, else the default SQLite file.

    ``postgresql://`` and ``postgres://`` mean psycopg 3 (``postgresql+psycopg://``).
    """
    chosen = url or os.environ.get("MODELGATE_REGISTRY") or default_url()
    for prefix in ("postgresql://", "postgres://"):
        if chosen.startswith(prefix):
            chosen = "postgresql+psycopg://" + chosen[len(prefix):]
    try:
        parsed = make_url(chosen)
    except Exception:
        raise RegistryError(f"{chosen!r} is not a database URL",
                            hint="Use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise RegistryError(f"the registry runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}",
                            hint="Use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise RegistryError(f"PostgreSQL is reached through psycopg 3, not {parsed.get_driver_name()}",
                            hint="Write the URL as postgresql+psycopg://USER@HOST/DB.")
    return chosen


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (``None`` for PostgreSQL); in-memory databases are refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        raise RegistryError("the registry needs a database file, not an in-memory SQLite database",
                            hint="Use sqlite:///PATH/registry.db.")
    return Path(parsed.database).expanduser().resolve()


def redact(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin); the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _sqlite_begin(connection) -> None:
    writes = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_registry_engine(url: str) -> Engine:
    """An engine for ``url`` configured for the registry (see the module docstring)."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def writer(engine: Engine) -> Engine:
    """The same engine (shared pool) whose transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


@contextmanager
def session_scope(engine: Engine, *, write: bool = True):
    """A session in one transaction: committed on success, rolled back on any error."""
    session = Session(bind=writer(engine) if write else engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except DBAPIError as error:
        session.rollback()
        raise database_error(error, engine) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def database_error(error: DBAPIError, engine: Engine) -> RegistryError:
    """A database failure (server gone, file locked, disk full, schema out of step) as one message."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return RegistryError(f"the registry database failed: {reason}",
                         hint=f"Registry: {redact(str(engine.url))}. If the database was changed by "
                              "hand or by another ModelGate version, restore it from a backup.")


def known_revisions() -> list[str]:
    """Revision ids shipped with this code, oldest first (``versions/NNNN_*.py``)."""
    names = (p.name for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return sorted(name.split("_", 1)[0] for name in names)


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return known_revisions()[-1]


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, or ``None`` when it holds no registry yet."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:
            return None
    return rows[0] if len(rows) == 1 else (None if not rows else ",".join(sorted(rows)))


def alembic_config(connection=None):
    """An Alembic ``Config`` built in code: the shipped migrations, bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Run every pending migration in one transaction (serialised against other processes)."""
    from alembic import command

    try:
        with writer(engine).begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), "head")
    except DBAPIError as error:
        # On PostgreSQL application logins hold no right to change the schema (see pgwrites).
        if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            raise RegistryError(
                f"the registry at {redact(str(engine.url))} needs a schema upgrade that only its "
                "owner may make", hint="Ask the registry's owner to run `modelgate registry init` "
                                       "with this ModelGate.") from None
        raise


def ensure_schema(engine: Engine, *, url: str, create: bool) -> str:
    """Bring the schema to the head revision if needed; return the revision now in place.

    Raises :class:`RegistryError` when there is no registry and ``create`` is false,
    or when the database was migrated by a newer ModelGate.
    """
    try:
        revision = current_revision(engine)
    except DBAPIError as exc:
        raise RegistryError(f"could not reach the registry at {redact(url)}: {exc.orig}",
                            hint="Check the URL, that the server runs, and your login.") from None
    head = head_revision()
    if revision == head:
        return revision
    if revision is None and not create:
        raise RegistryError(f"no registry at {redact(url)}; run `modelgate registry init`",
                            hint="Or point --registry / MODELGATE_REGISTRY at an existing registry.")
    known = known_revisions()
    if revision is not None and revision not in known:
        raise RegistryError(
            f"the registry at {redact(url)} has schema revision {revision}, newer than this "
            f"ModelGate understands (up to {head}); it was left untouched",
            hint="Upgrade ModelGate to use this registry.")
    upgrade(engine)
    return head
