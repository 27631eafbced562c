"""A PostgreSQL team registry whose people log in as themselves, and a raw SQL console per login.

The registry is created by the database superuser ``modelgate`` (its owner and first
admin); each person is a login that is a member of the group role only, exactly as the
README sets a team up. :func:`console` is what a person with a SQL client and their own
credentials has: plain psycopg, no ModelGate in between.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url

from modelgate.core.registry import init_registry, open_registry

#: Who holds which registry role in the team.
PEOPLE = {"ana": ["submitter"], "ben": ["reviewer"], "carl": ["approver"], "dora": ["signer"]}


class PgTeam:
    """The registry at ``url`` with :data:`PEOPLE`, each acting through their own login."""

    def __init__(self, *, server, url: str, store: Path) -> None:
        self.server, self.url, self.store = server, url, store
        self.database = make_url(url).database
        self._open: dict = {}
        owner = init_registry(url=url, store=store)
        self._open[owner.actor] = owner
        self.owner = owner.actor
        for name, roles in PEOPLE.items():
            server.create_role(name, database=self.database)
            owner.add_user(name=name, roles=roles)

    def __call__(self, name: str):
        """The registry as ``name`` sees it through ModelGate."""
        if name not in self._open:
            self._open[name] = open_registry(url=self.server.url_for(self.database, name), store=self.store)
        return self._open[name]

    def close(self) -> None:
        for registry in self._open.values():
            registry.close()

    @contextmanager
    def console(self, name: str, *, autocommit: bool = True):
        """A plain psycopg connection as login ``name``."""
        connection = self.server.connect(self.database, user=name)
        connection.autocommit = autocommit
        try:
            yield connection
        finally:
            connection.close()

    def owner_query(self, statement: str, params=()) -> list[tuple]:
        """Rows of ``statement`` run by the owner (to look, not to attack)."""
        with self.console(self.owner) as connection:
            cursor = connection.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def registry_tables(self) -> list[str]:
        """Every table in the registry's schema, whoever added it."""
        return [row[0] for row in self.owner_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]

    def roles_of(self, name: str) -> list[str]:
        return [row[0] for row in self.owner_query(
            "SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.name = %s "
            "ORDER BY r.role", (name,))]

    def head(self) -> tuple[int, str]:
        return self.owner_query("SELECT seq, hash FROM chain_head WHERE id = 1")[0]
