"""Comparison operations: two stored versions side by side, for the compare window.

:func:`plan` reads the registry (registry worker); :func:`run` reads and validates the stored
bundles it planned, with no database (bundle pool), as ``modelgate compare`` does.
"""

from __future__ import annotations

from modelgate.core.progress import Progress
from modelgate.core.registry import compare as comparing
from modelgate.core.registry.compare import ComparePlan, Comparison


def plan(connection, *, champion: tuple[str, str] | None, challenger: tuple[str, str],
         stage: str | None) -> ComparePlan:
    """What comparing ``champion`` (None: the current champion of the challenger's model) with
    ``challenger``, each ``(name, version)``, reads; judged for ``stage`` under the registry's policy."""
    a = champion or comparing.champion_for(connection.registry, name=challenger[0], version=challenger[1])
    return comparing.plan_comparison(connection.registry, a=a, b=challenger, stage=stage, policy=connection.policy)


def run(plan_: ComparePlan, *, progress: Progress) -> Comparison:
    """Compare the stored bundles of ``plan_``: manifests, metrics, graphs, then findings."""
    return comparing.run_comparison(plan_, progress=progress)
