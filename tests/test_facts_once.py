"""Facts written once: the stages and their order, the settings' names, the policy's keys and the
current-champion query each live in one module, and the rest of core/ and gui/ imports them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from modelgate.core import settings
from modelgate.core.findings import Severity
from modelgate.core.policy import stages
from modelgate.core.policy.document import Policy

pytestmark = pytest.mark.slow  # each test parses every module of the tree

ROOT = Path(__file__).resolve().parents[1]
STAGES_MODULE = ROOT / "core" / "policy" / "stages.py"
POLICY_MODULE = ROOT / "core" / "policy" / "document.py"
SETTINGS_MODULES = (ROOT / "core" / "settings.py", ROOT / "gui" / "app" / "settings.py")
QUERIES_MODULE = ROOT / "core" / "registry" / "queries.py"
#: A query for the production version: a row filter on the stage, or the listing narrowed to it.
CHAMPION_QUERY = re.compile(r'Version\.stage == (PRODUCTION|"production")'
                            r'|list_versions\([^)]*\bstage=(PRODUCTION|"production")')


def _sources():
    for top in ("core", "gui"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, path.read_text(encoding="utf-8")


def _gui_setting_keys() -> set[str]:
    tree = ast.parse(SETTINGS_MODULES[1].read_text(encoding="utf-8"))
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_declare"}


def _string_constants(tree) -> list[ast.Constant]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_no_list_of_stages_is_written_outside_the_stages_module():
    found = []
    for path, text in _sources():
        if path == STAGES_MODULE:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                named = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in stages.STAGES]
                if len(named) >= 2:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {named}")
    assert found == [], "import the stages or a group of them from core/policy/stages.py"


def test_no_setting_is_named_by_a_string_outside_its_declaration():
    names = set(settings.SETTINGS) | _gui_setting_keys()
    assert {"max_manifest_bytes", "trust_store", "theme"} <= names
    found = [f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
             for path, text in _sources() if path not in SETTINGS_MODULES
             for node in _string_constants(ast.parse(text)) if node.value in names]
    assert found == [], "pass the declared setting (settings.NAME), not its name"


def test_the_policy_document_is_read_through_the_policy_object_only():
    found = [f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
             for path, text in _sources() if path != POLICY_MODULE
             for m in re.finditer(r"policy\w*\.data\b", text)]
    assert found == [], "add a typed accessor to Policy in core/policy/document.py"


def test_the_current_champion_is_queried_in_one_place():
    found = [f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
             for path, text in _sources() if path != QUERIES_MODULE
             for m in CHAMPION_QUERY.finditer(text)]
    assert found == [], "use queries.champion_of / production_versions or Registry.champion"


def test_the_stage_groups_follow_the_order():
    assert stages.ON_THE_WAY == ("draft", "candidate", "staging")
    assert [stages.next_stage(s) for s in stages.STAGES] == ["candidate", "staging", "production", None, None, None]
    assert [stages.target_stage(s) for s in (None, *stages.STAGES)] == [
        "candidate", "candidate", "staging", "production", "production", "deprecated", "archived"]
    assert all(set(group) <= set(stages.STAGES) for group in (stages.SERVING, stages.RETIRED))


def _policy(data: dict) -> Policy:
    return Policy(data=data, digest="0" * 64, source="test")


@pytest.mark.parametrize(("licenses", "expected"), [({}, Severity.WARNING), ({"unknown": "error"}, Severity.ERROR),
                                                   ({"unknown": "loud"}, Severity.WARNING)])
def test_the_policy_answers_how_an_unknown_license_is_reported(licenses, expected):
    assert _policy({"licenses": licenses}).unknown_license_severity is expected


def test_the_policy_answers_its_card_sections_and_overridden_rules():
    policy = _policy({"model_card": {"required_sections": ["Intended use", " ", 3], "min_words_per_section": 20},
                      "rules": {"MG101": {"enabled": False}}})
    assert policy.required_sections == ("Intended use",)
    assert policy.min_words_per_section == 20
    assert policy.overridden_rules == frozenset({"MG101"})
    empty = _policy({})
    assert (empty.required_sections, empty.min_words_per_section, empty.overridden_rules) == ((), 0, frozenset())
