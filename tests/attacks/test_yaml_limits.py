"""The YAML loader's limits and refusals, with libyaml and with the pure-Python parser alike."""

from __future__ import annotations

import pytest

from modelgate.core.bundle import safeyaml
@pytest.fixture(params=["libyaml", "python"])
def parser(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(safeyaml, "_EventParser", safeyaml._PyParser)
        monkeypatch.setattr(safeyaml, "_DocumentLoader", safeyaml._PyLoader)
    return request.param


def refused(text: str) -> safeyaml.YamlProblem:
    with pytest.raises(safeyaml.YamlProblem) as caught:
        safeyaml.load(text)
    return caught.value


@pytest.mark.parametrize("text", ["a: 1\nseed: &r [*r]\n", "a: 1\nm: &m {k: *m}\n",
                                  "a: 1\nx: &o [1, [2, {y: *o}]]\n"])
def test_an_alias_inside_its_own_anchor_is_refused(parser, text):
    found = refused(text)
    assert isinstance(found, safeyaml.YamlCyclic) and found.line == 2


def test_an_alias_to_a_closed_anchor_is_fine(parser):
    assert safeyaml.load("a: &x [1]\nb: [*x, *x]\n") == {"a": [1], "b": [[1], [1]]}


@pytest.mark.parametrize("value", ["9" * 1001, "-" + "9" * 1001, "0x" + "f" * 1001, "1." + "0" * 1001,
                                   "0b" + "1" * 1001, "0" + "7" * 1001])
def test_numbers_beyond_the_digit_limit_are_refused(parser, value):
    found = refused(f"a: 1\nb: {value}\n")
    assert isinstance(found, safeyaml.YamlTooLarge) and found.line == 2


def test_a_long_number_in_quotes_is_text(parser):
    assert safeyaml.load(f'a: "{"9" * 5000}"\n') == {"a": "9" * 5000}


@pytest.mark.parametrize("value", ["0x_", "0b_", "-0x_", "+0b_", "0x__"])
def test_numbers_yaml_11_cannot_read_are_refused_with_quote_advice(parser, value):
    found = refused(f"a: 1\nb: {value}\n")
    assert found.line == 2 and "quote it" in found.message


def test_string_length_is_bounded(parser, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_STRING_CHARS", "8")
    assert safeyaml.load("a: 12345678\n") == {"a": 12345678}
    found = refused("a: 1\nb: 123456789x\n")
    assert isinstance(found, safeyaml.YamlTooLarge) and found.line == 2
    assert isinstance(refused("a: 1\n123456789x: 1\n"), safeyaml.YamlTooLarge)


def test_nesting_depth_is_a_setting(parser, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_NESTING_DEPTH", "3")
    assert safeyaml.load("a: {b: {c: 1}}\n")
    assert isinstance(refused("a: {b: {c: [1]}}\n"), safeyaml.YamlTooDeep)
    assert isinstance(refused("a:\n  b:\n    c:\n      - 1\n"), safeyaml.YamlTooDeep)


def test_document_size_is_bounded(parser, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_MANIFEST_BYTES", "100")
    assert safeyaml.load("a: " + "x" * 90 + "\n")
    assert isinstance(refused("a: " + "x" * 100 + "\n"), safeyaml.YamlTooLarge)


def test_values_know_their_lines(parser):
    document = safeyaml.load_document("a: 1\nb:\n  - x\n  - {c: 'q', d: no}\n")
    assert document.line(["a"]) == 1
    assert document.line(["b", 1, "c"]) == 4
    assert document.sources[("b", 1, "d")].plain == "no"
    assert document.sources[("b", 1, "c")].plain is None  # quoted text is not a typing trap
    assert document.line(["b", 7, "zz"]) == 2  # a missing path falls back to the key enclosing it


def test_an_empty_document_has_no_data(parser):
    assert safeyaml.load_document("# only a comment\n").data is None


@pytest.mark.parametrize("value", [".inf", "-.inf", ".NaN", "1.0e+400", "-1.5e+999"])
def test_numbers_without_a_json_form_are_refused(parser, value):
    found = refused(f"a: 1\nb: {value}\n")
    assert found.line == 2 and "finite" in found.message


def test_inspect_json_stays_json_when_a_manifest_holds_infinity(tmp_path, capsys, monkeypatch):
    from tests.attacks._input_types_support import bundle_with_text, run

    root = bundle_with_text(tmp_path / "b", replace=("  memory_mb: 256", "  memory_mb: .inf"))
    code, out, err = run(["inspect", str(root), "--json"], capsys, monkeypatch)
    assert code == 2 and "MG102" in err and "finite" in err and out == ""
