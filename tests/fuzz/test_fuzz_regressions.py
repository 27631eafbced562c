"""Inputs fuzzing found to break a check, each built at test time with the value that broke it.

The saved cases under tests/fuzz/corpus/ replay the inputs as found; these tests name the
class of input and hold every entry point to the contract for all its members.
"""

from __future__ import annotations

import json
import math

import pytest
import yaml

from tests.fuzz import _harness

pytestmark = pytest.mark.slow  # fuzzing runs many generated inputs per test

#: Numbers that are valid YAML/JSON but not usable floats: an integer beyond the float range
#: (far short of the 4300-digit parsing limit), its negative, NaN and the infinities.
UNUSABLE_NUMBERS = [10**400, -(10**400), math.nan, math.inf, -math.inf]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return _harness.template_bundle(tmp_path_factory.mktemp("fuzz-regressions"))


def _assert_answered(verdict: _harness.Verdict) -> None:
    assert verdict.runs and not verdict.problems, "\n".join(verdict.problems)


@pytest.mark.parametrize("field", ["memory_mb", "latency_p95_ms"])
@pytest.mark.parametrize("value", UNUSABLE_NUMBERS, ids=["huge", "-huge", "nan", "inf", "-inf"])
def test_a_target_budget_that_is_no_finite_number_is_judged_not_crashed_on(template, tmp_path, field, value):
    data = yaml.safe_load((template / "bundle.yaml").read_text(encoding="utf-8"))
    data["targets"][0][field] = value
    verdict = _harness.exercise_document("bundle-yaml", yaml.safe_dump(data).encode(), template=template,
                                         workdir=tmp_path)
    _assert_answered(verdict)
    report = json.loads(verdict.runs[0].stdout)
    over_budget = {"memory_mb": "MG308", "latency_p95_ms": "MG309"}[field]
    if value == 10**400:  # as good as no limit: the small model fits it
        assert over_budget not in {f["rule"] for f in report["findings"]}


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS[:2], ids=["huge", "-huge"])
def test_a_benchmark_value_beyond_the_float_range_is_not_a_finite_number(template, tmp_path, value):
    data = json.loads((template / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    data["results"][0]["value"] = value
    verdict = _harness.exercise_document("benchmark", json.dumps(data).encode(), template=template,
                                         workdir=tmp_path)
    _assert_answered(verdict)
    report = json.loads(verdict.runs[0].stdout)
    assert any("not a finite number" in f["message"] for f in report["findings"])


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS, ids=["huge", "-huge", "nan", "inf", "-inf"])
def test_a_regression_limit_that_is_no_finite_number_is_ignored(value):
    from modelgate.core.benchmarks.regression import tolerance_for

    tolerance = tolerance_for({"default": {"max_absolute": value, "max_relative": 0.01}}, "accuracy")
    assert tolerance.max_absolute is None and tolerance.max_relative == 0.01


MISTYPED = [None, 5, 2.5, True, [], ["a"], {}, {"a": 1}]


@pytest.mark.parametrize("where", ["variant", "sha256", "shape"])
def test_inspect_prints_any_mistyped_artifact_or_interface_value(template, tmp_path, capsys, where):
    from modelgate.core.cli.main import main

    root = _harness.fresh_copy(template, tmp_path)
    data = yaml.safe_load((root / "bundle.yaml").read_text(encoding="utf-8"))
    for value in MISTYPED:
        if where == "shape":
            data["interface"]["inputs"][0]["shape"] = value
        else:
            data["artifacts"][0][where] = value
        (root / "bundle.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        assert main(["inspect", str(root)]) in (0, 1), value
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, (value, captured.err)
        assert "Artifacts" in captured.out and "Interface" in captured.out


@pytest.mark.parametrize("tagged", ["!!timestamp 2026-01-01", "!!timestamp 2026-01-01T10:00:00Z",
                                    "!!binary aGVsbG8=", "!!set {a: null}"])
def test_inspect_json_answers_values_of_explicit_yaml_tags(template, tmp_path, capsys, tagged):
    """Explicit tags make dates, bytes and sets, which JSON lacks: inspect --json stays strict JSON
    and leaves out a value whose type the bundle standard does not give it (an MG103 finding)."""
    from modelgate.core.cli.main import main

    root = _harness.fresh_copy(template, tmp_path)
    text = (root / "bundle.yaml").read_text(encoding="utf-8")
    (root / "bundle.yaml").write_text(text + f"lifecycle: {{deprecation: {{after: {tagged}}}}}\n", encoding="utf-8")
    assert main(["inspect", str(root), "--json"]) in (0, 1, 2)
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    if captured.out:
        after = ((_harness.strict_json(captured.out).get("lifecycle") or {}).get("deprecation") or {}).get("after")
        assert after is None or isinstance(after, str)


@pytest.mark.parametrize("written", [".nan", ".inf", "-.inf"])
def test_nan_or_infinity_in_the_manifest_is_refused_with_its_line(template, tmp_path, capsys, written):
    from modelgate.core.cli.main import main

    root = _harness.fresh_copy(template, tmp_path)
    text = (root / "bundle.yaml").read_text(encoding="utf-8").replace("memory_mb: 256", f"memory_mb: {written}")
    (root / "bundle.yaml").write_text(text, encoding="utf-8")
    assert main(["inspect", str(root), "--json"]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "not a finite number" in err and "MG102" in err
