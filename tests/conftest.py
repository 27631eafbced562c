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

#: Registry fixtures (backend, fresh_backend, admin_registry) shared by the registry tests, and
#: the desktop app's fixtures (a session-wide demo workspace, a main window on it).
pytest_plugins = ["tests.registry_support", "tests.gui_support", "tests.token_support"]

MINIMAL_MANIFEST = """\
bundle_format: modelgate.bundle/v1
name: tiny-model
version: 1.0.0
license: Apache-2.0
artifacts:
  - path: model/m.onnx
    format: onnx
    variant: fp32
interface:
  inputs:
    - {name: x, dtype: float32, shape: [batch, 4]}
  outputs:
    - {name: y, dtype: float32, shape: [batch, 1]}
"""


@pytest.fixture
def minimal_manifest():
    """The text of a minimal valid bundle.yaml (one artifact, ``model/m.onnx``)."""
    return MINIMAL_MANIFEST


@pytest.fixture
def minimal_bundle(tmp_path):
    """Factory: write a minimal valid bundle folder (random bytes stand in for the model).

    ``minimal_bundle()`` writes ``tmp_path/"bundle"``; pass ``name`` for another
    folder, ``manifest`` (text) to replace bundle.yaml, ``model_size`` for the
    artifact's size and ``extra`` ({relative path: bytes}) for more files.
    """

    def make(name: str = "bundle", *, manifest: str = MINIMAL_MANIFEST, model_size: int = 4096,
             extra: dict[str, bytes] | None = None) -> Path:
        root = tmp_path / name
        (root / "model").mkdir(parents=True)
        (root / "model" / "m.onnx").write_bytes(os.urandom(model_size))
        (root / "bundle.yaml").write_text(manifest, encoding="utf-8")
        (root / "MODEL_CARD.md").write_text("# tiny-model\n\n## Intended use\nTests.\n", encoding="utf-8")
        (root / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n", encoding="utf-8")
        for rel, data in (extra or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        return root

    return make


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
