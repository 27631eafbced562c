import json
import os
import tempfile
from pathlib import Path


def _offscreen_desktop() -> str:
    """Qt's offscreen platform with a 1920x1200 screen (its own is 800x800, smaller than the
    desktop the app is made for, and windows are kept within their screen)."""
    config = Path(tempfile.gettempdir()) / f"modelgate-offscreen-{os.getuid() if hasattr(os, 'getuid') else 0}.json"
    config.write_text(json.dumps({"screens": [{"name": "offscreen", "x": 0, "y": 0, "width": 1920, "height": 1200,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    return f"offscreen:configfile={config}"


os.environ.setdefault("QT_QPA_PLATFORM", _offscreen_desktop())  # before any Qt import

import pytest

#: Fixtures used across folders (pytest reads ``pytest_plugins`` only here, in the root conftest):
#: the registry back ends and the workflow team that tests/core/registry/ and tests/attacks/ share,
#: and the desktop app's demo workspace and windows that tests/gui/, tests/attacks/ and the
#: evidence and CLI tests share. Fixtures one folder alone uses live in that folder's conftest.py.
#: The SoftHSM2 token of the hardware-key signing tests is shared the same way.
pytest_plugins = ["tests.registry_support", "tests.gui_support", "tests.token_support"]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point the process's temporary folder at a fresh folder the test can list.

    Archives are extracted into ``modelgate-bundle-*`` folders made by
    :func:`tempfile.mkdtemp`; with this fixture they land here, so a test can
    check that none is left behind.
    """
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A clean, locked bundle built once per test module; copy it before changing it."""
    from tests.factory import make_bundle

    return make_bundle(tmp_path_factory.mktemp("template") / "bundle")


# --------------------------------------------------------------- PostgreSQL
_pg_databases = iter(range(1, 1_000_000))
#: Fixtures whose ``postgresql`` case asks for the server while the test runs.
_PG_PARAMETRISED = ("backend", "registry_url")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by mark
def pytest_collection_modifyitems(items):
    """Every test that talks to PostgreSQL is ``slow``: the server's start and each fresh database
    cost seconds, and the quick loop keeps each registry test's SQLite case."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if {"pg_server", "pg_url"} & set(item.fixturenames) or any(
                params.get(name) == "postgresql" for name in _PG_PARAMETRISED):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for the whole session (see tests/pg.py), started on first use.

    Fails (never skips) when PostgreSQL is not installed, naming the install command.
    """
    from tests.pg import PostgresNotInstalled, PostgresServer

    try:
        server = PostgresServer().start()
    except PostgresNotInstalled as missing:
        pytest.fail(str(missing), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def _fresh_database_name(request) -> str:
    import re

    stem = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower()).strip("_")
    return f"t{next(_pg_databases)}_{stem}"[:63].rstrip("_")


@pytest.fixture
def pg_url(request, pg_server):
    """URL of a fresh, empty PostgreSQL database for this test (as the superuser ``modelgate``).

    ``pg_server.create_role(NAME, database=...)`` and ``pg_server.url_for(db, NAME)`` give
    other logins; the database name is ``sqlalchemy.make_url(pg_url).database``.
    """
    return pg_server.create_database(_fresh_database_name(request))


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def registry_url(request, tmp_path):
    """A registry URL on each back end: a new SQLite file, then a fresh PostgreSQL database.

    The PostgreSQL server starts only when a ``postgresql`` case runs.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    server = request.getfixturevalue("pg_server")
    return server.create_database(_fresh_database_name(request))
