"""Model cards written the way published cards are: the Hugging Face template's headings,
a Llama-2-style card with bold headings and combined sections. The texts are written here
from those layouts' structure; only the headings follow them."""

from __future__ import annotations

from modelgate.core import resources
from modelgate.core.bundle import safeyaml
from modelgate.core.bundle.lock import dump_manifest, lock_bundle
from modelgate.core.findings import Severity
from modelgate.core.policy.document import load_policy
from tests.core.checks.test_model_card import bundle, check, default_policy  # noqa: F401 (fixtures)
from tests.factory import findings, policy_file, rules_of, validate

FRONT = "---\nlicense: apache-2.0\nname: tiny-classifier\nversion: 1.0.0\n---\n"

HUGGING_FACE_STYLE = FRONT + """
# Model Card for tiny-classifier

## Model Details

### Model Description

A gradient-boosted classifier that scores loan applications for the retail credit team.

## Uses

### Direct Use

Ranking incoming applications for manual review by trained underwriters in the bank.

### Out-of-Scope Use

Automatic rejection without a human decision, and any use outside retail lending.

## Bias, Risks, and Limitations

Applicants with thin credit files get less reliable scores, and the training period covers
one economic cycle only; fairness across age groups was measured but not across regions.

## Training Details

### Training Data

Two million anonymised applications from 2019 to 2023, deduplicated, with outcomes after
eighteen months as labels.

### Training Procedure

Five-fold cross-validation with early stopping on log loss.

## Evaluation

### Testing Data, Factors & Metrics

A held-out 2024 sample of 200,000 applications, measured by AUC and calibration error.

### Results

AUC 0.81 overall, 0.78 for applicants under 25, calibration error below two percent.
"""

LLAMA_STYLE = FRONT + """
# **Model Details**

Developed by the credit analytics team as a small tabular classifier for loan applications.

# **Intended Use**

**Intended Use Cases** Scoring retail loan applications to prioritise manual review by the
underwriting staff of the bank.

**Out-of-scope Uses** Automated decisions without a human, other products, other countries.

# **Training Data**

Anonymised applications collected between 2019 and 2023 from the retail channel, labelled
with repayment outcomes after eighteen months.

# **Evaluation Results**

On the 2024 hold-out set the model reaches an AUC of 0.81 and stays within two points of
that for every age band that was measured.

# **Ethical Considerations and Limitations**

Scores can disadvantage applicants with short credit histories; the model has not been
tested outside the domestic market, and reviewers must not treat a score as a decision.
"""


def test_hugging_face_template_headings_cover_the_required_sections(bundle, check):
    report = check(bundle(HUGGING_FACE_STYLE))
    assert not rules_of(report) & {"MG504", "MG505", "MG508"}, \
        [f.message for f in report.findings if f.rule.startswith("MG5")]


def test_llama_style_bold_and_combined_headings_cover_the_required_sections(bundle, check):
    report = check(bundle(LLAMA_STYLE))
    assert not rules_of(report) & {"MG504", "MG505", "MG508"}, \
        [f.message for f in report.findings if f.rule.startswith("MG5")]


def test_synonyms_come_from_the_policy_and_can_be_switched_off(bundle, check, tmp_path):
    policy = load_policy(policy_file(tmp_path, lambda p: p["model_card"].update(section_synonyms={})))
    report = check(bundle(HUGGING_FACE_STYLE), policy=policy)
    missing = {f.message for f in findings(report, "MG504")}
    assert missing == {'MODEL_CARD.md has no "Intended use" section',
                       'MODEL_CARD.md has no "Limitations" section',
                       'MODEL_CARD.md has no "Ethical considerations" section'}


def test_template_text_is_a_warning_at_draft_and_an_error_from_candidate(bundle):
    card = resources.text("templates/starter/MODEL_CARD.md").replace("${name}", "tiny-classifier")
    card = card.replace("version: 0.1.0", "version: 1.0.0")
    root = bundle(card)
    draft = findings(validate(root, stage="draft"), "MG508")
    candidate = findings(validate(root, stage="candidate"), "MG508")
    assert len(draft) == len(candidate) == 5
    assert {f.severity for f in draft} == {Severity.WARNING}
    assert {f.severity for f in candidate} == {Severity.ERROR}


def test_front_matter_datasets_are_cross_checked_with_the_provenance(bundle, check):
    root = bundle(HUGGING_FACE_STYLE.replace("version: 1.0.0\n", "version: 1.0.0\ndatasets:\n"
                                             "  - acme/loan-applications\n  - acme/Unknown-Set\n"))
    manifest = safeyaml.load((root / "bundle.yaml").read_text())
    manifest.setdefault("provenance", {})["datasets"] = [{"name": "loan-applications", "version": "1"}]
    (root / "bundle.yaml").write_text(dump_manifest(manifest))
    lock_bundle(root)
    [finding] = findings(check(root), "MG510")
    assert finding.message == "MODEL_CARD.md names dataset 'acme/Unknown-Set' that provenance.datasets does not list"
    assert finding.severity is Severity.WARNING
