"""Benchmark results (and any JSON a bundle carries) go through one strict reader.

Each defence here has a test that fails without it: duplicate keys, NaN,
numbers beyond the digit limit, strings beyond the length limit, nesting beyond
the depth limit, negative physical quantities; and a report's size that grows
with the number of distinct problems, not with the size of the input.
"""

from __future__ import annotations

import json

import pytest

from modelgate.core.bundle import strictjson
from modelgate.core.benchmarks.results import has_physical_floor
from modelgate.core.findings import Finding, Location, Severity, group_repeats
from modelgate.core.bundle.lock import lock_bundle
from tests.attacks._input_types_support import entry, results_text, run
from tests.factory import findings, make_bundle, validate


def problem(text: str) -> strictjson.JsonProblem:
    with pytest.raises(strictjson.JsonProblem) as caught:
        strictjson.loads(text)
    return caught.value


def test_a_duplicate_key_is_refused_at_its_line():
    found = problem('{"results": [\n {"value": 1,\n  "metric": "a",\n  "value": 2}\n]}')
    assert "duplicate key 'value'" in found.message and found.line == 4


def test_a_duplicate_key_in_a_nested_object_names_its_own_line():
    found = problem('{"a": {"x": 1},\n "b": {"y": 1,\n\n "y": 2}}')
    assert found.line == 4


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_numbers_are_refused(constant):
    found = problem('{"v":\n' + constant + "}")
    assert constant in found.message and found.line == 2


@pytest.mark.parametrize("written", ["9" * 1001, "-" + "1" * 1001, "1." + "5" * 1001, "1e" + "9" * 1001])
def test_numbers_beyond_the_digit_limit_are_refused(written):
    found = problem('[1,\n 2,\n ' + written + "]")
    assert "digits" in found.message and found.line == 3


def test_the_digit_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_NUMBER_DIGITS", "5")
    assert strictjson.loads("[12345]") == [12345]
    assert "5 digits" in problem("[123456]").message


def test_strings_beyond_the_length_limit_are_refused(monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_STRING_CHARS", "10")
    assert strictjson.loads('["0123456789"]') == ["0123456789"]
    found = problem('[1,\n "01234567890"]')
    assert "longer than 10" in found.message and found.line == 2
    found = problem('{"a": 1,\n\n "01234567890": 1}')
    assert "key longer than 10" in found.message and found.line == 3


@pytest.mark.parametrize("depth", [65, 100_000])
def test_nesting_beyond_the_depth_limit_is_refused(depth):
    found = problem("\n" + "[" * depth + "]" * depth)
    assert "deeper than 64" in found.message and found.line == 2


def test_nesting_within_the_limit_is_read():
    assert strictjson.loads("[" * 64 + "]" * 64) is not None


def test_bytes_that_are_not_utf8_name_their_line():
    with pytest.raises(strictjson.JsonProblem) as caught:
        strictjson.load_bytes(b'{"a":\n"\xff"}', what="r.json")
    assert caught.value.line == 2 and "not UTF-8" in caught.value.message


def test_valid_json_reads_as_json_does():
    text = json.dumps({"results": [{"a": [1, 2.5, None, True, "x"], "b": {"c": -3e-5}}]})
    assert strictjson.loads(text) == json.loads(text)


@pytest.mark.parametrize("metric,unit,floor", [
    ("latency_p95_ms", None, True), ("peak_memory", None, True), ("load_s", None, True),
    ("model_mb", None, True), ("throughput", "items/s", True), ("x", "ms", True),
    ("accuracy", None, False), ("log_likelihood", None, False), ("delta_f1", None, False),
    ("mse", None, False)])
def test_which_metrics_have_a_physical_floor(metric, unit, floor):
    assert has_physical_floor(metric, unit) is floor


def _bundle(tmp_path, rows: list[str]):
    root = make_bundle(tmp_path / "b", lock=False)
    (root / "benchmarks" / "results.json").write_text(results_text(rows), encoding="utf-8")
    lock_bundle(root)
    return root


def test_a_negative_latency_is_a_finding(tmp_path):
    root = _bundle(tmp_path, [entry("0.9"), entry("-4.2", metric="latency_p95_ms")])
    found = findings(validate(root, stage="draft"), "MG601")
    assert [f.location.path for f in found] == ["results[1].value"]
    assert "cannot be negative" in found[0].message


def test_a_negative_score_of_another_kind_is_not(tmp_path):
    root = _bundle(tmp_path, [entry("-0.3", metric="log_likelihood")])
    assert not findings(validate(root, stage="draft"), "MG601")


def test_duplicate_keys_in_results_are_mg601_with_the_line(tmp_path, capsys, monkeypatch):
    root = _bundle(tmp_path, [entry("0.9", extra=',\n "value": 0.1')])
    code, out, _ = run(["validate", str(root), "--stage", "draft"], capsys, monkeypatch)
    assert code == 1 and "MG601" in out and "duplicate key 'value'" in out
    assert "results.json:2" in out


# ------------------------------------------------------------------------------ grouping

def _report_of(tmp_path, count: int, capsys, monkeypatch) -> tuple[int, str]:
    rows = [entry("0.9", extra=f', "note{i % 3}": 1') for i in range(count)]
    root = _bundle(tmp_path / str(count), rows)
    return run(["validate", str(root), "--stage", "draft"], capsys, monkeypatch)[:2]


def test_repeated_findings_are_counted_after_twenty(tmp_path, capsys, monkeypatch):
    code, out = _report_of(tmp_path, 1000, capsys, monkeypatch)
    assert code == 1
    assert out.count("MG601 error") == 21
    assert "… and 980 more like this" in " ".join(out.split())


@pytest.mark.slow
def test_report_size_does_not_grow_with_the_input(tmp_path, capsys, monkeypatch):
    _, small = _report_of(tmp_path, 200, capsys, monkeypatch)
    _, large = _report_of(tmp_path, 5000, capsys, monkeypatch)
    assert len(large) < len(small) * 1.1


def test_json_report_counts_as_well(tmp_path, capsys, monkeypatch):
    rows = [entry("0.9", extra=', "x": 1') for _ in range(100)]
    root = _bundle(tmp_path, rows)
    code, out, _ = run(["validate", str(root), "--stage", "draft", "--format", "json"], capsys, monkeypatch)
    data = json.loads(out)
    mg601 = [f for f in data["findings"] if f["rule"] == "MG601"]
    assert len(mg601) == 21 and sum("… and 80 more like this" in f["message"] for f in mg601) == 1
    from jsonschema import Draft202012Validator

    from modelgate.core import resources
    schema = json.loads(resources.text("report.schema.json"))
    assert not list(Draft202012Validator(schema).iter_errors(data))


def test_a_counting_finding_says_how_many_in_json():
    items = [_finding("MG103", "bundle.yaml", i) for i in range(30)]
    counted = group_repeats(items, keep=20)[-1]
    assert counted.as_dict()["count"] == 10 and "count" not in items[0].as_dict()


def _finding(rule: str, file: str, n: int) -> Finding:
    return Finding(rule, Severity.ERROR, f"problem {n}", Location(file=file))


def test_group_repeats_keeps_order_and_other_groups():
    items = [_finding("MG601", "a.json", i) for i in range(5)] + [_finding("MG602", "a.json", 9)] \
        + [_finding("MG601", "b.json", i) for i in range(2)]
    grouped = group_repeats(items, keep=2)
    assert [f.message for f in grouped] == [
        "problem 0", "problem 1", "… and 3 more like this (the first: problem 2)", "problem 9",
        "problem 0", "problem 1"]
    assert group_repeats(items, keep=5) == items


def test_the_limit_is_a_setting(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_FINDINGS_PER_RULE", "3")
    code, out = _report_of(tmp_path, 50, capsys, monkeypatch)
    assert out.count("MG601 error") == 4 and "47 more" in " ".join(out.split())


@pytest.mark.parametrize("document", [
    b'{"verificationMaterial": {"publicKey": {"hint": "a"}}, "verificationMaterial": {}}',
    b'{"verificationMaterial": 5}', b"[1, 2]", b'{"a": ' + b"9" * 5000 + b"}", b"\xff\xfe",
    b"[" * 100_000 + b"]" * 100_000])
def test_signature_documents_go_through_the_strict_reader(document, tmp_path):
    from modelgate.core.signing.verify import check_signature
    from modelgate.core.signing.trust import TrustStore

    result = check_signature(name="signatures/x.sig", document=document, root=tmp_path, manifest=None,
                             trust=TrustStore((), "no keys"))
    assert not result.valid


def test_a_json_report_with_a_counting_finding_follows_the_report_schema(tmp_path, capsys, monkeypatch):
    from jsonschema import Draft202012Validator

    from modelgate.core import resources
    from tests.attacks._input_types_support import bundle_with_text

    root = bundle_with_text(tmp_path / "b", replace=("tags:\n- tabular\n- test\n", "tags: [" + ", ".join(
        str(n) for n in range(30)) + "]\n"))
    code, out, _ = run(["validate", str(root), "--stage", "draft", "--format", "json"], capsys, monkeypatch)
    data = json.loads(out)
    tags = [f for f in data["findings"] if (f["location"]["path"] or "").startswith("tags")]
    assert len(tags) == 21 and [f.get("count") for f in tags].count(10) == 1
    schema = json.loads(resources.text("report.schema.json"))
    assert not list(Draft202012Validator(schema).iter_errors(data))


def test_a_wrong_type_in_results_names_field_line_and_type(tmp_path):
    text = ('{"results": [\n' + entry("0.9") + ",\n"
            + '{"dataset": "loans", "split": "test",\n "metric": "f1",\n "value": "high"}\n]}')
    root = make_bundle(tmp_path / "b", lock=False)
    (root / "benchmarks" / "results.json").write_text(text, encoding="utf-8")
    lock_bundle(root)
    found = findings(validate(root, stage="draft"), "MG601")
    assert [(f.location.path, f.location.line) for f in found] == [("results[1].value", 5)]
    assert "must be a number" in found[0].message


def test_value_lines_are_read_only_when_asked():
    lines = strictjson.ValueLines('{"a": [\n1,\n{"b": 2}]}')
    assert lines._starts is None
    assert lines.line(["a", 1, "b"]) == 3 and lines.line(["a", 0]) == 2 and lines.line(["zz"]) == 1


def _random_value(rng, depth: int = 0):
    kinds = ["int", "float", "str", "bool", "null"] + (["list", "dict"] if depth < 6 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-10**18, 10**18)
    if kind == "float":
        return rng.uniform(-1e6, 1e6)
    if kind == "str":
        return "".join(rng.choice("aé\"\\\n\t ✓\u2028x") for _ in range(rng.randint(0, 12)))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {f"k{i}{_random_value(rng, 9) if rng.random() < 0.2 else ''}": _random_value(rng, depth + 1)
            for i in range(rng.randint(0, 5))}


def test_the_strict_reader_reads_what_json_writes():
    import random

    rng = random.Random(20261207)
    for _ in range(300):
        value = _random_value(rng)
        for indent in (None, 1):
            text = json.dumps(value, indent=indent, ensure_ascii=rng.random() < 0.5)
            assert strictjson.loads(text) == json.loads(text)
            lines = strictjson.ValueLines(text)
            assert lines.line([]) == 1
