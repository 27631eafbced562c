"""SPDX expressions: parsing, suggestions, and judgement under a policy's lists."""

from __future__ import annotations

import pytest
import yaml

from modelgate.core import resources
from modelgate.core.policy import licensing
from modelgate.core.policy.licensing import AllOf, AnyOf, LicenseSyntaxError, Status, Term


@pytest.fixture(scope="module")
def policy():
    return yaml.safe_load(resources.text("default-policy.yaml"))["licenses"]


def test_parse_normalises_case_and_deprecated_ids():
    expression = licensing.parse("mit or (apache-2.0 and GPL-2.0+)")
    assert expression.normalized == "MIT OR (Apache-2.0 AND GPL-2.0-or-later)"
    assert expression.keys == ("MIT", "Apache-2.0", "GPL-2.0-or-later")
    assert expression.tree == AnyOf((Term("MIT"), AllOf((Term("Apache-2.0"), Term("GPL-2.0-or-later")))))


def test_or_passes_when_one_side_is_allowed(policy):
    verdict = licensing.evaluate(licensing.parse("MIT OR GPL-3.0-only"), policy)
    assert verdict.status is Status.ALLOWED
    assert verdict.chosen == ("MIT",)
    assert verdict.denied == ()


def test_and_fails_when_one_side_is_denied(policy):
    verdict = licensing.evaluate(licensing.parse("MIT AND GPL-3.0-only"), policy)
    assert verdict.status is Status.DENIED
    assert verdict.denied == ("GPL-3.0-only",)


def test_denied_on_every_side_names_every_blocker(policy):
    verdict = licensing.evaluate(licensing.parse("(MIT AND GPL-3.0-only) OR AGPL-3.0-only"), policy)
    assert verdict.status is Status.DENIED
    assert verdict.denied == ("GPL-3.0-only", "AGPL-3.0-only")


def test_with_exception_is_judged_by_its_license(policy):
    expression = licensing.parse("Apache-2.0 WITH LLVM-exception")
    assert expression.terms == (Term("Apache-2.0", "LLVM-exception"),)
    assert expression.keys == ("Apache-2.0",)
    assert licensing.evaluate(expression, policy).status is Status.ALLOWED
    denied = licensing.parse("GPL-2.0-only WITH Classpath-exception-2.0")
    assert licensing.evaluate(denied, policy).status is Status.DENIED


@pytest.mark.parametrize("text", ["garbage ((", "MIT OR", "MIT/Apache-2.0", "", "   ",
                                  "MIT WITH Apache-2.0", "LLVM-exception", "Apache 2", "x" * 3000])
def test_garbage_is_refused_with_a_reason(text):
    with pytest.raises(LicenseSyntaxError) as caught:
        licensing.parse(text)
    assert caught.value.reason


def test_deep_nesting_within_the_length_cap_is_handled():
    assert licensing.parse("(" * 600 + "MIT" + ")" * 600).normalized == "MIT"
    text = "MIT"
    for depth in range(140):
        text = f"(ISC {'AND' if depth % 2 else 'OR'} {text})"
    verdict = licensing.evaluate(licensing.parse(text), {"allow": ["MIT", "ISC"]})
    assert verdict.status is Status.ALLOWED


@pytest.mark.parametrize("text, expected", [
    ("Apache 2", "Apache-2.0"), ("Apache License 2.0", "Apache-2.0"), ("GPLv3", "GPL-3.0-only"),
    ("BSD 3", "BSD-3-Clause"), ("MIT License", "MIT"), ("Apachee-2.0", "Apache-2.0"),
])
def test_unknown_names_get_the_closest_spdx_id(text, expected):
    with pytest.raises(LicenseSyntaxError) as caught:
        licensing.parse(text)
    assert caught.value.suggestion == expected


def test_nothing_close_gives_no_suggestion():
    assert licensing.suggest("qqqqqqqqqqqqqq") is None


def test_licenseref_stays_custom_and_unreviewed(policy):
    # The SPDX index maps LicenseRef-Apache to Apache-2.0; a custom id must not be rewritten.
    expression = licensing.parse("LicenseRef-Apache")
    assert expression.keys == ("LicenseRef-Apache",)
    assert licensing.is_custom("LicenseRef-Apache")
    verdict = licensing.evaluate(expression, policy)
    assert verdict.status is Status.UNKNOWN and verdict.unknown == ("LicenseRef-Apache",)
    assert licensing.parse("DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2").keys == (
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",)


def test_licenseref_listed_by_the_policy_is_allowed():
    licenses = {"allow": ["LicenseRef-Acme-Internal"], "deny": []}
    verdict = licensing.evaluate(licensing.parse("licenseref-acme-internal"), licenses)
    assert verdict.status is Status.ALLOWED


def test_a_bare_licenseref_prefix_is_invalid():
    with pytest.raises(LicenseSyntaxError) as caught:
        licensing.parse("LicenseRef-")
    assert "LicenseRef-" in caught.value.reason
    assert caught.value.suggestion is None


def test_unknown_beats_denied_in_a_choice(policy):
    verdict = licensing.evaluate(licensing.parse("LicenseRef-x OR GPL-3.0-only"), policy)
    assert verdict.status is Status.UNKNOWN
    assert verdict.chosen == ("LicenseRef-x",)


def test_unreviewed_part_of_a_conjunction_is_reported(policy):
    verdict = licensing.evaluate(licensing.parse("MIT AND CC-BY-SA-4.0"), policy)
    assert verdict.status is Status.UNKNOWN
    assert verdict.unknown == ("CC-BY-SA-4.0",)


def test_deny_wins_over_allow():
    both = {"allow": ["MIT"], "deny": ["mit"]}
    assert licensing.classify("MIT", both) is Status.DENIED
    assert licensing.classify("ISC", both) is Status.UNKNOWN
    assert licensing.classify("ISC", {}) is Status.UNKNOWN


def test_unavoidable_terms():
    nc = licensing.is_noncommercial
    assert licensing.unavoidable(licensing.parse("CC-BY-NC-4.0"), nc)
    assert licensing.unavoidable(licensing.parse("MIT AND CC-BY-NC-SA-4.0"), nc)
    assert not licensing.unavoidable(licensing.parse("MIT OR CC-BY-NC-4.0"), nc)
    assert licensing.is_share_alike("CC-BY-SA-4.0") and licensing.is_share_alike("CDLA-Sharing-1.0")
    assert not licensing.is_share_alike("CC-BY-4.0")


def test_equivalence_ignores_case_order_and_grouping():
    same = licensing.equivalent
    assert same(licensing.parse("MIT OR (Apache-2.0 OR ISC)"),
                licensing.parse("isc or mit or apache-2.0"))
    assert same(licensing.parse("MIT"), licensing.parse("mit"))
    assert not same(licensing.parse("MIT OR Apache-2.0"), licensing.parse("MIT AND Apache-2.0"))
    assert not same(licensing.parse("Apache-2.0 WITH LLVM-exception"), licensing.parse("Apache-2.0"))


def test_shipped_spdx_table_is_what_the_installed_index_gives():
    """When license-expression updates its index, regenerate the table:
    python -c "import json; from modelgate.core.policy.licensing import spdx_table_from_index as t;
    open('resources/spdx-ids.json', 'w').write(json.dumps(t(), separators=(',', ':')) + '\\n')"
    """
    import json

    assert json.loads(resources.text(licensing.SPDX_TABLE)) == licensing.spdx_table_from_index()


def test_an_id_missing_from_the_shipped_table_is_found_in_the_index(monkeypatch):
    shipped = {k: v for k, v in licensing._shipped().items() if k != "bsd-3-clause-clear"}
    monkeypatch.setattr(licensing, "_shipped", lambda: shipped)
    assert licensing.parse("bsd-3-clause-clear").keys == ("BSD-3-Clause-Clear",)


@pytest.mark.parametrize("text", ["MIT", " apache-2.0 ", "GPL-2.0+", "gpl-3.0-only", "LicenseRef-Acme-1.0",
                                  "DocumentRef-x:LicenseRef-y", "CC-BY-4.0", "Classpath-exception-2.0",
                                  "AND", "MIT-not-a-license", "LicenseRef-", "licenseref-bad_name"])
def test_a_lone_id_is_judged_exactly_as_the_expression_parser_judges_it(monkeypatch, text):
    def outcome():
        try:
            return licensing.parse(text)
        except LicenseSyntaxError as exc:
            return (exc.reason, exc.suggestion)

    fast = outcome()
    monkeypatch.setattr(licensing, "_SINGLE_ID", __import__("re").compile(r"(?!)"))
    assert outcome() == fast
