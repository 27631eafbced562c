"""MG5xx: the model card's presence, front matter, required sections and consistency."""

from __future__ import annotations

import shutil

import pytest

from modelgate.core import resources
from modelgate.core.findings import Severity
from modelgate.core.policy.document import load_policy
from tests.factory import findings, policy_file, CARD, edit_manifest, rules_of, validate

MG5 = {f"MG50{n}" for n in range(1, 10)}
CLEAN_CARD = CARD.format(name="tiny-classifier", version="1.0.0", license="Apache-2.0")
LIMITATIONS = ("## Limitations\nTrained on applicants from one country; accuracy drops for thin "
               "credit files and for applicants under 21.\n")


@pytest.fixture(scope="module")
def default_policy():
    return load_policy()


@pytest.fixture
def bundle(template, tmp_path):
    """A copy of the clean bundle, with another card (text or bytes) when given."""
    made = []

    def make(card=None):
        made.append(card)
        root = shutil.copytree(template, tmp_path / f"b{len(made)}")
        if isinstance(card, bytes):
            (root / "MODEL_CARD.md").write_bytes(card)
        elif card is not None:
            (root / "MODEL_CARD.md").write_text(card, encoding="utf-8", newline="")
        return root
    return make


@pytest.fixture
def check(default_policy):
    """Validate at draft (the card is checked at every stage) under the default or a given policy."""
    return lambda root, policy=None: validate(root, stage="draft", policy=policy or default_policy)


def test_clean_card_has_no_findings_at_production(template):
    assert not rules_of(validate(template)) & MG5


def test_clean_card_with_crlf_line_endings(bundle, check):
    assert not rules_of(check(bundle(CLEAN_CARD.replace("\n", "\r\n")))) & MG5


# MG501-MG503 ---------------------------------------------------------------------------

def test_missing_card(bundle, check):
    root = bundle()
    (root / "MODEL_CARD.md").unlink()
    report = check(root)
    [finding] = findings(report, "MG501")
    assert finding.message == "the bundle has no MODEL_CARD.md"
    assert not rules_of(report) & (MG5 - {"MG501"})


def test_missing_card_points_at_a_misnamed_one(bundle, check):
    root = bundle()
    (root / "MODEL_CARD.md").rename(root / "model_card.md")
    [finding] = findings(check(root), "MG501")
    assert finding.hint.startswith("Found model_card.md")


def test_card_not_utf8(bundle, check):
    card = CLEAN_CARD.encode("utf-8") + "\nna\xefve\n".encode("latin-1")
    [finding] = findings(check(bundle(card)), "MG502")
    assert finding.message.startswith("MODEL_CARD.md is not UTF-8 (invalid byte 0xef")
    assert finding.location.line == CLEAN_CARD.count("\n") + 2


def test_card_too_large(bundle, check):
    [finding] = findings(check(bundle(CLEAN_CARD + "word " * 220_000)), "MG502")
    assert finding.message == "MODEL_CARD.md is larger than 1 MiB"


def test_front_matter_with_duplicate_keys(bundle, check):
    card = CLEAN_CARD.replace("license: Apache-2.0\n", "license: Apache-2.0\nlicense: MIT\n")
    [finding] = findings(check(bundle(card)), "MG503")
    assert "duplicate key 'license'" in finding.message
    assert finding.location.line == 5


def test_front_matter_not_a_mapping(bundle, check):
    card = "---\njust a sentence\n---\n" + CLEAN_CARD.split("---\n", 2)[2]
    [finding] = findings(check(bundle(card)), "MG503")
    assert finding.message == "front matter is a YAML str, not a mapping of keys"
    assert finding.location.line == 2


def test_front_matter_never_closed(bundle, check):
    card = CLEAN_CARD.replace("---\n# tiny", "# tiny", 1)
    report = check(bundle(card))
    [finding] = findings(report, "MG503")
    assert finding.location.line == 1
    assert "MG504" not in rules_of(report)  # the sections are still read


def test_no_front_matter_is_fine(bundle, check):
    assert not rules_of(check(bundle(CLEAN_CARD.split("---\n", 2)[2]))) & MG5


# MG504 / MG505 -------------------------------------------------------------------------

def test_missing_required_section(bundle, check):
    [finding] = findings(check(bundle(CLEAN_CARD.replace(LIMITATIONS, ""))), "MG504")
    assert finding.message == 'MODEL_CARD.md has no "Limitations" section'
    assert '"Intended use", "Training data"' in finding.hint


def test_section_only_inside_a_code_block_is_missing(bundle, check):
    card = CLEAN_CARD.replace(LIMITATIONS, "```\n" + LIMITATIONS + "```\n")
    assert [f.message for f in findings(check(bundle(card)), "MG504")] == [
        'MODEL_CARD.md has no "Limitations" section']


@pytest.mark.parametrize("heading", ["# LIMITATIONS", "### limitations:", "Limitations (known)\n---",
                                     "## **Limitations**"])
def test_heading_variants_match(bundle, check, heading):
    card = CLEAN_CARD.replace("## Limitations", heading)
    assert not rules_of(check(bundle(card))) & {"MG504", "MG505"}


def test_heading_that_only_starts_with_the_name_does_not_match(bundle, check):
    card = CLEAN_CARD.replace("## Limitations", "## Limitations and scope")
    assert "MG504" in rules_of(check(bundle(card)))


def test_short_section(bundle, check):
    card = CLEAN_CARD.replace(LIMITATIONS, "## Limitations\nToo short here.\n")
    [finding] = findings(check(bundle(card)), "MG505")
    assert finding.message == 'section "Limitations" has 3 words; the policy asks for at least 10'
    assert finding.location.line == CLEAN_CARD.split("\n").index("## Limitations") + 1


def test_empty_section(bundle, check, tmp_path):
    card = CLEAN_CARD.replace(LIMITATIONS, "## Limitations\n<!-- to do -->\n\n")
    no_floor = policy_file(tmp_path, lambda p: p["model_card"].pop("min_words_per_section"))
    [finding] = findings(check(bundle(card), no_floor), "MG505")
    assert finding.message == 'section "Limitations" is empty'


def test_short_section_passes_without_a_floor(bundle, check, tmp_path):
    card = CLEAN_CARD.replace(LIMITATIONS, "## Limitations\nToo short here.\n")
    no_floor = policy_file(tmp_path, lambda p: p["model_card"].update(min_words_per_section=0))
    assert "MG505" not in rules_of(check(bundle(card), no_floor))


def test_policy_sections_are_the_ones_required(bundle, check, tmp_path):
    policy = policy_file(tmp_path, lambda p: p["model_card"].update(required_sections=["Citation"]))
    [finding] = findings(check(bundle(), policy), "MG504")
    assert finding.message == 'MODEL_CARD.md has no "Citation" section'
    card = CLEAN_CARD + ("\n## Citation\nPlease cite the internal report CR-2024-17 by the "
                         "credit analytics team.\n")
    assert not rules_of(check(bundle(card), policy)) & MG5


# MG506 / MG507 -------------------------------------------------------------------------

def test_card_license_differs(bundle, check):
    card = CLEAN_CARD.replace("license: Apache-2.0", "license: MIT")
    [finding] = findings(check(bundle(card)), "MG506")
    assert finding.message == "MODEL_CARD.md gives license 'MIT' but bundle.yaml says 'Apache-2.0'"
    assert finding.location.line == 4
    assert finding.severity is Severity.ERROR


def test_card_license_equivalent_spelling(bundle, check):
    root = bundle(CARD.format(name="tiny-classifier", version="1.0.0", license="apache-2.0 or mit"))
    edit_manifest(root, lambda m: m.update(license="MIT OR Apache-2.0"))
    assert "MG506" not in rules_of(check(root))


def test_card_license_unparseable_on_both_sides(bundle, check):
    root = bundle(CLEAN_CARD.replace("license: Apache-2.0", "license: other"))
    edit_manifest(root, lambda m: m.update(license="Other"))
    assert "MG506" not in rules_of(check(root))


@pytest.mark.parametrize("line, expected", [
    ("version: 1.1.0", "MODEL_CARD.md gives version '1.1.0' but bundle.yaml says version '1.0.0'"),
    ("version: 1.0", "MODEL_CARD.md gives version 1.0 but bundle.yaml says version '1.0.0'"),
    ("model_name: other-model", "MODEL_CARD.md gives model_name 'other-model' but bundle.yaml says "
                                "name 'tiny-classifier'"),
])
def test_card_identity_differs(bundle, check, line, expected):
    key = line.split(":")[0]
    original = {"version": "version: 1.0.0", "model_name": "model_name: tiny-classifier"}[key]
    [finding] = findings(check(bundle(CLEAN_CARD.replace(original, line))), "MG507")
    assert finding.message == expected
    assert finding.severity is Severity.WARNING


# MG508 ---------------------------------------------------------------------------------

def _template_section(name: str) -> str:
    text = resources.text("templates/starter/MODEL_CARD.md")
    start = text.index(f"## {name}\n")
    return text[start:text.index("\n## ", start + 1) + 1]


def test_template_guidance_left_in_place(bundle, check):
    card = CLEAN_CARD.replace(LIMITATIONS, _template_section("Limitations"))
    [finding] = findings(check(bundle(card)), "MG508")
    assert finding.message == 'section "Limitations" still holds the template text'


def test_template_guidance_with_a_line_added(bundle, check):
    guidance = _template_section("Limitations").replace("\n\n", "\n\nAccuracy drops at night.\n\n", 1)
    assert "MG508" in rules_of(check(bundle(CLEAN_CARD.replace(LIMITATIONS, guidance))))


def test_the_starter_card_fails_on_every_required_section(bundle, check):
    card = resources.text("templates/starter/MODEL_CARD.md").replace("${name}", "tiny-classifier")
    card = card.replace("version: 0.1.0", "version: 1.0.0")
    assert len(findings(check(bundle(card)), "MG508")) == 5


# MG509 ---------------------------------------------------------------------------------

def test_active_html_and_remote_images(bundle, check):
    card = CLEAN_CARD + "\n<script>track()</script>\n![roc](https://cdn.example.com/roc.png)\n"
    report = check(bundle(card))
    assert [(f.message, f.location.line) for f in findings(report, "MG509")] == [
        ("MODEL_CARD.md contains a raw <script> element", CLEAN_CARD.count("\n") + 2),
        ("MODEL_CARD.md contains a remote image (https://cdn.example.com/roc.png)",
         CLEAN_CARD.count("\n") + 3),
    ]


def test_html_shown_as_code_is_fine(bundle, check):
    card = CLEAN_CARD + "\n```html\n<script>track()</script>\n```\nUse `<iframe>` nowhere.\n"
    assert "MG509" not in rules_of(check(bundle(card)))
