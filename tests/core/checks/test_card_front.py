"""A Hugging Face style card's front matter (license, datasets, metrics, base_model) against bundle.yaml.

The cards are written here in the Hub's layout: YAML front matter with the Hub's keys,
then the template's headings; the prose is this project's own.
"""

from __future__ import annotations

from modelgate.core.bundle import safeyaml
from modelgate.core.bundle.lock import dump_manifest, lock_bundle
from modelgate.core.findings import Severity
from tests.core.checks.test_model_card import bundle, check, default_policy  # noqa: F401 (fixtures)
from tests.factory import findings

BODY = """
# Loan triage classifier

A small tabular classifier fine-tuned from an in-house base model to rank loan applications.

## Uses

### Direct Use

Ordering the manual review queue of the retail credit team so urgent files come first.

### Out-of-Scope Use

Any automatic decision about an applicant; other lending products; other markets.

## Bias, Risks, and Limitations

Thin credit files receive noisier scores, and the data covers a single economic cycle, so
reviewers must not read a score as a verdict on an applicant.

## Training Details

### Training Data

Anonymised retail applications from 2019 to 2023 labelled with outcomes after eighteen months.

## Evaluation

### Results

Accuracy and F1 on the held-out 2024 sample, per region and per age band.
"""


def hub_card(front: str) -> str:
    return "---\nlicense: apache-2.0\n" + front + "---\n" + BODY


def with_parent(root, parent):
    manifest = safeyaml.load((root / "bundle.yaml").read_text(encoding="utf-8"))
    if parent is None:
        manifest["provenance"].pop("parent", None)
    else:
        manifest["provenance"]["parent"] = parent
    (root / "bundle.yaml").write_text(dump_manifest(manifest), encoding="utf-8")
    lock_bundle(root)
    return root


def card_rules(report) -> dict:
    return {f.rule: f for f in report.findings if f.rule in {"MG506", "MG510", "MG511", "MG512"}}


def test_a_hub_card_that_agrees_with_the_manifest_raises_nothing(bundle, check):
    root = with_parent(bundle(hub_card(
        "datasets:\n  - acme/loans\nmetrics:\n  - accuracy\n  - F1\nbase_model: acme/loan-base\n")),
        "loan-base@2.1.0")
    assert card_rules(check(root)) == {}


def test_a_list_of_base_models_agrees_when_one_of_them_is_the_parent(bundle, check):
    root = with_parent(bundle(hub_card("base_model:\n  - acme/encoder-small\n  - acme/loan-base\n")),
                       "loan-base@2.1.0")
    assert "MG511" not in card_rules(check(root))


def test_a_base_model_other_than_the_parent_is_a_finding_at_its_line(bundle, check):
    root = with_parent(bundle(hub_card("base_model: acme/other-base\n")), "loan-base@2.1.0")
    found = findings(check(root), "MG511")
    assert [f.message for f in found] == [
        "MODEL_CARD.md names base model 'acme/other-base' but bundle.yaml says provenance.parent "
        "'loan-base@2.1.0'"]
    assert found[0].severity is Severity.WARNING and found[0].location.file == "MODEL_CARD.md"
    lines = (root / "MODEL_CARD.md").read_text(encoding="utf-8").split("\n")
    assert lines[found[0].location.line - 1].startswith("base_model:")


def test_a_base_model_without_a_parent_in_the_manifest_is_a_finding(bundle, check):
    root = with_parent(bundle(hub_card("base_model: acme/loan-base\n")), None)
    [found] = findings(check(root), "MG511")
    assert "records no provenance.parent" in found.message


def test_metrics_without_a_benchmark_result_are_named(bundle, check):
    root = bundle(hub_card("metrics:\n  - accuracy\n  - f1_score\n  - bleu\n  - exact-match\n"))
    # The clean bundle reports accuracy, f1 and latency: f1_score is not f1, so it is named too.
    [found] = findings(check(root), "MG512")
    assert found.message == ("MODEL_CARD.md names metrics 'f1_score', 'bleu', 'exact-match' "
                             "that no benchmark result reports")
    lines = (root / "MODEL_CARD.md").read_text(encoding="utf-8").split("\n")
    assert lines[found.location.line - 1].startswith("metrics:")


def test_metric_names_match_without_case_or_separators(bundle, check):
    root = bundle(hub_card("metrics:\n  - Accuracy\n  - F1\n  - latency-p95-ms\n"))
    assert "MG512" not in card_rules(check(root))


def test_every_mismatch_of_a_hub_card_is_reported_together(bundle, check):
    card = hub_card("datasets:\n  - acme/loans\n  - acme/web-crawl\nmetrics: [accuracy, rouge]\n"
                    "base_model: acme/other-base\n").replace("license: apache-2.0", "license: mit")
    root = with_parent(bundle(card), "loan-base@2.1.0")
    found = card_rules(check(root))
    assert set(found) == {"MG506", "MG510", "MG511", "MG512"}
    assert "'acme/web-crawl'" in found["MG510"].message and "'rouge'" in found["MG512"].message
    lines = (root / "MODEL_CARD.md").read_text(encoding="utf-8").split("\n")
    for rule, key in (("MG506", "license"), ("MG510", "datasets"), ("MG511", "base_model"), ("MG512", "metrics")):
        assert lines[found[rule].location.line - 1].startswith(f"{key}:"), rule
