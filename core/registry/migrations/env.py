"""Alembic environment for the registry.

ModelGate runs migrations itself (see :func:`modelgate.core.registry.database.upgrade`),
handing Alembic an open connection in ``config.attributes["connection"]``. Run by
hand (``alembic -x url=...``) it connects to that URL instead.
"""

from __future__ import annotations

from alembic import context

from modelgate.core.registry.models import Base

target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from modelgate.core.registry.database import create_registry_engine, resolve_url, writer

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_registry_engine(resolve_url(url))
    try:
        with writer(engine).connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def _inside_alembic() -> bool:
    try:
        context.config  # noqa: B018 (only defined while Alembic runs this file)
    except AttributeError:
        return False
    return True


if _inside_alembic():
    if context.is_offline_mode():
        raise SystemExit("the registry's migrations run online only (against a database)")
    run_migrations_online()
