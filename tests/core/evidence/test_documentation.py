"""Technical documentation by template: the shipped EU AI Act Annex IV layout and one of the
organisation's own, as HTML and PDF, with every gap marked and what would fill it."""

from __future__ import annotations

import pytest

from modelgate.core.cli.main import main
from modelgate.core.errors import UsageError
from modelgate.core.evidence.documentation import load_template
from tests.evidence_support import Parts, pdf_text

ANNEX_IV = ("General description", "Elements of the AI system", "Monitoring, functioning and control",
            "performance metrics", "Risk management", "Changes made through the life cycle",
            "Harmonised standards", "EU declaration of conformity", "Post-market monitoring")


@pytest.fixture
def demo_env(demo_registry_copy, monkeypatch):
    monkeypatch.setenv("MODELGATE_REGISTRY", demo_registry_copy)
    monkeypatch.setenv("MODELGATE_USER", "ben")


@pytest.mark.slow
def test_the_annex_iv_documentation_of_a_demo_version_has_every_section_and_marks_gaps(demo_env, tmp_path):
    html, pdf = tmp_path / "annex.html", tmp_path / "annex.pdf"
    for out in (html, pdf):
        assert main(["report", "credit-risk@1.1.0", "--template", "eu-ai-act-annex-iv", "--output", str(out)]) == 0
    text = " ".join(Parts(html.read_text()).text)
    for heading in ANNEX_IV:
        assert heading in text
    # Filled from the card, the manifest and the registry ...
    assert "Ranks consumer loan applications" in text and "loan-applications-holdout" in text
    assert "staging -> production (promote) by chen" in text
    # ... and what the demo does not have is said plainly, with what would fill it.
    assert "MISSING: nothing on record. Filled by a 'Declaration of conformity' section in MODEL_CARD.md." in text
    assert "item(s) missing" in text
    printed = " ".join(pdf_text(pdf).split())
    assert "Post-market monitoring" in printed and "MISSING: nothing on record" in printed


def test_an_organisation_adds_its_own_template_without_code(demo_env, tmp_path):
    own = tmp_path / "iso-42001.yaml"
    own.write_text("template_format: modelgate.documentation/v1\ntitle: ISO/IEC 42001 AI system record\n"
                   "sections:\n  - title: A.6 AI system life cycle\n    facts: [decisions, card:Limitations]\n"
                   "  - title: A.7 Data for AI systems\n    facts: [datasets, card:Data quality]\n")
    out = tmp_path / "iso.html"
    assert main(["report", "credit-risk@1.1.0", "--template", str(own), "--output", str(out)]) == 0
    text = " ".join(Parts(out.read_text()).text)
    assert "ISO/IEC 42001 AI system record" in text and "A.7 Data for AI systems" in text
    assert "Filled by a 'Data quality' section in MODEL_CARD.md" in text


def test_a_template_naming_an_unknown_fact_or_missing_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("template_format: modelgate.documentation/v1\nsections:\n  - title: X\n    facts: [salary]\n")
    with pytest.raises(UsageError, match="salary"):
        load_template(str(bad))
    with pytest.raises(UsageError, match="no documentation template") as refused:
        load_template("no-such-template")
    assert "eu-ai-act-annex-iv" in refused.value.hint
