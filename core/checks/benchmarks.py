"""MG6xx: benchmark results, the stage's metric gates, and regression against the champion."""

from __future__ import annotations

from collections import Counter

from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.policy.stages import SERVING
from modelgate.core.rules import rule


def _shown(value: float) -> str:
    # regression.py is only imported when a message needs it: most runs have no champion.
    from modelgate.core.benchmarks.regression import format_number

    return format_number(value)


INVALID_FILE = rule(
    "MG601", title="Benchmark results file is invalid", severity=Severity.ERROR,
    rationale="""Benchmark files are the evidence behind every metric gate and every comparison
    with the champion. A listed file that is missing, is not JSON, breaks the benchmark schema
    or holds NaN/Infinity cannot be trusted, so its results are left out.""",
    fix="""Correct the file named in the message (resources/BUNDLE_SPEC.md, section 5, shows
    the format), or remove it from `benchmarks`.""",
)
NO_RESULTS = rule(
    "MG602", title="No benchmark results", severity=Severity.WARNING,
    rationale="""Without measured results nobody can tell whether the model is good enough or
    better than the one it replaces. Drafts and candidates may still be collecting numbers; a
    promotion to staging or production needs the evidence, so it is an error there.""",
    fix="""Add results under benchmarks/ (e.g. benchmarks/results.json) and list the files in
    the manifest's `benchmarks`.""",
)
UNLISTED_FILE = rule(
    "MG603", title="Benchmark file not listed in the manifest", severity=Severity.WARNING,
    rationale="""Only files listed in `benchmarks` are read. A results file that sits in
    benchmarks/ but is not listed is ignored by every gate, which is rarely what its author
    meant, and reviewers may read numbers that were never checked.""",
    fix="""Add the file to `benchmarks` in bundle.yaml, or delete it; then run `modelgate lock`.""",
)
DUPLICATE_RESULT = rule(
    "MG604", title="Two results share dataset, split, metric and target", severity=Severity.WARNING,
    rationale="""Results are identified by dataset, split, metric and target. Two results with
    the same identity make the comparison with the champion ambiguous: only the first is
    compared.""",
    fix="""Remove the duplicate, or tell the results apart with a different split or target.""",
)
GATE_VIOLATED = rule(
    "MG605", title="A metric misses the stage's gate", severity=Severity.ERROR,
    rationale="""The policy sets floors (min) and ceilings (max) on metrics for each stage. A
    version whose measured value is outside them has not earned the stage.""",
    fix="""Improve the model and measure again; change the gate only through a policy
    change agreed by its owners.""",
)
GATE_UNMATCHED = rule(
    "MG606", title="No result for a metric the stage's gate needs", severity=Severity.ERROR,
    rationale="""A gate that no result matches cannot hold. Letting it pass would make the
    easiest way through a gate to leave the metric out.""",
    fix="""Measure the metric on the dataset and split the gate names and add it to the
    benchmark results; check the spelling of metric, dataset and split.""",
)
CHAMPION_UNREADABLE = rule(
    "MG607", title="The champion cannot be read", severity=Severity.ERROR,
    rationale="""A comparison against the champion was asked for, but the champion's manifest
    could not be read, so no regression can be ruled out.""",
    fix="""Pass the bundle that is really in production with --champion, or repair it.""",
)
REGRESSION = rule(
    "MG608", title="Metric regressed against the champion", severity=Severity.ERROR,
    rationale="""A new version should not be worse than the one it replaces by more than the
    policy allows for the stage. When the stage sets no limit, a loss is reported as a
    warning so that it is seen, not silently accepted.""",
    fix="""Improve the model, or have the policy owners agree a wider tolerance for this
    metric (`regression.metrics` in the policy).""",
)
COMPARED = rule(
    "MG609", title="Comparison with the champion", severity=Severity.INFO,
    rationale="""Improvements and regressions within the allowed limits are recorded so that
    reviewers see how the challenger compares before they approve it.""",
    fix="""Nothing to fix; this is information for reviewers.""",
)
NOT_COMPARABLE = rule(
    "MG610", title="A champion result cannot be compared", severity=Severity.WARNING,
    rationale="""A metric the champion reports but the challenger does not, or that the two
    measure in opposite directions, cannot be checked for regression; dropping a metric is
    an easy way to hide one.""",
    fix="""Report the same dataset, split, metric and target as the champion, and keep
    `higher_is_better` consistent between versions.""",
)
CHAMPION_MISMATCH = rule(
    "MG611", title="Champion is not another version of this model", severity=Severity.WARNING,
    rationale="""Regression limits are meant for successive versions of one model. A champion
    with another name, or the very same name and version, makes the comparison meaningless.""",
    fix="""Pass the production version of this model with --champion.""",
)



def _loaded(ctx):
    """``ctx.benchmark_results()``, or nothing when `benchmarks` is not a list (MG103 says so)."""
    if ctx.typed.has("benchmarks") and not ctx.typed.is_list("benchmarks"):
        return [], []
    return ctx.benchmark_results()


@register()
def result_files(ctx):
    """MG601, MG602, MG603, MG604: the results files and their contents."""
    results, problems = _loaded(ctx)
    for problem in problems:
        yield INVALID_FILE.finding(problem.message, file=problem.file, path=problem.path, hint=problem.hint,
                                   line=problem.line)
    listed = ctx.typed.benchmarks
    if not results:
        severity = Severity.ERROR if ctx.stage in SERVING else Severity.WARNING
        what = "bundle.yaml lists no benchmark results" if not listed \
            else "no benchmark result could be read from " + ", ".join(listed)
        suffix = f"; promoting to {ctx.stage} needs measured results" if severity is Severity.ERROR else ""
        yield NO_RESULTS.finding(what + suffix, path="benchmarks", severity=severity,
                                 hint="Add results under benchmarks/ and list the files in `benchmarks`.")
    for name in ctx.bundle.files():
        if name.startswith("benchmarks/") and name.lower().endswith(".json") and name not in listed:
            yield UNLISTED_FILE.finding(f"{name} is not listed in `benchmarks`, so no gate reads it",
                                        file=name, hint="Add it to `benchmarks` or delete it.")
    counts = Counter(r.key for r in results)
    seen = set()
    for result in results:
        if counts[result.key] > 1 and result.key in seen:
            yield DUPLICATE_RESULT.finding(
                f"{result.label} is reported more than once; only the first value is compared",
                file=result.file, path=f"results[{result.index}]")
        seen.add(result.key)


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@register()
def metric_gates(ctx):
    """MG605, MG606: every result a gate names lies within its floor and ceiling."""
    gates = ctx.gates.metrics
    if not gates:
        return
    results, _ = _loaded(ctx)
    hint = f"Improve the model and measure again; the gate is the policy's stages.{ctx.stage}.metrics."
    for gate in gates:
        low, high = _number(gate.min), _number(gate.max)
        matching = [r for r in results if gate.applies_to(metric=r.metric, dataset=r.dataset, split=r.split)]
        if not matching:
            yield GATE_UNMATCHED.finding(
                f"no result for {gate.scope()}; the {ctx.stage} gate needs one",
                path="benchmarks", hint="Measure it and add it to a benchmark results file.")
        for result in matching:
            where = dict(file=result.file, path=f"results[{result.index}].value")
            if low is not None and result.value < low:
                yield GATE_VIOLATED.finding(
                    f"{result.label} is {_shown(result.value)}; "
                    f"the {ctx.stage} floor is {_shown(low)}", hint=hint, **where)
            if high is not None and result.value > high:
                yield GATE_VIOLATED.finding(
                    f"{result.label} is {_shown(result.value)}; "
                    f"the {ctx.stage} ceiling is {_shown(high)}", hint=hint, **where)


def _reference(manifest) -> str:
    return f"{manifest.name}@{manifest.version}"


@register()
def champion_regression(ctx):
    """MG607-MG611: the challenger's results against the champion's, under the stage's limits."""
    champion = ctx.champion
    if champion is None:
        return
    from modelgate.core.benchmarks.regression import Verdict, compare

    if champion.manifest is None:
        reasons = [f.message for f in champion.manifest_result.findings]
        yield CHAMPION_UNREADABLE.finding(
            "cannot compare with the champion: its manifest is unreadable"
            + (f" ({reasons[0]})" if reasons else ""),
            hint="Pass a readable champion bundle with --champion.")
        return
    ours, theirs = _reference(ctx.typed), _reference(champion.typed)
    if champion.typed.name != ctx.typed.name:
        yield CHAMPION_MISMATCH.finding(f"the champion is {theirs}, another model than {ours}",
                                        path="name")
    elif ours == theirs:
        yield CHAMPION_MISMATCH.finding(f"the champion is {theirs}, this very version", path="version")
    mine, _ = _loaded(ctx)
    their_results, their_problems = _loaded(champion)
    for problem in their_problems:
        # The location would point into the champion, not this bundle: name it in the message.
        yield NOT_COMPARABLE.finding(
            f"champion {theirs}, {problem.file}: {problem.message}; its results are not compared")
    if not their_results:
        yield NOT_COMPARABLE.finding(f"the champion {theirs} has no benchmark results to compare with",
                                     path="benchmarks")
        return
    regression = ctx.gates.regression
    outcome = compare(mine, their_results, regression)
    for old in outcome.champion_only:
        yield NOT_COMPARABLE.finding(
            f"cannot compare {old.label}: the champion {theirs} reports it, this version does not",
            path="benchmarks", hint="Measure the same metric on the same dataset, split and target.")
    for new, old in outcome.direction_conflicts:
        yield NOT_COMPARABLE.finding(
            f"cannot compare {new.label}: higher_is_better is {new.higher_is_better} here "
            f"but {old.higher_is_better} in the champion {theirs}",
            file=new.file, path=f"results[{new.index}].higher_is_better")
    located = {r.key: r for r in reversed(mine)}  # the first result of a key is the one compared
    for item in outcome.metrics:
        source = located[item.key]
        where = dict(file=source.file, path=f"results[{source.index}].value")
        change = f"{item.label}: {item.describe_change()} against the champion {theirs}"
        if item.verdict is Verdict.EXCEEDS_LIMIT:
            yield REGRESSION.finding(
                f"{change}; {ctx.stage} allows a loss of {item.tolerance.describe()} ({item.direction})",
                **where)
        elif item.verdict is Verdict.NO_LIMIT:
            yield REGRESSION.finding(
                f"{change}; the {ctx.stage} stage sets no regression limit ({item.direction})",
                severity=Severity.WARNING, **where)
        else:
            status = {Verdict.IMPROVED: "improved", Verdict.UNCHANGED: "unchanged",
                      Verdict.WITHIN_LIMITS: f"worse, within {item.tolerance.describe()}"}[item.verdict]
            yield COMPARED.finding(f"{change}, {status}", **where)
