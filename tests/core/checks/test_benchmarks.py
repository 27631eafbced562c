"""MG6xx: benchmark files, metric gates and regression against the champion."""

from __future__ import annotations

import json
import shutil

from pathlib import Path

import pytest

from modelgate.core.bundle.lock import lock_bundle
from tests.factory import findings, policy_file, clean_results, edit_manifest, rules_of, validate


@pytest.fixture
def bundle(template, tmp_path):
    """A fresh copy of the clean, locked bundle."""
    def copy(name: str = "b"):
        return shutil.copytree(template, tmp_path / name)
    return copy


def write_results(root, results: dict, name: str = "results.json", *, lock: bool = True) -> None:
    (root / "benchmarks" / name).write_text(json.dumps(results), encoding="utf-8")
    if lock:
        lock_bundle(root)


def stages_policy(tmp_path, change) -> Path:
    """The default policy with ``change(stages)`` applied."""
    return policy_file(tmp_path, lambda data: change(data["stages"]))


def with_accuracy(value: float) -> dict:
    results = clean_results()
    results["results"][0]["value"] = value
    return results


MG6 = {f"MG6{n:02d}" for n in range(1, 12)}


@pytest.mark.parametrize("stage", ["draft", "candidate", "staging", "production"])
def test_clean_bundle_has_no_benchmark_findings(bundle, stage):
    assert not rules_of(validate(bundle(), stage=stage)) & MG6


# MG601 ---------------------------------------------------------------------------------

def test_invalid_results_file(bundle):
    root = bundle()
    write_results(root, {"results": [{"dataset": "loans", "split": "test", "metric": "accuracy"}]})
    report = validate(root, stage="candidate")
    problem = findings(report, "MG601")
    assert problem and problem[0].location.file == "benchmarks/results.json"
    assert problem[0].severity.value == "error"


def test_listed_results_file_missing(bundle):
    root = bundle()
    edit_manifest(root, lambda m: m["benchmarks"].append("benchmarks/extra.json"))
    problem = findings(validate(root, stage="candidate"), "MG601")
    assert [p.location.file for p in problem] == ["benchmarks/extra.json"]


def test_non_finite_value(bundle):
    root = bundle()
    (root / "benchmarks" / "results.json").write_text(
        '{"results": [{"dataset": "d", "split": "s", "metric": "m", "value": NaN}]}', encoding="utf-8")
    lock_bundle(root)
    assert "MG601" in rules_of(validate(root, stage="candidate"), "error")


# MG602 ---------------------------------------------------------------------------------

def test_no_benchmarks_is_a_warning_before_staging(bundle):
    root = bundle()
    edit_manifest(root, lambda m: m.pop("benchmarks"))
    report = validate(root, stage="candidate")
    assert "MG602" in rules_of(report, "warning") and "MG602" not in rules_of(report, "error")


def test_no_benchmarks_is_an_error_from_staging(bundle):
    root = bundle()
    edit_manifest(root, lambda m: m.update(benchmarks=[]))
    for stage in ("staging", "production"):
        [finding] = findings(validate(root, stage=stage), "MG602")
        assert finding.severity.value == "error" and stage in finding.message


def test_unreadable_results_leave_no_evidence(bundle):
    root = bundle()
    (root / "benchmarks" / "results.json").write_text("{not json", encoding="utf-8")
    lock_bundle(root)
    [finding] = findings(validate(root, stage="staging"), "MG602")
    assert "benchmarks/results.json" in finding.message and finding.severity.value == "error"


# MG603 ---------------------------------------------------------------------------------

def test_unlisted_results_file(bundle):
    root = bundle()
    write_results(root, clean_results(), "old.json")
    [finding] = findings(validate(root, stage="candidate"), "MG603")
    assert finding.location.file == "benchmarks/old.json"


def test_non_json_file_under_benchmarks_is_not_a_results_file(bundle):
    root = bundle()
    (root / "benchmarks" / "README.md").write_text("How the numbers were measured.\n", encoding="utf-8")
    lock_bundle(root)
    assert "MG603" not in rules_of(validate(root, stage="candidate"))


# MG604 ---------------------------------------------------------------------------------

def test_duplicate_result(bundle):
    root = bundle()
    results = clean_results()
    results["results"].append(dict(results["results"][0], value=0.5))
    write_results(root, results)
    [finding] = findings(validate(root, stage="candidate"), "MG604")
    assert finding.location.path == "results[3]" and "accuracy on loans/test" in finding.message


# MG605, MG606 --------------------------------------------------------------------------

def gates(*items):
    def change(stages):
        stages["staging"]["metrics"] = list(items)
    return change


def test_metric_below_floor(bundle, tmp_path):
    root = bundle()
    write_results(root, with_accuracy(0.78))
    policy = stages_policy(tmp_path, gates({"metric": "accuracy", "dataset": "loans", "min": 0.80}))
    [finding] = findings(validate(root, stage="staging", policy=policy), "MG605")
    assert finding.message == "accuracy on loans/test is 0.78; the staging floor is 0.8"
    assert finding.location.path == "results[0].value" and finding.severity.value == "error"


def test_metric_above_ceiling(bundle, tmp_path):
    policy = stages_policy(tmp_path, gates({"metric": "latency_p95_ms", "max": 4.0}))
    [finding] = findings(validate(bundle(), stage="staging", policy=policy), "MG605")
    assert "latency_p95_ms on loans/test (cpu-default) is 4.2" in finding.message
    assert "ceiling is 4" in finding.message


def test_metric_within_gates(bundle, tmp_path):
    policy = stages_policy(tmp_path, gates({"metric": "accuracy", "split": "test", "min": 0.9, "max": 1},
                                         {"metric": "latency_p95_ms", "max": 50}))
    assert not rules_of(validate(bundle(), stage="staging", policy=policy)) & {"MG605", "MG606"}


def test_gate_applies_only_to_its_stage(bundle, tmp_path):
    root = bundle()
    write_results(root, with_accuracy(0.5))
    policy = stages_policy(tmp_path, gates({"metric": "accuracy", "min": 0.8}))
    assert "MG605" not in rules_of(validate(root, stage="candidate", policy=policy))


def test_gate_without_matching_result(bundle, tmp_path):
    policy = stages_policy(tmp_path, gates({"metric": "accuracy", "dataset": "holdout", "min": 0.8},
                                         {"metric": "auc", "min": 0.7}))
    messages = sorted(f.message for f in findings(validate(bundle(), stage="staging", policy=policy), "MG606"))
    assert messages == ["no result for accuracy on holdout; the staging gate needs one",
                        "no result for auc; the staging gate needs one"]


# MG607-MG611: champion ----------------------------------------------------------------

def champion_pair(bundle, *, champion_accuracy=0.91, challenger_accuracy=0.91, champion_version="1.0.0"):
    champion, challenger = bundle("champion"), bundle("challenger")
    edit_manifest(champion, lambda m: m.update(version=champion_version))
    edit_manifest(challenger, lambda m: m.update(version="1.1.0"))
    write_results(champion, with_accuracy(champion_accuracy))
    write_results(challenger, with_accuracy(challenger_accuracy))
    return champion, challenger


def test_regression_beyond_limit_is_an_error(bundle):
    champion, challenger = champion_pair(bundle, champion_accuracy=0.91, challenger_accuracy=0.85)
    report = validate(challenger, stage="production", champion=champion)
    [finding] = findings(report, "MG608")
    assert finding.severity.value == "error"
    assert "accuracy on loans/test: 0.91 -> 0.85" in finding.message
    assert "tiny-classifier@1.0.0" in finding.message and "at most 0.01 absolute" in finding.message


def test_regression_within_limits_is_information(bundle):
    champion, challenger = champion_pair(bundle, champion_accuracy=0.91, challenger_accuracy=0.90)
    report = validate(challenger, stage="staging", champion=champion)
    assert "MG608" not in rules_of(report)
    infos = {f.message.split(":")[0]: f.message for f in findings(report, "MG609")}
    assert set(infos) == {"accuracy on loans/test", "f1 on loans/test",
                          "latency_p95_ms on loans/test (cpu-default)"}
    assert "worse, within at most 0.02 absolute and 2% relative" in infos["accuracy on loans/test"]
    assert infos["f1 on loans/test"].endswith("unchanged")


def test_improvement_is_information(bundle):
    champion, challenger = champion_pair(bundle, champion_accuracy=0.85, challenger_accuracy=0.91)
    report = validate(challenger, stage="production", champion=champion)
    assert any(f.message.endswith("improved") for f in findings(report, "MG609"))
    assert not rules_of(report) & {"MG607", "MG608", "MG610", "MG611"}


def test_per_metric_limit_overrides_default(bundle, tmp_path):
    champion, challenger = champion_pair(bundle, champion_accuracy=0.91, challenger_accuracy=0.85)
    policy = stages_policy(tmp_path, lambda s: s["production"]["regression"].update(
        metrics={"accuracy": {"max_absolute": 0.1, "max_relative": 0.1}}))
    report = validate(challenger, stage="production", champion=champion, policy=policy)
    assert "MG608" not in rules_of(report) and "MG609" in rules_of(report)


def test_lower_is_better_regression(bundle):
    champion, challenger = champion_pair(bundle)
    slower = clean_results()
    slower["results"][2]["value"] = 9.0
    write_results(challenger, slower)
    [finding] = findings(validate(challenger, stage="production", champion=champion), "MG608")
    assert "latency_p95_ms" in finding.message and "lower is better" in finding.message


def test_regression_without_limits_is_a_warning(bundle, tmp_path):
    champion, challenger = champion_pair(bundle, champion_accuracy=0.91, challenger_accuracy=0.5)
    report = validate(challenger, stage="draft", champion=champion)
    [finding] = findings(report, "MG608")
    assert finding.severity.value == "warning" and "sets no regression limit" in finding.message


def test_champion_metric_missing_from_challenger(bundle):
    champion, challenger = champion_pair(bundle)
    results = clean_results()
    del results["results"][1]
    write_results(challenger, results)
    [finding] = findings(validate(challenger, stage="production", champion=champion), "MG610")
    assert finding.message.startswith("cannot compare f1 on loans/test")
    assert finding.severity.value == "warning"


def test_direction_conflict_cannot_be_compared(bundle):
    champion, challenger = champion_pair(bundle)
    results = clean_results()
    results["results"][1]["higher_is_better"] = False
    write_results(challenger, results)
    [finding] = findings(validate(challenger, stage="production", champion=champion), "MG610")
    assert "higher_is_better" in finding.message


def test_champion_without_results(bundle):
    champion, challenger = champion_pair(bundle)
    edit_manifest(champion, lambda m: m.pop("benchmarks"))
    [finding] = findings(validate(challenger, stage="production", champion=champion), "MG610")
    assert "no benchmark results" in finding.message


def test_unreadable_champion_is_an_error(bundle):
    champion, challenger = champion_pair(bundle)
    (champion / "bundle.yaml").write_text("name: [unclosed", encoding="utf-8")
    report = validate(challenger, stage="production", champion=champion)
    [finding] = findings(report, "MG607")
    assert finding.severity.value == "error" and "cannot compare" in finding.message


def test_champion_of_another_model(bundle):
    champion, challenger = champion_pair(bundle)
    edit_manifest(champion, lambda m: m.update(name="other-model"))
    [finding] = findings(validate(challenger, stage="production", champion=champion), "MG611")
    assert "other-model@1.0.0" in finding.message


def test_champion_is_the_same_version(bundle):
    champion, challenger = champion_pair(bundle, champion_version="1.1.0")
    [finding] = findings(validate(challenger, stage="production", champion=champion), "MG611")
    assert "this very version" in finding.message
