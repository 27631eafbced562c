"""A promotion in two steps hashes each file of the bundle once, and still trusts nothing stale."""

from __future__ import annotations

import dataclasses
import os

import pytest

from modelgate.core.policy.document import load_policy
from modelgate.core.registry import WorkflowRefused, init_registry, workflow
from modelgate.core.registry.prepared import prepare
from tests.bench.promotion import bundle_files, import_and_promote, metering
from tests.factory import make_bundle


def test_an_import_and_a_promotion_each_read_every_file_of_the_bundle_once(tmp_path):
    bundle = make_bundle(tmp_path / "bundle")
    (tmp_path / "run").mkdir()
    files = bundle_files(bundle)
    for step in import_and_promote(tmp_path / "run", bundle):
        assert dict(step.reads) == {name: 1 for name in files}
        assert step.nbytes == sum(files.values()) and step.ratio == 1.0


@pytest.fixture
def drafted(tmp_path):
    """A registry holding one imported draft, and who may approve and promote it."""
    url, store = f"sqlite:///{tmp_path / 'registry.db'}", tmp_path / "store"
    registry = init_registry(url=url, user="admin", store=store)
    registry.add_user(name="bob", roles=["reviewer", "approver"])
    imported = registry.import_bundle(path=make_bundle(tmp_path / "bundle"))
    from modelgate.core.registry import open_registry

    with open_registry(url=url, user="bob", store=store) as bob:
        workflow.review(bob, name=imported.name, version=imported.version, decision="approve", comment="fine")
    yield registry, imported
    registry.close()


def test_the_prepared_promotion_is_immutable_and_holds_the_digests_it_hashed(drafted):
    registry, imported = drafted
    policy = load_policy(None)
    with metering() as meter:
        prepared = prepare(registry, name=imported.name, version=imported.version, to_stage="candidate",
                           policy=policy)
    check = prepared.checks[imported.digest]
    assert check.intact and {name.rsplit("/", 1)[-1] for name in check.hashed} == set(meter.reads)
    assert set(meter.reads.values()) == {1}  # the validation used these digests; it read nothing again
    assert prepared.fresh is not None and prepared.fresh[0].stage == "candidate"
    with pytest.raises(dataclasses.FrozenInstanceError):
        prepared.fresh = None
    with pytest.raises(TypeError):
        prepared.checks[imported.digest] = check
    with pytest.raises(TypeError):
        check.hashed["LICENSE"] = "0" * 64


def test_a_stored_copy_changed_before_the_promotion_is_refused_without_a_second_hash(drafted):
    registry, imported = drafted
    licence = imported.store_path / "LICENSE"
    os.chmod(licence, 0o644)
    licence.write_text("changed in the store\n", encoding="utf-8")
    with metering() as meter, pytest.raises(WorkflowRefused) as refused:
        workflow.promote(registry, name=imported.name, version=imported.version, to_stage="candidate",
                         policy=load_policy(None))
    assert "changed: LICENSE" in str(refused.value)
    assert set(meter.reads.values()) == {1}  # the prepare step's hash is the one the gate judges


@pytest.mark.slow
def test_a_promotion_to_production_reads_the_version_and_its_champion_once_each(tmp_path, template):
    from tests.factory import policy_file
    from tests.registry_support import APPROVERS, NAME, Team, new_bundle

    policy = load_policy(policy_file(tmp_path, lambda data: data["stages"]["production"].pop("signature")))
    crew = Team(f"sqlite:///{tmp_path / 'registry.db'}", tmp_path / "store")
    try:
        for version in ("1.0.0", "1.1.0"):
            crew("alice").import_bundle(path=new_bundle(tmp_path, template, version=version))
            for stage in ("candidate", "staging", "production"):
                for person in APPROVERS[stage]:
                    workflow.review(crew(person), name=NAME, version=version, decision="approve", comment="fine")
                if (version, stage) == ("1.1.0", "production"):
                    break  # the metered promotion, against 1.0.0 in production
                workflow.promote(crew("carol"), name=NAME, version=version, to_stage=stage, policy=policy)
        with metering() as meter:
            moved = workflow.promote(crew("carol"), name=NAME, version="1.1.0", to_stage="production", policy=policy)
        assert moved.superseded == f"{NAME}@1.0.0"
        # Both bundles hold files of the same names: each name is read twice, once per bundle.
        assert dict(meter.reads) == {name: 2 for name in bundle_files(tmp_path / "bundle-1.1.0")}
    finally:
        crew.close()
