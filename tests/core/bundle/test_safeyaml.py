"""The YAML loader's limits hold with libyaml and with the pure-Python parser alike."""

from __future__ import annotations

import pytest

from modelgate.core.bundle import safeyaml
LAUGHS = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))


@pytest.fixture(params=["libyaml", "python"])
def parser(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(safeyaml, "_EventParser", safeyaml._PyParser)
        monkeypatch.setattr(safeyaml, "_DocumentLoader", safeyaml._PyLoader)
    else:
        assert safeyaml.CParser is not None, "PyYAML was installed without libyaml"
    return request.param


def problem(text: str) -> safeyaml.YamlProblem:
    with pytest.raises(safeyaml.YamlProblem) as caught:
        safeyaml.load(text)
    return caught.value


def test_a_billion_laughs_is_refused_by_its_expanded_size(parser):
    assert "expands to more than" in problem(LAUGHS).message


def test_a_few_aliases_of_small_anchors_are_fine(parser):
    data = safeyaml.load("base: &b {x: 1, y: [1, 2]}\nother: *b\n")
    assert data["other"] == {"x": 1, "y": [1, 2]}


def test_too_many_aliases_are_refused(parser, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_YAML_ALIASES", "2")
    assert "aliases" in problem("a: &a 1\nb: [*a, *a, *a]\n").message


@pytest.mark.slow
def test_deep_nesting_is_refused_without_recursion(parser):
    found = problem("[" * 100_000 + "]" * 100_000)
    assert isinstance(found, safeyaml.YamlTooDeep) and found.line == 1


def test_duplicate_keys_name_their_line(parser):
    found = problem("name: a\nversion: 1.0.0\nname: b\n")
    assert "duplicate key 'name'" in found.message and found.line == 3


def test_dates_and_version_numbers_stay_as_written(parser):
    data = safeyaml.load("after: 2026-01-31\nversion: '1.10'\nplain: 1.10\n")
    assert data["after"] == "2026-01-31" and data["version"] == "1.10"
    assert data["plain"] == 1.1  # unquoted: a float, which the schema then refuses


def test_syntax_errors_carry_a_line(parser):
    assert problem("a: [1, 2\n").line == 2


def test_no_python_objects_are_built(parser):
    assert "not valid YAML" in problem("!!python/object/apply:os.system ['true']\n").message
