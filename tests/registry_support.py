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
from tests.factory import clean_manifest, edit_manifest, make_bundle


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
          "signatures", "attestations", "waivers", "trusted_keys", "audit_events",
          "chain_head")  # parents before children
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


__all__ = ["Backend", "backend", "make_bundle", "variant"]


# The workflow team: a registry with users acting through their own logins -----------------

NAME = "tiny-classifier"
USERS = {"alice": ["submitter"], "bob": ["reviewer"], "carol": ["approver"], "dave": ["approver"],
         "erin": ["submitter", "reviewer", "approver"]}
#: Who approves a version at the stage before each target stage, under the default policy.
APPROVERS = {"candidate": ["bob"], "staging": ["carol"], "production": ["carol", "dave"]}


class Team:
    """A registry with an admin and :data:`USERS`, each acting through their own login."""

    def __init__(self, url: str, store: Path | None, server=None) -> None:
        self.url, self.store, self.server = url, store, server
        self.database = make_url(url).database if server else None
        self._open: dict = {}
        admin = init_registry(url=url, user=None if server else "root", store=store)
        self.admin_name = admin.actor
        self._open[admin.actor] = admin
        for name, roles in USERS.items():
            if server:
                server.create_role(name, database=self.database)
            admin.add_user(name=name, roles=roles)

    def __call__(self, name: str):
        """The registry as ``name`` sees it."""
        if name not in self._open:
            if self.server:
                url = self.server.url_for(self.database, name)
                self._open[name] = open_registry(url=url, store=self.store)
            else:
                self._open[name] = open_registry(url=self.url, user=name, store=self.store)
        return self._open[name]

    @property
    def admin(self):
        return self(self.admin_name)

    def close(self) -> None:
        for registry in self._open.values():
            registry.close()


@pytest.fixture
def team(registry_url, tmp_path, request):
    server = request.getfixturevalue("pg_server") if registry_url.startswith("postgresql") else None
    crew = Team(registry_url, tmp_path / "store" if server else None, server)
    yield crew
    crew.close()





def new_bundle(folder: Path, template: Path, *, version: str = "1.0.0", change=None,
               results: dict | None = None) -> Path:
    """A clean locked bundle of ``version`` (``change(manifest)`` to break it), reusing the
    template's ONNX model so no model is built."""
    manifest = clean_manifest(NAME, version)
    if change is not None:
        change(manifest)

    def model(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "model" / "model.onnx", path)

    return make_bundle(folder / f"bundle-{version}", manifest=manifest, results=results, model=model)
