"""Plain-text rendering of registry records for ``registry show``, ``promote`` and ``compare``."""

from __future__ import annotations

from modelgate.core.cli.terminal import paint

_GATE_MARKS = {"met": ("✔", "green"), "not met": ("✘", "red"), "not available": ("–", "yellow")}
#: A gate the policy does not ask for never blocks: a neutral mark, never a red cross.
NOT_REQUIRED_MARK = ("–", "dim")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value)


def render_gates(gates) -> str:
    """One line per gate: its mark, name and reason; a gate that is not required is marked "–"."""
    lines = []
    for gate in gates:
        if getattr(gate, "required", True):
            mark, colour = _GATE_MARKS.get(gate.state, ("?", "dim"))
        else:
            mark, colour = NOT_REQUIRED_MARK
        lines.append(f"  {paint(mark, colour)} {gate.name:<12} {gate.reason}")
    return "\n".join(lines)


def attention(info) -> str:
    """What must not be missed about a listed version: a damaged stored copy, a break-glass restore."""
    notes = []
    if info.damaged:
        notes.append("DAMAGED (registry repair)")
    if info.break_glass:
        notes.append(f"BREAK-GLASS by {info.break_glass_by} {_when(info.break_glass_at)}: "
                     f"{info.break_glass_reason or ''}".rstrip(": "))
    return "; ".join(notes)


def render_detail(detail) -> str:
    """Everything about one version, oldest history first."""
    info = detail.info
    out = [paint(f"{info.name}@{info.version}", "bold") + f"  stage: {info.stage}"]
    if info.break_glass:
        out.append(paint(f"  RESTORED BY BREAK-GLASS: {info.break_glass_by} on {_when(info.break_glass_at)}, "
                         f"why: {info.break_glass_reason}; its gates did not hold (audit log: rollback.break-glass). "
                         "Shown until a normal promotion replaces it.", "red"))
    damage = getattr(detail, "damage", None)
    if damage is not None:
        out.append(paint(f"  STORED COPY DAMAGED (found by {damage.found_by} on {_when(damage.found_at)}): "
                         f"{damage.describe()}; repair: modelgate registry repair "
                         f"{info.name}@{info.version} BUNDLE", "red"))
    out += [f"  digest:     {info.digest}",
           f"  submitter:  {info.submitter}",
           f"  license:    {info.license or '—'}",
           f"  imported:   {_when(info.created_at)}",
           f"  stored at:  {detail.stored_at or detail.store_path}"]
    if detail.validations:
        out += ["", paint("Validation runs", "bold")]
        for run in detail.validations:
            verdict = paint("passed", "green") if run.passed else paint("failed", "red")
            out.append(f"  {_when(run.created_at)}  {run.stage:<10} {verdict}  {run.errors} error(s), "
                       f"{run.warnings} warning(s)  policy {run.policy_name} ({run.policy_digest[:12]})")
    out += ["", paint("Reviews", "bold")]
    if not detail.reviews:
        out.append("  none yet")
    for review in detail.reviews:
        out.append(f"  {_when(review.created_at)}  {review.reviewer} ({review.roles}) "
                   f"{review.decision} at {review.stage}: {review.comment}")
    out += ["", paint("Stage history", "bold")]
    if not detail.promotions:
        out.append("  draft since import")
    for move in detail.promotions:
        why = f" — {move.reason}" if move.reason else ""
        out.append(f"  {_when(move.created_at)}  {move.from_stage} → {move.to_stage} ({move.kind}) "
                   f"by {move.actor}{why}")
    if detail.signatures:
        out += ["", paint("Signatures", "bold")]
        for sig in detail.signatures:
            standing = sig.standing.upper() if sig.revoked_at is not None else (
                "valid" if sig.verified else "INVALID")
            out.append(f"  {sig.signer}  {sig.key_fingerprint}  {standing}")
    out += ["", paint("Audit events", "bold")]
    for event in detail.events:
        out.append(f"  #{event.seq:<6} {event.created_at}  {event.actor:<12} {event.action}")
    return "\n".join(out)
