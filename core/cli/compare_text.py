"""Plain-text rendering of a champion/challenger comparison for ``modelgate compare``."""

from __future__ import annotations

from modelgate.core.cli.terminal import paint
from modelgate.core.formats.onnx.graph_diff import describe_pair

VERDICT_COLOUR = {"improved": "green", "exceeds_limit": "red", "no_limit": "yellow", "within_limits": "yellow"}
SEVERITY_COLOUR = {"error": "red", "warning": "yellow", "info": "dim"}
#: Most initializer changes listed per artifact; the JSON has them all.
SHOWN_INITIALIZERS = 12


def _number(value) -> str:
    from modelgate.core.benchmarks.regression import format_number

    return format_number(value)


def _metrics(result) -> list[str]:
    a, b = result.a, result.b
    found = result.metrics
    out = []
    width = max((len(r.label) for r in (*found.metrics, *found.champion_only, *found.challenger_only)), default=0)
    if not found.metrics:
        out.append("  no metric measured on both")
    for item in found.metrics:
        colour = VERDICT_COLOUR.get(item.verdict.value, "dim")
        direction = paint("(higher is better)" if item.higher_is_better else "(lower is better)", "dim")
        relative = f" ({item.relative_delta:+.2%})" if item.relative_delta is not None else ""
        out.append(f"  {item.label:<{width}} {_number(item.champion):>10} → {_number(item.challenger):<10}"
                   f" {paint(f'{item.absolute_delta:+.4g}{relative}', colour)}  "
                   f"{paint(item.verdict.words.upper() if item.failed else item.verdict.words, colour)} {direction}")
    for title, rows in (("only in " + a.label, found.champion_only), ("only in " + b.label, found.challenger_only)):
        for row in rows:
            out.append(f"  {row.label:<{width}} {_number(row.value):>10}  ({title})")
    for new, _old in found.direction_conflicts:
        out.append(f"  {new.label}: not compared, the two versions disagree on higher_is_better")
    return out


def _ops(artifact) -> str:
    parts = []
    for op in artifact.ops:
        if op.change == "added":
            parts.append(f"+{op.op} ×{op.b}")
        elif op.change == "removed":
            parts.append(f"−{op.op} ×{op.a}")
        else:
            parts.append(f"{op.op} {op.a} → {op.b}")
    return ", ".join(parts) if parts else "unchanged"


def _graph(artifact) -> list[str]:
    head = f"  {artifact.title}" + (f" ({artifact.variant})" if artifact.variant else "")
    if artifact.problem:
        return [head, paint(f"    could not be compared: {artifact.problem}", "yellow")]
    if artifact.change != "compared":
        which = artifact.parameters[1] if artifact.change == "added" else artifact.parameters[0]
        return [f"{head}: {artifact.change} ({which:,} parameters)"]
    out = [head, f"    parameters   {describe_pair(artifact.parameters)}", f"    nodes        {describe_pair(artifact.nodes)}",
           f"    operators    {_ops(artifact)}"]
    opsets = [f"{domain or 'ai.onnx'} {a if a is not None else '—'}"
              + (f" → {b if b is not None else '—'}" if a != b else "") for domain, a, b in artifact.opsets]
    out.append(f"    opsets       {', '.join(opsets) or 'none'}"
               + ("" if artifact.opset_changes else " (unchanged)"))
    out.append(f"    IR version   {describe_pair(artifact.ir_version)}")
    out.append(f"    producer     {describe_pair(artifact.producer)}")
    changed, total = len(artifact.initializers), max(artifact.initializer_count)
    if not changed:
        out.append(f"    initializers {total:,} (none changed)")
    else:
        out.append(f"    initializers {changed:,} of {total:,} differ:")
        out += [f"      {change.describe()}" for change in artifact.initializers[:SHOWN_INITIALIZERS]]
        if changed > SHOWN_INITIALIZERS:
            out.append(f"      … and {changed - SHOWN_INITIALIZERS:,} more (--json lists them all)")
    out += [paint(f"    not compared: {why}", "yellow") for why in artifact.not_compared]
    return out


def _tensors(model) -> list[str]:
    """One pair of artifacts in a format other than ONNX, tensor by tensor."""
    head = f"  {model.title}"
    if model.problem:
        return [head, paint(f"    could not be compared: {model.problem}", "yellow")]
    if model.path_a is None or model.path_b is None:
        return [f"{head}: only in {'A' if model.path_b is None else 'B'}"]
    counts = ", ".join(f"{count:,} {change}" for change, count in model.counts)
    out = [head, f"    parameters   {describe_pair(model.parameters)}",
           f"    tensors      {counts or 'none added, removed, reshaped or re-quantised'}"]
    out += [f"      {change.describe()}" for change in model.changes[:SHOWN_INITIALIZERS]]
    listed = sum(count for _change, count in model.counts)
    if listed > SHOWN_INITIALIZERS:
        out.append(f"      … and {listed - SHOWN_INITIALIZERS:,} more (--json lists them all)")
    return out


def _findings(result) -> list[str]:
    found = result.findings
    if found is None:
        return ["  not compared"]
    out = []
    for side in (found.a, found.b):
        verdict = paint("passes", "green") if side.passed else paint("does not pass", "red")
        out.append(f"  {side.label}: {verdict} ({side.count_text()}); {side.describe()}")
    for title, rows in ((f"only in {found.b.label} (new)", found.only_in_b),
                        (f"only in {found.a.label} (gone in {found.b.label})", found.only_in_a)):
        out.append(f"  {title}:" if rows else f"  {title}: none")
        for finding in rows:
            severity = finding.severity.value
            out.append(f"    {paint(f'{severity:<7}', SEVERITY_COLOUR[severity])} {finding.rule} {finding.message}")
    out.append(f"  in both: {found.in_both}")
    return out


def render_comparison(result) -> str:
    """What changed from champion ``a`` to challenger ``b``: metrics, interface, license,
    targets, graphs, the tensors of other formats and the findings only one of them has."""
    a, b = result.a, result.b
    out = [paint(f"{a.label} ({a.stage})  →  {b.label} ({b.stage})", "bold"),
           "A = champion (the baseline), B = challenger; changes read A → B"
           + (f"; judged for {result.stage} under policy {result.policy_name}" if result.stage else ""),
           ""]
    highlights = result.highlights()
    out += [paint("In short", "bold")] + [f"  {line}" for line in highlights or ["nothing differs"]]
    out += ["", paint("Metrics", "bold")]
    out += _metrics(result)
    out += ["", paint("Interface", "bold")]
    out += [f"  {change.describe()}" for change in result.interface] or ["  unchanged"]
    out += ["", paint("License", "bold")]
    out.append(f"  {a.license} → {b.license}" if result.license_changed else f"  {a.license} (unchanged)")
    out += ["", paint("Targets", "bold")]
    out += [f"  {change.describe()}" for change in result.targets] or ["  unchanged"]
    out += ["", paint("Graph", "bold")]
    out += [line for artifact in result.graphs for line in _graph(artifact)] or ["  no ONNX artifact on either side"]
    if result.models:
        out += ["", paint("Tensors (artifacts in other formats, by variant)", "bold")]
        out += [line for model in result.models for line in _tensors(model)]
    out += ["", paint("Findings only one side has", "bold")]
    out += _findings(result)
    if result.problems:
        out += ["", paint("Could not compare", "yellow")]
        out += [f"  {problem}" for problem in result.problems]
    return "\n".join(out)
