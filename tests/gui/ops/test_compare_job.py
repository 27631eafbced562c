"""The compare job's plan travels to a worker process as plain values, and means there what it
meant in the window's process: the same comparison, read through the same store."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from modelgate.core.progress import Progress
from modelgate.core.registry import compare as comparing
from modelgate.gui.ops import compare as operations
from modelgate.gui.ops.compare import StoreAddress


@pytest.fixture
def connection(demo_workspace):
    from modelgate.gui.ops.registry import RegistryConnection

    opened = RegistryConnection.open(url=f"sqlite:///{demo_workspace / 'registry.db'}", user="ben")
    yield opened
    opened.close()


@pytest.mark.parametrize("a, b", [(("credit-risk", "1.1.0"), ("credit-risk", "1.2.0")),
                                  (("defect-detector", "1.0.0"), ("defect-detector", "1.1.0-rc.1"))])
def test_the_plan_and_the_comparison_survive_the_trip_and_match_a_comparison_made_here(connection, a, b):
    planned = operations.plan(connection, champion=a, challenger=b, stage=None)
    travelled = pickle.loads(pickle.dumps(planned))
    result = operations.run_here(travelled, progress=Progress())
    returned = pickle.loads(pickle.dumps(result))
    here = comparing.compare(connection.registry, a=a, b=b)
    assert returned.as_dict() == here.as_dict()


def test_a_changed_stored_copy_is_still_refused_in_the_worker(demo_registry_copy):
    from modelgate.core.store.errors import StoreDamaged
    from modelgate.gui.ops.registry import RegistryConnection

    copy = RegistryConnection.open(url=demo_registry_copy, user="ben")
    try:
        planned = operations.plan(copy, champion=("credit-risk", "1.1.0"), challenger=("credit-risk", "1.2.0"),
                                  stage=None)
        stored = copy.registry.store.path_of(copy.registry.store.relative(planned.b.digest))
        card = stored / "MODEL_CARD.md"
        card.chmod(0o644)
        card.write_text(card.read_text() + "\nedited after import\n")
        with pytest.raises(StoreDamaged):
            operations.run_here(pickle.loads(pickle.dumps(planned)), progress=Progress())
    finally:
        copy.close()


def test_an_oci_store_address_reopens_the_store_with_the_recorded_places(tmp_path):
    from modelgate.core.store.ocistore import OciBundleStore

    digest = "ab" * 32
    address = StoreAddress(url="oci://registry.example:5000/models", root=tmp_path,
                           places={digest: "oci://registry.example:5000/models/credit-risk@sha256:" + "cd" * 32})
    store = pickle.loads(pickle.dumps(address)).open()
    assert isinstance(store, OciBundleStore) and store.location == "oci://registry.example:5000/models"
    assert store.relative(digest) == address.places[digest]
    assert Path(store.root) == tmp_path
