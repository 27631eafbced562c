"""Champion/challenger comparison: deltas, directions, limits, pairing."""

from __future__ import annotations

import math

import pytest

from modelgate.core.benchmarks.results import Result
from modelgate.core.benchmarks.regression import (Tolerance, Verdict, compare, compare_values, format_number,
                                       tolerance_for)


def result(metric: str, value: float, *, higher: bool = True, dataset: str = "loans",
           split: str = "test", target: str | None = None, index: int = 0) -> Result:
    return Result("benchmarks/results.json", index, dataset, split, metric, value, target, higher, None)


def test_tolerance_per_metric_overrides_default_key_by_key():
    policy = {"default": {"max_absolute": 0.01, "max_relative": 0.02},
              "metrics": {"accuracy": {"max_absolute": 0.005}}}
    assert tolerance_for(policy, "accuracy") == Tolerance(0.005, 0.02)
    assert tolerance_for(policy, "f1") == Tolerance(0.01, 0.02)
    assert tolerance_for(None, "f1") == Tolerance()
    assert not tolerance_for({"default": {}}, "f1").configured


def test_tolerance_ignores_malformed_entries():
    assert tolerance_for({"default": "lots", "metrics": {"f1": {"max_absolute": True}}}, "f1") == Tolerance()


def test_deltas_are_signed_and_regression_is_a_loss():
    item = compare_values(0.90, 0.88, higher_is_better=True, metric="accuracy")
    assert item.absolute_delta == pytest.approx(-0.02)
    assert item.relative_delta == pytest.approx(-0.02 / 0.90)
    assert item.regression == pytest.approx(0.02)
    assert item.verdict is Verdict.NO_LIMIT
    assert item.direction == "higher is better"


def test_lower_is_better_turns_an_increase_into_a_loss():
    slower = compare_values(4.0, 5.0, higher_is_better=False, tolerance=Tolerance(max_absolute=0.5))
    assert slower.regression == pytest.approx(1.0)
    assert slower.verdict is Verdict.EXCEEDS_LIMIT and slower.exceeded == ("max_absolute",)
    faster = compare_values(4.0, 3.0, higher_is_better=False, tolerance=Tolerance(max_absolute=0.5))
    assert faster.verdict is Verdict.IMPROVED and faster.regression == pytest.approx(-1.0)


def test_any_broken_limit_fails():
    # A loss of 0.006 on 0.50 is within 0.01 absolute but is 1.2 %: the relative limit breaks.
    item = compare_values(0.50, 0.494, higher_is_better=True,
                          tolerance=Tolerance(max_absolute=0.01, max_relative=0.01))
    assert item.verdict is Verdict.EXCEEDS_LIMIT
    assert item.exceeded == ("max_relative",)
    assert item.failed


def test_loss_within_every_limit_passes_despite_float_noise():
    item = compare_values(0.91, 0.90, higher_is_better=True,
                          tolerance=Tolerance(max_absolute=0.01, max_relative=0.02))
    assert item.regression > 0.01  # 0.010000000000000009 in binary floating point
    assert item.verdict is Verdict.WITHIN_LIMITS and not item.failed


def test_unchanged_and_improved():
    assert compare_values(0.9, 0.9, higher_is_better=True).verdict is Verdict.UNCHANGED
    assert compare_values(0.9, 0.95, higher_is_better=True).verdict is Verdict.IMPROVED


def test_zero_champion_has_no_ratio_and_any_loss_breaks_a_relative_limit():
    worse = compare_values(0.0, 0.001, higher_is_better=False, tolerance=Tolerance(max_relative=0.5))
    assert worse.relative_delta is None and worse.relative_regression is None
    assert worse.verdict is Verdict.EXCEEDS_LIMIT
    within = compare_values(0.0, 0.001, higher_is_better=False, tolerance=Tolerance(max_absolute=0.01))
    assert within.verdict is Verdict.WITHIN_LIMITS


def test_negative_champion_value_keeps_the_direction():
    # Log-likelihood: higher is better; -2.0 -> -2.2 is a 10 % loss, not a gain.
    item = compare_values(-2.0, -2.2, higher_is_better=True, tolerance=Tolerance(max_relative=0.05))
    assert item.relative_regression == pytest.approx(0.1)
    assert item.verdict is Verdict.EXCEEDS_LIMIT


def test_compare_pairs_by_key_and_lists_the_unpaired():
    champion = [result("accuracy", 0.91), result("f1", 0.88),
                result("latency_p95_ms", 4.0, higher=False, target="cpu")]
    challenger = [result("accuracy", 0.85), result("latency_p95_ms", 3.0, higher=False, target="cpu"),
                  result("recall", 0.7)]
    outcome = compare(challenger, champion, {"default": {"max_absolute": 0.02}})
    by_metric = {m.metric: m for m in outcome.metrics}
    assert by_metric["accuracy"].verdict is Verdict.EXCEEDS_LIMIT
    assert by_metric["latency_p95_ms"].verdict is Verdict.IMPROVED
    assert [r.metric for r in outcome.champion_only] == ["f1"]
    assert [r.metric for r in outcome.challenger_only] == ["recall"]
    assert not outcome.passed and [m.metric for m in outcome.failures] == ["accuracy"]


def test_compare_keeps_targets_apart_and_uses_first_duplicate():
    champion = [result("latency_ms", 4.0, higher=False, target="cpu"),
                result("latency_ms", 2.0, higher=False, target="gpu")]
    challenger = [result("latency_ms", 4.0, higher=False, target="cpu"),
                  result("latency_ms", 2.0, higher=False, target="gpu"),
                  result("latency_ms", 9.0, higher=False, target="gpu", index=2)]
    outcome = compare(challenger, champion)
    assert {m.target: m.verdict for m in outcome.metrics} == {"cpu": Verdict.UNCHANGED,
                                                            "gpu": Verdict.UNCHANGED}
    assert outcome.passed


def test_direction_conflict_is_not_compared():
    outcome = compare([result("score", 0.5, higher=False)], [result("score", 0.6, higher=True)])
    assert outcome.metrics == () and len(outcome.direction_conflicts) == 1


def test_describe():
    item = compare_values(0.91, 0.89, higher_is_better=True, metric="accuracy", dataset="loans",
                          split="test", tolerance=Tolerance(max_absolute=0.01, max_relative=0.01))
    assert item.label == "accuracy on loans/test"
    assert item.describe_change() == "0.91 -> 0.89 (-0.02, -2.2%)"
    assert item.tolerance.describe() == "at most 0.01 absolute and 1% relative"
    assert Tolerance().describe() == "no limit"
    assert format_number(math.pi) == "3.14159"
