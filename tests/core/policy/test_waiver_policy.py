"""``waivers.forbidden_rules``: which rules no waiver may cover."""

from __future__ import annotations

import pytest

from modelgate.core.errors import PolicyError
from modelgate.core.policy.document import DEFAULT_FORBIDDEN_WAIVERS, load_policy
from tests.factory import policy_file


def test_the_default_policy_forbids_signatures_and_unsafe_serialisation():
    policy = load_policy()
    assert policy.forbidden_waivers == ("MG8*", "MG223", "MG224")
    assert policy.waiver_forbidden("MG801") == "MG8*" and policy.waiver_forbidden("MG224") == "MG224"
    assert policy.waiver_forbidden("MG225") is None and policy.waiver_forbidden("MG402") is None


def test_a_policy_without_the_key_gets_the_default_and_one_may_set_its_own(tmp_path):
    for name in "abc":
        (tmp_path / name).mkdir()
    bare = load_policy(policy_file(tmp_path / "a", lambda d: d.pop("waivers")))
    assert bare.forbidden_waivers == DEFAULT_FORBIDDEN_WAIVERS
    own = load_policy(policy_file(tmp_path / "b", lambda d: d["waivers"].update(forbidden_rules=["MG4*", "MG22*"])))
    assert own.waiver_forbidden("MG402") == "MG4*" and own.waiver_forbidden("MG223") == "MG22*"
    assert own.waiver_forbidden("MG801") is None  # the registry still refuses MG8xx on its own
    none = load_policy(policy_file(tmp_path / "c", lambda d: d["waivers"].update(forbidden_rules=[])))
    assert none.forbidden_waivers == ()


@pytest.mark.parametrize("entry", ["MG8", "mg801", "MG8**", "MG8x*", "*", "MG1234"])
def test_entries_that_are_neither_rule_ids_nor_families_are_refused(tmp_path, entry):
    with pytest.raises(PolicyError, match="not valid"):
        load_policy(policy_file(tmp_path, lambda d: d["waivers"].update(forbidden_rules=[entry])))
