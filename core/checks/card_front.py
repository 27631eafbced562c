"""MG511, MG512: a Hugging Face card's front matter agrees with the manifest on lineage and metrics.

Cards written for the Hugging Face Hub name the model they were fine-tuned from
(``base_model:``) and the metrics they report (``metrics:``) in their front matter.
License, name, version and datasets are compared in :mod:`.model_card`; these two
are compared here, with the manifest's ``provenance.parent`` and the benchmark results.
"""

from __future__ import annotations

import re

from modelgate.core.bundle.reader import MODEL_CARD
from modelgate.core.checks import register
from modelgate.core.checks.model_card import card_of
from modelgate.core.findings import Severity
from modelgate.core.rules import rule

BASE_MODEL_DIFFERS = rule(
    "MG511", title="Model card names a base model the manifest does not", severity=Severity.WARNING,
    rationale="""A card's `base_model:` says which model this one was fine-tuned or derived from.
    The manifest records the same lineage in `provenance.parent`, which auditors, the BOMs and
    the registry read; when the two disagree, or the manifest records none, the lineage a
    reviewer sees depends on which file they open.""",
    fix="""Set `provenance.parent` in bundle.yaml to the base model (`name@version`), or correct
    the card's `base_model:`.""",
)
METRICS_UNREPORTED = rule(
    "MG512", title="Model card names metrics the benchmark results do not report",
    severity=Severity.WARNING,
    rationale="""A card's `metrics:` tells readers how the model was judged. A metric named there
    that no benchmark result file reports is a claim without a number behind it: the gates and
    the comparison with the champion cannot check it.""",
    fix="""Add the metric's results to a file under benchmarks/, or remove it from the card's
    `metrics:`.""",
)


def _model_key(name: str) -> str:
    """A model name compared without its Hub namespace or version: "org/llama-2@7b" is "llama-2"."""
    return name.strip().partition("@")[0].rsplit("/", 1)[-1].casefold()


def _metric_key(name: str) -> str:
    """A metric name compared without case or separators: "F1-score", "f1_score" and "F1 Score" agree."""
    return re.sub(r"[\s_\-.]+", "", name).casefold()


@register()
def card_base_model(ctx):
    """MG511: the card's base_model is the manifest's provenance.parent."""
    card = card_of(ctx)
    front = card.front if card is not None else None
    value = front.value("base_model") if front is not None else None
    named = [n for n in (value.items if value is not None else ()) if n.strip()]
    if not named:
        return
    parent = ctx.typed.provenance.parent
    where = dict(file=MODEL_CARD, line=card.front_matter_line("base_model"))
    if parent is None:
        yield BASE_MODEL_DIFFERS.finding(
            f"{MODEL_CARD} names base model {', '.join(repr(n) for n in named)} but bundle.yaml "
            "records no provenance.parent", **where,
            hint="Set `provenance.parent: NAME@VERSION` in bundle.yaml to the model this one derives from.")
    elif _model_key(parent) not in {_model_key(n) for n in named}:
        yield BASE_MODEL_DIFFERS.finding(
            f"{MODEL_CARD} names base model {', '.join(repr(n) for n in named)} but bundle.yaml "
            f"says provenance.parent {parent!r}", **where,
            hint="Make the card's `base_model:` and `provenance.parent` name the same model.")


@register()
def card_metrics(ctx):
    """MG512: every metric the card's front matter names has a benchmark result."""
    card = card_of(ctx)
    front = card.front if card is not None else None
    value = front.value("metrics") if front is not None else None
    named = [n for n in (value.items if value is not None else ()) if n.strip()]
    if not named:
        return
    results, _ = ctx.benchmark_results()
    reported = {_metric_key(result.metric) for result in results}
    missing = [n for n in named if _metric_key(n) not in reported]
    if missing:
        yield METRICS_UNREPORTED.finding(
            f"{MODEL_CARD} names metric{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(n) for n in missing)} that no benchmark result reports",
            file=MODEL_CARD, line=card.front_matter_line("metrics"),
            hint="Add the results to a file under benchmarks/, or take the metric out of the card.")
