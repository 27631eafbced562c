"""The work queue (`modelgate queue`, the app's "My queue"), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from modelgate.core.policy.document import load_policy
from modelgate.core.registry import workflow
from modelgate.core.registry.queue import work_queue
from modelgate.core.registry.signatures import sign_version, trust_key
from tests.factory import PASSPHRASE, signing_key
from tests.registry_support import NAME, new_bundle

DEFAULT = load_policy()


def queue_of(team, person):
    return [(item.task, item.version, item.to_stage) for item in work_queue(team(person), policy=DEFAULT).items]


def review(team, version, *people, decision="approve"):
    for person in people:
        workflow.review(team(person), name=NAME, version=version, decision=decision, comment="looked at it")


@pytest.mark.slow
def test_each_person_sees_what_the_next_stage_still_needs_from_them(team, tmp_path, template):
    if team.server:
        team.server.create_role("sam", database=team.database)
    team.admin.add_user(name="sam", roles=["signer"])
    key = signing_key(tmp_path / "keys", "sam")
    trust_key(team.admin, name="sam", public_key=key.with_suffix(".pub"))
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        team("alice").import_bundle(path=new_bundle(tmp_path, template, version=version))

    # Drafts wait for a reviewer, oldest first; never for their submitter or an approver.
    assert queue_of(team, "bob") == [("review", v, "candidate") for v in ("1.0.0", "2.0.0", "3.0.0")]
    oldest = work_queue(team("bob"), policy=DEFAULT, limit=2)
    assert [i.version for i in oldest.items] == ["1.0.0", "2.0.0"] and oldest.truncated == {"review"}
    assert work_queue(team("bob"), policy=DEFAULT).complete
    assert queue_of(team, "alice") == queue_of(team, "carol") == queue_of(team, "sam") == []

    review(team, "1.0.0", "bob")
    review(team, "3.0.0", "bob", decision="request-changes")
    assert queue_of(team, "bob") == [("review", "2.0.0", "candidate")]
    # Approved: an approver may promote it; changes requested: nobody is asked to act.
    assert queue_of(team, "carol") == [("promote", "1.0.0", "candidate")]

    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    assert queue_of(team, "carol") == queue_of(team, "dave") == [("approve", "1.0.0", "staging")]
    review(team, "1.0.0", "carol")
    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="staging", policy=DEFAULT)
    review(team, "1.0.0", "carol")
    assert queue_of(team, "carol") == []                      # carol has spoken at staging
    assert queue_of(team, "dave") == [("approve", "1.0.0", "production")]
    assert queue_of(team, "sam") == []                        # not approved yet: nothing to sign

    review(team, "1.0.0", "dave")
    assert queue_of(team, "sam") == [("sign", "1.0.0", "production")]
    assert queue_of(team, "dave") == []                       # approved, but the signature is missing

    sign_version(team("sam"), name=NAME, version="1.0.0", key=key, passphrase=PASSPHRASE, signer="sam")
    assert queue_of(team, "sam") == []
    assert queue_of(team, "dave") == [("promote", "1.0.0", "production")]
    counts = work_queue(team("dave"), policy=DEFAULT).counts
    assert counts == {"review": 0, "approve": 0, "sign": 0, "promote": 1}



def test_a_full_list_of_one_task_never_hides_another(team, tmp_path, template):
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        team("alice").import_bundle(path=new_bundle(tmp_path, template, version=version))
    review(team, "3.0.0", "bob")
    # erin may review and promote: two drafts to review, one approved draft to promote.
    queue = work_queue(team("erin"), policy=DEFAULT, limit=1)
    assert [(i.task, i.version) for i in queue.items] == [("review", "1.0.0"), ("promote", "3.0.0")]
    assert queue.truncated == {"review"} and not queue.complete
    assert queue.counts == {"review": 1, "approve": 0, "sign": 0, "promote": 1}
