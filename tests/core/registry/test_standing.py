"""Where a listed version stands for its next stage: the promotion's own gates, without running
a validation, never the verdict of a run made for another stage."""

from __future__ import annotations

from modelgate.core.policy.document import load_policy
from modelgate.core.registry import workflow
from modelgate.core.registry.gates import NOT_AVAILABLE
from modelgate.core.registry.standing import BLOCKED, READY, UNJUDGED, WAITING, standings
from tests.registry_support import NAME, new_bundle

DEFAULT = load_policy()


def standing(registry, version="1.0.0"):
    return standings(registry, refs=[(NAME, version)], policy=DEFAULT)[(NAME, version)]


def test_the_listing_judges_by_the_promotions_gates(team, tmp_path, template):
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    # Never validated for candidate: said so, not borrowed from elsewhere; nothing is run to answer.
    first = standing(team("bob"))
    assert first.to_stage == "candidate" and first.outcome == UNJUDGED
    assert first.headline == "? candidate: not validated"
    assert dict((g.name, g.state) for g in first.gates)["validation"] == NOT_AVAILABLE
    assert team.admin.show(name=NAME, version="1.0.0").validations == []

    # The promotion's own call validates and records the run; the listing then reads it.
    gates = workflow.gates(team("bob"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    after = standing(team("bob"))
    assert [(g.name, g.state, g.reason) for g in after.gates] == [(g.name, g.state, g.reason) for g in gates]
    assert after.outcome == WAITING and after.headline == "… candidate: needs approvals"
    # The signature is not required for candidate: it says so and does not block.
    assert "signature: not required" in after.reason

    workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment="fine")
    assert standing(team("bob")).outcome == READY
    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)

    # The latest run passed (for candidate); for staging nothing is judged yet.
    listed = team.admin.list_versions(name=NAME)[0]
    assert listed.validation == "passed"
    assert standing(team("bob")).headline == "? staging: not validated"


def test_a_failing_next_stage_is_red_whatever_the_last_run_said(team, tmp_path, template):
    def enough_for_candidate_only(manifest):
        # Candidate asks for the source commit; staging also for the training run, framework, datasets.
        manifest["provenance"] = {"source": manifest["provenance"]["source"]}

    team("alice").import_bundle(path=new_bundle(tmp_path, template, change=enough_for_candidate_only))
    workflow.gates(team("bob"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment="fine")
    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    assert team.admin.list_versions(name=NAME)[0].validation == "passed"
    staging = workflow.gates(team("bob"), name=NAME, version="1.0.0", to_stage="staging", policy=DEFAULT)
    validation = next(g for g in staging if g.name == "validation")
    judged = standing(team("bob"))
    assert validation.blocking and judged.outcome == BLOCKED
    assert judged.headline == "✖ staging: validation fails"
    assert validation.reason in judged.reason


def test_a_version_gone_since_listing_is_left_out(team, tmp_path, template):
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    found = standings(team("bob"), refs=[(NAME, "1.0.0"), (NAME, "9.9.9")], policy=DEFAULT)
    assert list(found) == [(NAME, "1.0.0")]
