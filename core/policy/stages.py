"""Lifecycle stages, in order, and the groups of them the checks and the workflow speak of.

Every stage name and every group is written here once; the rest of the code imports them.
"""

from __future__ import annotations

from modelgate.core.errors import UsageError

DRAFT, CANDIDATE, STAGING, PRODUCTION, DEPRECATED, ARCHIVED = STAGES = (
    "draft", "candidate", "staging", "production", "deprecated", "archived")
DEFAULT_STAGE = CANDIDATE
#: Stages a version climbs through on its way to production: reviewed, judged for the next one.
ON_THE_WAY = STAGES[:STAGES.index(PRODUCTION)]
#: Stages whose versions serve (or are about to): signatures and evidence are required there.
SERVING = (STAGING, PRODUCTION)
#: Stages a version leaves service for; it may be retired at any time.
RETIRED = (DEPRECATED, ARCHIVED)


def check_stage(stage: str) -> str:
    """Return ``stage`` if it is a known stage, else raise a :class:`UsageError`."""
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}", hint=f"Stages are: {', '.join(STAGES)}.")
    return stage


def at_least(stage: str, floor: str) -> bool:
    """Whether ``stage`` comes at or after ``floor`` in the lifecycle."""
    return STAGES.index(stage) >= STAGES.index(floor)


def next_stage(stage: str) -> str | None:
    """The stage after ``stage`` on the way to production; None from production on."""
    return STAGES[STAGES.index(stage) + 1] if stage in ON_THE_WAY else None


def target_stage(stage: str | None) -> str:
    """The stage a version is judged for: the next one on its way to production; a version in
    production or retired is judged by its own stage's rules; a lone bundle for candidate."""
    if stage is None:
        return DEFAULT_STAGE
    return next_stage(stage) or stage
