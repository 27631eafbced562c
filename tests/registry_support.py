"""Helpers shared by the registry tests: acting as a given user on SQLite and PostgreSQL,
and bundles that differ only in name, version or bytes.

On SQLite a test names the acting user; on PostgreSQL the acting user is the
database login, so acting as ``bob`` means connecting as the login ``bob``.
The admin is ``admin`` on SQLite and the superuser login ``modelgate`` on
PostgreSQL.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from modelgate.core.registry import Registry, init_registry, open_registry
from tests.factory import edit_manifest, make_bundle


@dataclass
class Backend:
    """One registry URL and how to act on it as different people."""

    url: str
    store: Path | None
    request: pytest.FixtureRequest

    @property
    def is_pg(self) -> bool:
        return self.url.startswith("postgresql")

    @property
    def admin(self) -> str:
        return "modelgate" if self.is_pg else "admin"

    def login(self, name: str) -> tuple[str, str | None]:
        """``(url, user)`` that make ``name`` the acting user."""
        if not self.is_pg or name == "modelgate":
            return self.url, (None if self.is_pg else name)
        server = self.request.getfixturevalue("pg_server")
        database = make_url(self.url).database
        server.create_role(name, database=database)
        return server.url_for(database, name), None

    def init(self) -> Registry:
        """Create the registry as the admin."""
        url, user = self.login(self.admin)
        return init_registry(url=url, user=user, store=self.store)

    def open(self, name: str | None = None) -> Registry:
        """Open the registry acting as ``name`` (default: the admin)."""
        url, user = self.login(name or self.admin)
        return open_registry(url=url, user=user, store=self.store)

    def sql(self, statement: str, **params) -> list:
        """Run raw SQL straight against the database (tampering, inspection)."""
        from sqlalchemy import create_engine

        engine = create_engine(self.url)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(statement), params)
                return result.all() if result.returns_rows else []
        finally:
            engine.dispose()


#: Tables emptied between tests that share one PostgreSQL database.
TABLES = ("users", "user_roles", "models", "versions", "validation_runs", "reviews", "promotions",
          "signatures", "audit_events", "chain_head")  # parents before children
_shared: dict[int, str] = {}


def _shared_database(server) -> str:
    """One migrated PostgreSQL database per server, emptied before each test that uses it.

    Creating a database and migrating it costs most of a second; emptying ten
    tables costs milliseconds. Tests of the schema itself use ``fresh_backend``.
    """
    url = _shared.get(id(server))
    if url is None:
        url = server.create_database("registry_shared")
        open_registry(url=url, store=Path("unused"), create=True).close()
        _shared[id(server)] = url
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for table in reversed(TABLES):  # children first; DELETE is far cheaper than TRUNCATE here
                connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(text("INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, :genesis)"),
                               {"genesis": "0" * 64})
    finally:
        engine.dispose()
    return url


def _sqlite_template(factory) -> Path:
    """A migrated, empty SQLite registry file, made once and copied for each test."""
    template = _shared.get(0)
    if template is None:
        template = str(factory.mktemp("registry-template") / "registry.db")
        open_registry(url=f"sqlite:///{template}", user="nobody", create=True).close()
        _shared[0] = template
    return Path(template)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def backend(request, tmp_path, tmp_path_factory) -> Backend:
    """An empty, migrated registry database: a new SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        shutil.copyfile(_sqlite_template(tmp_path_factory), tmp_path / "registry.db")
        return Backend(f"sqlite:///{tmp_path}/registry.db", None, request)
    url = _shared_database(request.getfixturevalue("pg_server"))
    return Backend(url, tmp_path / "pg-store", request)


@pytest.fixture
def fresh_backend(registry_url, tmp_path, request) -> Backend:
    """A brand-new, empty database (no schema yet): for tests of migrating and opening."""
    store = tmp_path / "pg-store" if registry_url.startswith("postgresql") else None
    return Backend(registry_url, store, request)


@pytest.fixture
def admin_registry(backend):
    """A new registry, opened as its admin."""
    registry = backend.init()
    yield registry
    registry.close()


def variant(template: Path, folder: Path, *, name: str | None = None, version: str | None = None,
            extra: bytes | None = None) -> Path:
    """A copy of ``template`` with another name, version or one more file."""
    shutil.copytree(template, folder)

    def change(data):
        if name:
            data["name"] = name
        if version:
            data["version"] = version

    if name or version:
        edit_manifest(folder, change)
    if extra is not None:
        (folder / "notes.txt").write_bytes(extra)
    return folder


__all__ = ["Backend", "admin_registry", "backend", "fresh_backend", "make_bundle", "variant"]
