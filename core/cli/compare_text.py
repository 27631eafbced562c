"""Plain-text rendering of a champion/challenger comparison for ``modelgate compare``."""

from __future__ import annotations

from modelgate.core.cli.terminal import paint


def _number(value) -> str:
    from modelgate.core.regression import format_number

    return format_number(value)


def render_comparison(result) -> str:
    """What changed from champion ``a`` to challenger ``b``: metrics, interface, license, targets."""
    a, b = result.a, result.b
    out = [paint(f"{a.label} ({a.stage})  →  {b.label} ({b.stage})", "bold"), "", paint("Metrics", "bold")]
    width = max((len(r.label) for r in (*result.metrics.metrics, *result.metrics.champion_only,
                                        *result.metrics.challenger_only)), default=0)
    if not result.metrics.metrics:
        out.append("  no metric measured on both")
    for item in result.metrics.metrics:
        colour = {"improved": "green", "exceeds_limit": "red", "no_limit": "yellow",
                  "within_limits": "yellow"}.get(item.verdict.value, "dim")
        arrow = "↑ better" if item.higher_is_better else "↓ better"
        relative = f" ({item.relative_delta:+.2%})" if item.relative_delta is not None else ""
        out.append(f"  {item.label:<{width}} {_number(item.champion):>10} → {_number(item.challenger):<10}"
                   f" {paint(f'{item.absolute_delta:+.4g}{relative}', colour)}  {arrow}")
    for title, rows in (("only in " + a.label, result.metrics.champion_only),
                        ("only in " + b.label, result.metrics.challenger_only)):
        for row in rows:
            out.append(f"  {row.label:<{width}} {_number(row.value):>10}  ({title})")
    out += ["", paint("Interface", "bold")]
    out += [f"  {change.describe()}" for change in result.interface] or ["  unchanged"]
    out += ["", paint("License", "bold")]
    out.append(f"  {a.license} → {b.license}" if result.license_changed else f"  {a.license} (unchanged)")
    out += ["", paint("Targets", "bold")]
    out += [f"  {change.describe()}" for change in result.targets] or ["  unchanged"]
    if result.problems:
        out += ["", paint("Could not compare", "yellow")]
        out += [f"  {problem}" for problem in result.problems]
    return "\n".join(out)
