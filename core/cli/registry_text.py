"""Plain-text rendering of registry records for ``registry show``, ``promote`` and ``compare``."""

from __future__ import annotations

from modelgate.core.cli.terminal import paint

_GATE_MARKS = {"met": ("✔", "green"), "not met": ("✘", "red"), "not available": ("–", "yellow")}


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value)


def render_gates(gates) -> str:
    """One line per gate: its mark, name and reason."""
    lines = []
    for gate in gates:
        mark, colour = _GATE_MARKS.get(gate.state, ("?", "dim"))
        lines.append(f"  {paint(mark, colour)} {gate.name:<12} {gate.reason}")
    return "\n".join(lines)


def render_detail(detail) -> str:
    """Everything about one version, oldest history first."""
    info = detail.info
    out = [paint(f"{info.name}@{info.version}", "bold") + f"  stage: {info.stage}",
           f"  digest:     {info.digest}",
           f"  submitter:  {info.submitter}",
           f"  license:    {info.license or '—'}",
           f"  imported:   {_when(info.created_at)}",
           f"  stored at:  {detail.store_path}"]
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
