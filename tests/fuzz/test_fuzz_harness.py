"""The fuzzing harness's judge itself: each broken promise is caught, the known classes are told apart."""

from __future__ import annotations

import json

import pytest

from tests.fuzz import _harness


def _run(*, code=0, stdout="", stderr="", seconds=0.1, argv=("validate", "b", "--format", "json")):
    return _harness.Run(tuple(argv), code, stdout, stderr, seconds)


def _report(*rules: str) -> str:
    return json.dumps({"findings": [{"rule": rule, "message": f"{rule} says so"} for rule in rules]})


@pytest.mark.parametrize("run, expected", [
    (_run(code=3, stdout=_report()), "exit code 3"),
    (_run(code=2, stderr="modelgate: internal error: KeyError: 'x'"), "internal error"),
    (_run(code=2, stderr="Traceback (most recent call last):\n  boom"), "traceback"),
    (_run(stdout=_report(), seconds=_harness.DEADLINE_S + 1), "slow"),
    (_run(code=1, stdout=_report("MG101", "MG100")), "MG100"),
    (_run(code=1, stdout='{"findings": [], "score": NaN}'), "not parse"),
    (_run(code=0, stdout='{"x": Infinity}', argv=("inspect", "b", "--json")), "not JSON"),
])
def test_each_broken_promise_is_a_problem(run, expected):
    verdict = _harness.Verdict()
    _harness.judge_run(run, verdict)
    assert any(expected in problem for problem in verdict.problems), verdict.problems


def test_a_clean_answer_is_no_problem():
    verdict = _harness.Verdict()
    _harness.judge_run(_run(code=1, stdout=_report("MG101")), verdict)
    _harness.judge_run(_run(code=2, stderr="modelgate: bundle.yaml is missing"), verdict)
    assert verdict.problems == []


def test_no_failure_class_is_tolerated_any_more():
    # The reader and typing classes once tolerated are fixed: each of their failures fails a run.
    recursion = "validate: modelgate: internal error: RecursionError: maximum recursion depth exceeded"
    crash = "MG100 from validate: targets.memory_budget failed: ValueError: cannot convert float NaN to integer"
    verdict = _harness.Verdict(problems=[recursion, crash])
    assert _harness.KNOWN_CLASSES == {}
    assert verdict.known() == {}
    assert verdict.unknown() == [recursion, crash]
    assert _harness.known_class("slow: validate took 99 s") is None
