"""Models that ask for gigabytes or for ever are stopped in the bounded model process: the
finding names the limit and the stage reached, and the parent's memory stays flat."""

from __future__ import annotations

import resource
import sys
import time

import pytest

from modelgate.core.formats import sandbox
from modelgate.core.errors import OperationCancelled
from modelgate.core.progress import Progress
from tests.attacks._bombs import (MODEL_BOMBS, MODELGATE, constant_folding_bomb, endless_loop, measure,
                                  runtime_shape_bomb)
from tests.factory import make_bundle, rules_of, tiny_model, validate

#: Slow: each bomb runs in a child process until its memory cap or deadline stops it.
pytestmark = pytest.mark.slow

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
MIB = 1024**2


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def stopped(report):
    found = [f for f in report.findings if f.rule == "MG216"]
    assert len(found) == 1, [(f.rule, f.message) for f in report.findings]
    return found[0].message


@linux_only
@pytest.mark.parametrize("build, stage", [(constant_folding_bomb, "session creation|inference"),
                                          (runtime_shape_bomb, "inference")],
                         ids=["constant-folding", "run-time-shape"])
def test_memory_bombs_are_stopped_and_the_parent_stays_flat(tmp_path, monkeypatch, build, stage):
    import re

    monkeypatch.setenv("MODELGATE_MODEL_MEMORY_MB", "128")
    root = make_bundle(tmp_path / "b", model=build)  # asks for 2 GiB
    before = peak_rss()
    report = validate(root, stage="staging")
    message = stopped(report)
    assert "128 MiB memory limit" in message and re.search(f"during ({stage})", message)
    assert peak_rss() - before < 256 * MIB  # the 2 GiB never lived in this process
    assert report.verdict.startswith("FAILED")


def test_an_endless_loop_is_stopped_at_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELGATE_SMOKE_TIMEOUT_S", "3")
    root = make_bundle(tmp_path / "b", model=endless_loop)  # a 2^62 trip count
    started = time.monotonic()
    report = validate(root, stage="staging")
    assert time.monotonic() - started < 30
    message = stopped(report)
    assert "3 s time limit" in message and "during inference" in message


def test_an_honest_model_still_runs_and_the_process_is_reused(tmp_path):
    first = validate(make_bundle(tmp_path / "a", model=tiny_model), stage="staging")
    assert not {r for r in rules_of(first) if r.startswith("MG2")}
    child = sandbox._child
    assert child is not None and child.alive()
    second = validate(make_bundle(tmp_path / "b", model=tiny_model), stage="staging")
    assert not {r for r in rules_of(second) if r.startswith("MG2")}
    if sys.platform.startswith("linux"):
        assert sandbox._child is child  # one interpreter for many bundles


def test_after_a_breach_the_next_model_gets_a_fresh_process(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELGATE_SMOKE_TIMEOUT_S", "3")
    stopped(validate(make_bundle(tmp_path / "loop", model=endless_loop), stage="staging"))
    monkeypatch.setenv("MODELGATE_SMOKE_TIMEOUT_S", "60")
    report = validate(make_bundle(tmp_path / "ok", model=tiny_model), stage="staging")
    assert not {r for r in rules_of(report) if r.startswith("MG2")}


def test_cancelling_kills_the_model_process(tmp_path):
    import threading

    path = tmp_path / "loop.onnx"
    endless_loop(path)
    progress = Progress()
    threading.Timer(1.0, progress.cancel).start()
    limits = sandbox.Limits(memory_bytes=256 * MIB, deadline_s=120)
    started = time.monotonic()
    with pytest.raises(OperationCancelled):
        sandbox.run("smoke", str(path), [{"name": "features", "dtype": "float32", "shape": ["batch", 4]}],
                    {"features": ["tensor_type", "float32", ["batch", 4]]}, limits=limits, progress=progress)
    assert time.monotonic() - started < 20
    assert sandbox._child is None  # killed, not left spinning


def test_limits_grow_with_the_model_and_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("MODELGATE_MODEL_MEMORY_MB", "100")
    monkeypatch.setenv("MODELGATE_MODEL_MEMORY_PER_MODEL_BYTE", "3")
    monkeypatch.setenv("MODELGATE_SMOKE_TIMEOUT_S", "5")
    monkeypatch.setenv("MODELGATE_SMOKE_TIMEOUT_PER_GIB_S", "10")
    limits = sandbox.Limits.for_model(model_bytes=2 * 1024**3)
    assert limits.memory_bytes == 100 * MIB + 6 * 1024**3
    assert limits.deadline_s == 25


@linux_only
@pytest.mark.parametrize("label", list(MODEL_BOMBS))
def test_the_cli_on_each_bomb_ends_in_time_under_1_gib(tmp_path, label):
    """The goal as the benchmark measures it: the whole process tree, default settings."""
    root = make_bundle(tmp_path / "b", model=MODEL_BOMBS[label])
    elapsed, peak, code, output = measure([*MODELGATE, "validate", str(root), "--stage", "staging"])
    assert code == 1 and "MG216" in output, output
    assert peak < 1024**3, f"{peak / MIB:.0f} MiB"
    assert elapsed < 60, f"{elapsed:.1f} s"  # the goal is 30 s on an idle machine; CI shares cores


def test_the_desktop_apps_validation_goes_through_the_bounded_process(tmp_path, monkeypatch):
    """The app validates on a worker thread through ``facts.validate``; the same bounded
    process stops the bomb there, and the worker's process stays flat."""
    from modelgate.core.policy.document import load_policy
    from modelgate.gui.inspector.facts import Subject, gather, validate as validate_shown

    monkeypatch.setenv("MODELGATE_MODEL_MEMORY_MB", "128")
    root = make_bundle(tmp_path / "b", model=runtime_shape_bomb)
    policy = load_policy(None)
    facts = gather(path=root, policy=policy, champion=None, progress=Progress())
    before = peak_rss()
    try:
        report = validate_shown(subject=Subject(facts, policy, "staging"), stage="staging", progress=Progress())
    finally:
        facts.close()
    assert "128 MiB memory limit" in stopped(report)
    assert peak_rss() - before < 256 * MIB


def test_a_relative_bundle_path_is_the_callers_not_the_model_processs(tmp_path, monkeypatch):
    """The reused model process keeps the working folder it started in."""
    validate(make_bundle(tmp_path / "first", model=tiny_model), stage="draft")  # starts the process
    elsewhere = tmp_path / "elsewhere"
    make_bundle(elsewhere / "b", model=tiny_model)
    monkeypatch.chdir(elsewhere)
    from pathlib import Path

    report = validate(Path("b"), stage="draft")
    assert not {r for r in rules_of(report) if r.startswith("MG2")}
