"""Plain-text rendering of a bundle summary for ``modelgate inspect``."""

from __future__ import annotations

from modelgate.core.cli.terminal import paint
from modelgate.core.outputs import human_bytes

_STATE_TEXT = {
    "locked": ("locked: every digest matches", "green"),
    "stale": ("STALE: the bundle's bytes no longer match its digests", "red"),
    "unlocked": ("unlocked: no digests recorded (run `modelgate lock`)", "yellow"),
    "unchecked": ("not checked (--no-verify)", "dim"),
}


def _shape(shape) -> str:
    # The summary passes on what bundle.yaml says; a shape that is no list (an MG103 finding) is shown as written.
    if not isinstance(shape, list):
        return str(shape)
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _model(add, model: dict) -> None:
    """One artifact's facts: format, tensors and their types, what a pickle imports."""
    facts = model.get("facts")
    if facts is None:
        add(f"         {paint('unreadable', 'red')}: {'; '.join(model.get('problems') or []) or 'unknown format'}")
        return
    kinds = ", ".join(facts["dtypes"][:6]) or "no tensors"
    add(f"         {facts['format']}: {facts['tensor_count']} tensors, {facts['parameters']:,} parameters, "
        f"{human_bytes(facts['tensor_bytes'])} ({kinds})")
    for key in ("general.architecture", "general.name", "general.license", "description"):
        if facts["metadata"].get(key):
            add(f"         {key}: {facts['metadata'][key]}")
    if facts["interface"] is None:
        add("         no graph: the file states no interface")
    if facts["operators"]:
        shown = ", ".join(f"{o['name']} v{o['version']}" for o in facts["operators"][:12])
        add(f"         operators: {shown}")
    if facts["imports"]:
        add(f"         imports: {', '.join(facts['imports'][:12])}")
    for problem in model.get("problems") or []:
        add(f"         {paint(problem, 'red')}")


def render(summary: dict) -> str:
    lines: list[str] = []
    add = lines.append
    add(paint(f"{summary['name']} {summary['version']}", "bold"))
    if summary.get("description"):
        add(f"  {summary['description']}")
    add(f"  source:   {summary['source']}")
    add(f"  license:  {summary['license']}")
    owners = ", ".join(f"{o.get('name')} <{o.get('email')}>" for o in summary["owners"])
    if owners:
        add(f"  owners:   {owners}")
    if summary["tags"]:
        add(f"  tags:     {', '.join(summary['tags'])}")
    text, colour = _STATE_TEXT[summary["lock"]["state"]]
    add(f"  lock:     {paint(text, colour)}")
    for key in ("mismatched", "missing", "unlisted"):
        for name in summary["lock"].get(key, []):
            add(f"            {key}: {name}")
    for message in summary["lock"].get("artifact_problems", []):
        add(f"            {message}")

    add("")
    add(paint("Artifacts", "bold"))
    if not summary["artifacts"]:
        add("  (none listed)")
    for art in summary["artifacts"]:
        size = human_bytes(art["size"]) if art["size"] is not None else "MISSING"
        # Any value bundle.yaml holds is printable as written; a mistyped one is already an MG103 finding.
        digest = str(art["sha256"])[:16] if art["sha256"] not in (None, "") else "no sha256"
        mark = {True: " ok", False: paint(" MISMATCH", "red")}.get(art.get("digest_ok"), "")
        add(f"  {art['variant'] or '?':<6} {art['path'] or '?'}  {size}  sha256 {digest}…{mark}")

    for model in summary.get("models") or []:
        _model(add, model)

    interface = summary["interface"]
    add("")
    add(paint("Interface", "bold") + (f" (version {interface['version']})" if interface.get("version") else ""))
    for direction in ("inputs", "outputs"):
        for tensor in interface.get(direction) or []:
            add(f"  {direction[:-1]:<6} {tensor.get('name')}: {tensor.get('dtype')} {_shape(tensor.get('shape') or [])}")

    if summary["targets"]:
        add("")
        add(paint("Targets", "bold"))
        for target in summary["targets"]:
            budget = []
            if target.get("max_opset") is not None:        # an ONNX notion: other runtimes have none
                budget.append(f"opset ≤ {target['max_opset']}")
            if target.get("memory_mb") is not None:
                budget.append(f"{target['memory_mb']} MB")
            if target.get("latency_p95_ms") is not None:
                budget.append(f"p95 ≤ {target['latency_p95_ms']} ms")
            add(f"  {target.get('name')}: {target.get('runtime')} {target.get('runtime_version', '')} "
                f"on {target.get('device', '?')}, artifact {target.get('artifact')}"
                + (f", {', '.join(budget)}" if budget else ""))

    prov = summary["provenance"]
    add("")
    add(paint("Provenance", "bold"))
    framework = prov.get("framework") or {}
    rows = [
        ("source", f"{prov.get('repository') or '?'} @ {prov.get('commit') or '?'}"),
        ("training run", prov.get("training_run")),
        ("framework", " ".join(str(v) for v in framework.values()) if framework else None),
        ("seed", prov.get("seed")),
        ("datasets", ", ".join(prov["datasets"]) if prov["datasets"] else None),
        ("parent", prov.get("parent")),
        ("created", prov.get("created_at")),
    ]
    for label, value in rows:
        add(f"  {label + ':':<14}{value if value not in (None, '') else '—'}")
    if summary["benchmarks"]:
        add(f"  {'benchmarks:':<14}{', '.join(summary['benchmarks'])}")
    if summary["signatures"]:
        add(f"  {'signatures:':<14}{', '.join(summary['signatures'])}")

    if summary["findings"]:
        add("")
        add(paint(f"Manifest problems ({len(summary['findings'])})", "red"))
        for finding in summary["findings"]:
            where = finding["location"]["path"] or finding["location"]["file"]
            add(f"  {finding['rule']} {where}: {finding['message']}")
            if finding.get("hint"):
                add(f"        hint: {finding['hint']}")
    return "\n".join(lines)
