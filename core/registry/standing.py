"""Where listed versions stand for their next stage, judged by the promotion's own gates.

The registry listing shows, beside each version, whether it could move to the next stage
now and what stops it. It asks :func:`.gates.evaluate`, the call a promotion and
``modelgate registry gates`` make, so the listing, the review panel and the command line
cannot disagree. A listing judges many versions at once, so it runs no validation and
hashes no stored bundle: a version never validated for its next stage under the policy
in force says so instead of borrowing the verdict of a run made for another stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgate.core.policy.document import Policy
from modelgate.core.policy.stages import next_stage
from modelgate.core.registry.errors import NotFound
from modelgate.core.registry.gates import NOT_AVAILABLE, NOT_MET, GateResult, evaluate
from modelgate.core.registry.queries import get_version

#: Outcomes, from best to worst news: every gate holds; only people's work is missing
#: (approvals, a signature); nothing judged yet for the stage; a gate says no; no next stage.
READY, WAITING, UNJUDGED, BLOCKED, FINAL = "ready", "waiting", "unjudged", "blocked", "final"
#: Gates that wait for people rather than for the bundle.
PEOPLE = ("approvals", "signature")


@dataclass(frozen=True)
class Standing:
    """A version's standing for ``to_stage`` (None when it has no next stage)."""

    to_stage: str | None
    outcome: str
    gates: tuple[GateResult, ...] = ()

    @property
    def headline(self) -> str:
        """A few words for a table cell."""
        if self.to_stage is None:
            return "– last stage"
        blocking = [g for g in self.gates if g.blocking]
        if self.outcome == READY:
            return f"✔ {self.to_stage}: ready"
        if self.outcome == BLOCKED:
            failed = next(g for g in blocking if g.state == NOT_MET and g.name not in PEOPLE)
            return f"✖ {self.to_stage}: {failed.name} fails"
        if self.outcome == UNJUDGED:
            return f"? {self.to_stage}: not validated"
        return f"… {self.to_stage}: needs " + ", ".join(g.name for g in blocking)

    @property
    def reason(self) -> str:
        """Every gate on its own line, met or not; a gate the policy does not ask for says so."""
        if self.to_stage is None:
            return "The version is at a stage no promotion leads on from."
        lines = [f"Next stage: {self.to_stage}"]
        for gate in self.gates:
            state = "not required" if not gate.required else gate.state
            lines.append(f"{gate.name}: {state} — {gate.reason}")
        return "\n".join(lines)


def outcome_of(gates: list[GateResult]) -> str:
    """The listing's one word for a set of gates (see the module constants)."""
    blocking = [g for g in gates if g.blocking]
    if not blocking:
        return READY
    if any(g.state == NOT_MET and g.name not in PEOPLE for g in blocking):
        return BLOCKED
    if any(g.state == NOT_AVAILABLE for g in blocking):
        return UNJUDGED
    return WAITING


def standing_in(session, *, name: str, version: str, policy: Policy, actor: str) -> Standing:
    """Where ``name@version`` stands for its next stage (inside the caller's read transaction)."""
    row = get_version(session, name=name, version=version)
    to_stage = next_stage(row.stage)
    if to_stage is None:
        return Standing(None, FINAL)
    gates = evaluate(session, row, label=f"{name}@{version}", to_stage=to_stage, policy=policy, actor=actor,
                     store=None, verify_store=False, stored_only=True)
    return Standing(to_stage, outcome_of(gates), tuple(gates))


def standings(registry, *, refs, policy: Policy) -> dict[tuple[str, str], Standing]:
    """The standing of each ``(name, version)`` of ``refs`` (one read transaction); a version
    gone since it was listed is left out."""
    found = {}
    with registry.session(write=False) as session:
        for name, version in refs:
            try:
                found[(name, version)] = standing_in(session, name=name, version=version, policy=policy,
                                                     actor=registry.actor)
            except NotFound:
                continue
    return found

