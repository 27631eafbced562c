"""Promotion validates a challenger against the model's production version (the champion)."""

from __future__ import annotations

import pytest

from modelgate.core.policy.document import load_policy
from modelgate.core.registry import init_registry, open_registry, workflow
from modelgate.core.registry.errors import WorkflowRefused
from tests.factory import clean_manifest, clean_results, make_bundle, policy_file


def _results(accuracy: float) -> dict:
    data = clean_results()
    data["results"][0]["value"] = accuracy
    return data


@pytest.mark.slow
def test_a_regressed_challenger_is_stopped_at_the_validation_gate(tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    policy = load_policy(policy_file(tmp_path, lambda d: d["stages"]["production"].pop("signature")))
    init_registry(url=url, user="admin").close()
    with open_registry(url=url, user="admin") as admin:
        admin.add_user(name="ana", roles=["submitter"])
        admin.add_user(name="ben", roles=["reviewer", "approver"])
        admin.add_user(name="cleo", roles=["approver"])
    with open_registry(url=url, user="ana") as ana:
        ana.import_bundle(path=make_bundle(tmp_path / "v1", results=_results(0.91)))
        ana.import_bundle(path=make_bundle(tmp_path / "v2", results=_results(0.80),
                                           manifest=clean_manifest(version="1.1.0")))
    stages = (("candidate", 1), ("staging", 1), ("production", 2))
    for stage, count in stages:
        for reviewer in ("ben", "cleo")[:count]:
            with open_registry(url=url, user=reviewer) as registry:
                workflow.review(registry, name="tiny-classifier", version="1.0.0", decision="approve",
                                comment="fine")
        with open_registry(url=url, user="ben") as registry:
            workflow.promote(registry, name="tiny-classifier", version="1.0.0", to_stage=stage, policy=policy)
    with open_registry(url=url, user="ben") as registry:
        champion, folder = registry.champion(name="tiny-classifier", version="1.1.0")
        assert (champion, folder) == ("1.0.0", registry.bundle_path(name="tiny-classifier", version="1.0.0"))
        assert registry.champion(name="tiny-classifier", version="1.0.0") is None  # not its own champion
        assert registry.champion(name="no-such-model", version="1.0.0") is None
        workflow.review(registry, name="tiny-classifier", version="1.1.0", decision="approve", comment="ok")
        with pytest.raises(WorkflowRefused) as refused:
            workflow.promote(registry, name="tiny-classifier", version="1.1.0", to_stage="candidate",
                             policy=policy)
    validation = next(g for g in refused.value.gates if g.name == "validation")
    assert validation.state == "not met"
    assert "MG608" in validation.reason and "production version 1.0.0" in validation.reason
    with open_registry(url=url, user="ben") as registry:
        runs = registry.show(name="tiny-classifier", version="1.1.0").validations
    assert runs and not runs[-1].passed


@pytest.mark.slow
def test_a_stored_bundle_edited_after_import_fails_the_gate_until_repaired(tmp_path):
    import os
    import stat

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    init_registry(url=url, user="admin").close()
    bundle = make_bundle(tmp_path / "v1")
    with open_registry(url=url, user="admin") as admin:
        admin.add_user(name="ben", roles=["reviewer"])
        admin.import_bundle(path=bundle)
        stored = admin.bundle_path(name="tiny-classifier", version="1.0.0")
    with open_registry(url=url, user="ben") as ben:
        workflow.review(ben, name="tiny-classifier", version="1.0.0", decision="approve", comment="ok")
    card = stored / "MODEL_CARD.md"
    os.chmod(stored, 0o755)
    os.chmod(card, stat.S_IWUSR | stat.S_IRUSR)
    card.write_text(card.read_text() + "\nEdited in the store.\n")
    with open_registry(url=url, user="admin") as admin, pytest.raises(WorkflowRefused) as refused:
        workflow.promote(admin, name="tiny-classifier", version="1.0.0", to_stage="candidate",
                         policy=load_policy())
    validation = next(g for g in refused.value.gates if g.name == "validation")
    assert "damaged (changed: MODEL_CARD.md)" in validation.reason and "registry repair" in validation.reason
    from modelgate.core.registry.damage import repair
    from modelgate.core.registry.errors import StoreDamaged

    with open_registry(url=url, user="admin") as admin:
        with pytest.raises(StoreDamaged):
            admin.import_bundle(path=bundle)  # a re-import reports the damage, never repairs quietly
        assert repair(admin, name="tiny-classifier", version="1.0.0", bundle=bundle).repaired
        moved = workflow.promote(admin, name="tiny-classifier", version="1.0.0", to_stage="candidate",
                                 policy=load_policy())
    assert moved.moved
