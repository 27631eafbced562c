"""The listing's queries: a query that a newer key overtook is stopped inside the database."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from modelgate.core.errors import OperationCancelled
from modelgate.core.registry import browse
from modelgate.gui.ops.registry import RegistryConnection, VersionQuery

#: A statement that never ends on its own: counting an endless recursive sequence.
ENDLESS = text("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n")


@pytest.fixture
def connection(demo_registry_copy):
    opened = RegistryConnection.open(url=demo_registry_copy, user="ben")
    yield opened
    opened.close()


def test_a_running_count_is_interrupted_when_a_newer_key_arrives(connection, monkeypatch):
    monkeypatch.setattr(browse, "count_of", lambda session, *, query: session.execute(ENDLESS).scalar_one())
    outcome, started = [], time.monotonic()

    def count():
        try:
            outcome.append(connection.count(query=VersionQuery(text="cred")))
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=count, daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while connection._listing_on is None and time.monotonic() < deadline:   # the statement is running
        time.sleep(0.01)
    time.sleep(0.2)
    connection.stop_listing()
    worker.join(10)
    assert not worker.is_alive(), "the query was not stopped"
    assert isinstance(outcome[0], OperationCancelled)
    assert time.monotonic() - started < 30


def test_stopping_when_nothing_runs_leaves_the_next_query_alone(connection):
    connection.stop_listing()
    rows = connection.page(query=VersionQuery(text="cred"), offset=0, limit=10)
    assert sorted(row.ref for row in rows) == ["credit-risk@1.0.0", "credit-risk@1.1.0", "credit-risk@1.2.0"]
    assert connection.count(query=VersionQuery(text="cred")) == 3
