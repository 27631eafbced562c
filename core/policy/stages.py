"""Lifecycle stages, in order."""

from __future__ import annotations

from modelgate.core.errors import UsageError

STAGES = ("draft", "candidate", "staging", "production", "deprecated", "archived")
DEFAULT_STAGE = "candidate"


def check_stage(stage: str) -> str:
    """Return ``stage`` if it is a known stage, else raise a :class:`UsageError`."""
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}", hint=f"Stages are: {', '.join(STAGES)}.")
    return stage


def at_least(stage: str, floor: str) -> bool:
    """Whether ``stage`` comes at or after ``floor`` in the lifecycle."""
    return STAGES.index(stage) >= STAGES.index(floor)


def target_stage(stage: str | None) -> str:
    """The stage a version is judged for: the next one on its way to production; a version in
    production or retired is judged by its own stage's rules; a lone bundle for candidate."""
    if stage is None:
        return DEFAULT_STAGE
    if stage in ("draft", "candidate", "staging"):
        return STAGES[STAGES.index(stage) + 1]
    return stage
