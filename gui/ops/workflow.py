"""Workflow operations: review, promotion and rollback of a registry version, as the app asks.

The dialogs and panels reach the core's workflow only through these functions, in the manner
of Anki's ``aqt.operations``: each takes the open
:class:`~modelgate.gui.ops.registry.RegistryConnection` and runs on the registry worker (it
blocks on the database), so a caller hands it to
:class:`~modelgate.gui.ops.background.BackgroundOperation` with ``executor=workers.registry``.
The names the widgets need to show what the workflow allows (roles, gate states, the work
queue's items) are re-exported here for the same reason.
"""

from __future__ import annotations

from pathlib import Path

from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.registry import workflow
from modelgate.core.registry.errors import WorkflowRefused
from modelgate.core.registry.gates import MET, NOT_AVAILABLE, GateResult
from modelgate.core.registry.publish import PUSH_ROLES
from modelgate.core.registry.queue import TASKS, QueueItem
from modelgate.core.registry.workflow import (BREAK_GLASS_ROLES, BREAKABLE, PROMOTE_ROLES, REVIEW_ROLES,
                                              PromotionResult, ReviewRecorded, RollbackChoices, RollbackResult)

__all__ = ["BREAKABLE", "BREAK_GLASS_ROLES", "MET", "NOT_AVAILABLE", "PROMOTE_ROLES", "PUSH_ROLES", "REVIEW_ROLES",
           "TASKS",
           "QueueItem", "WorkflowRefused", "gates", "promote", "review", "rollback", "rollback_choices",
           "rollback_gates"]


def review(connection, *, name: str, version: str, decision: str, comment: str,
           expected_stage: str | None) -> ReviewRecorded:
    """Record the acting user's ``decision`` on ``name@version``, refused if it left ``expected_stage``."""
    return workflow.review(connection.registry, name=name, version=version, decision=decision, comment=comment,
                           expected_stage=expected_stage)


def gates(connection, *, name: str, version: str, to_stage: str, progress: Progress,
          verify_store: bool) -> list[GateResult]:
    """Every gate for moving ``name@version`` to ``to_stage``, judged now (``verify_store``: re-hash it)."""
    return workflow.gates(connection.registry, name=name, version=version, to_stage=to_stage, progress=progress,
                          verify_store=verify_store)


def promote(connection, *, name: str, version: str, to_stage: str, reason: str | None,
            progress: Progress) -> PromotionResult:
    """Promote ``name@version`` to ``to_stage``; the core checks every gate again and audits the outcome."""
    return workflow.promote(connection.registry, name=name, version=version, to_stage=to_stage, reason=reason,
                            progress=progress)


def rollback_choices(connection, *, name: str) -> RollbackChoices:
    """The versions a rollback of model ``name`` may restore, the usual one first."""
    return workflow.rollback_choices(connection.registry, name=name)


def rollback_gates(connection, *, name: str, to_version: str | None,
                   progress: Progress) -> tuple[str | None, list[GateResult]]:
    """Today's production gates for restoring ``name@to_version`` (re-hashes it)."""
    return workflow.rollback_gates(connection.registry, name=name, to_version=to_version, progress=progress)


def rollback(connection, *, name: str, reason: str, to_version: str | None, expected_current: str | None,
             break_glass: bool, progress: Progress) -> RollbackResult:
    """Restore ``name@to_version`` to production, refused unless ``expected_current`` is still there."""
    return workflow.rollback(connection.registry, name=name, reason=reason, to_version=to_version,
                             expected_current=expected_current, break_glass=break_glass, progress=progress)


