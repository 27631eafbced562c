"""MODEL_CARD.md parsing: front matter, headings, sections, words, risky markup."""

from __future__ import annotations

import pytest

from modelgate.core import resources
from modelgate.core.bundle import modelcard
from modelgate.core.bundle.modelcard import CardError, parse_card


def titles(card):
    return [(s.level, s.title, s.line) for s in card.sections]


def test_atx_headings_with_levels_lines_and_closing_hashes():
    card = parse_card("# Model\n\n## Intended use ##\ntext\n###### Deep #\n#hashtag\n"
                      "    # indented code\n#\n")
    assert titles(card) == [(1, "Model", 1), (2, "Intended use", 3), (6, "Deep", 5), (1, "", 8)]


def test_setext_headings():
    card = parse_card("Model name\n==========\nintro\n\nIntended\nuse\n---\nbody text\n")
    assert titles(card) == [(1, "Model name", 1), (2, "Intended use", 5)]
    assert card.sections[1].body == "body text"
    assert card.sections[0].body.startswith("intro\n\nIntended\nuse\n---")


def test_dashes_that_are_not_setext_underlines():
    text = "# A\n\n---\n\n- item\n---\n> quote\n---\n***\n---\n<div>\n---\n"
    assert titles(parse_card(text)) == [(1, "A", 1)]


def test_headings_inside_code_fences_are_ignored():
    text = ("# Card\n```python\n# a comment\n## not a section\n```\n"
            "~~~~\n# tilde\n~~~\n# still code\n~~~~\n"
            "````\n```\n# inner\n````\n## Real\n")
    assert [s.title for s in parse_card(text).sections] == ["Card", "Real"]


def test_an_unclosed_fence_hides_the_rest():
    assert [s.title for s in parse_card("# A\n```\n# B\n").sections] == ["A"]


def test_headings_inside_html_comments_are_ignored():
    text = "# A\n<!--\n## Hidden\n-->\ntext <!-- one\n## Also hidden\n-->\n## Shown <!-- note -->\n"
    assert titles(parse_card(text)) == [(1, "A", 1), (2, "Shown", 8)]


def test_section_body_runs_to_the_next_heading_of_same_or_higher_level():
    card = parse_card("# M\n## One\na b\n### Sub\nc\n## Two\nd\n# N\ne\n")
    one, sub, two = card.sections[1:4]
    assert one.body == "a b\n### Sub\nc"
    assert one.words == 4
    assert sub.body == "c"
    assert two.body == "d"
    assert card.sections[0].body.endswith("d")


def test_front_matter_is_split_and_lines_count_from_the_file_top():
    card = parse_card("---\nmodel_name: m\nversion: 1.0.0\nlicense: MIT\n---\n\n## Intended use\nx\n")
    assert card.front_matter == {"model_name": "m", "version": "1.0.0", "license": "MIT"}
    assert card.front_matter_error is None
    assert card.body_line == 6
    assert titles(card) == [(2, "Intended use", 7)]
    assert card.front_matter_line("license") == 4
    assert card.front_matter_line("missing") is None


def test_front_matter_with_duplicate_keys_is_refused():
    card = parse_card("---\nlicense: MIT\nlicense: GPL-3.0-only\n---\n# M\n")
    assert card.front_matter is None
    assert "duplicate key 'license'" in card.front_matter_error.message
    assert card.front_matter_error.line == 3
    assert [s.title for s in card.sections] == ["M"]


def test_front_matter_that_is_not_a_mapping_or_not_yaml():
    assert "not a mapping" in parse_card("---\n- a\n- b\n---\n").front_matter_error.message
    broken = parse_card("---\nkey: [unclosed\n---\n")
    assert broken.front_matter_error.message.startswith("front matter: not valid YAML")
    with pytest.raises(CardError) as caught:
        modelcard.load_front_matter("a: &x 1\nb: *x\nc: [", first_line=5)
    assert caught.value.line >= 5


def test_unclosed_front_matter_is_an_error_and_the_text_stays_body():
    card = parse_card("---\ntitle: x\n# Heading\n")
    assert card.front_matter_error.line == 1
    assert [s.title for s in card.sections] == ["Heading"]


def test_no_front_matter():
    card = parse_card("# M\n\n---\n\nx\n")
    assert card.front_matter is None and card.front_matter_error is None
    assert card.body_line == 1


def test_empty_front_matter_is_an_empty_mapping():
    assert parse_card("---\n---\n# M\n").front_matter == {}


def test_a_card_with_only_front_matter():
    card = parse_card("---\nmodel_name: m\n---")
    assert card.front_matter == {"model_name": "m"}
    assert card.sections == ()
    assert card.body == ""


def test_crlf_and_cr_line_endings_read_like_lf():
    text = "---\nlicense: MIT\n---\n# M\nSetext\n---\nbody words here\n"
    expected = parse_card(text)
    for ending in ("\r\n", "\r"):
        card = parse_card(text.replace("\n", ending))
        assert card.front_matter == expected.front_matter
        assert card.sections == expected.sections


def test_decode_is_strict_utf8_and_drops_the_bom():
    assert modelcard.decode("\ufeff# M\r\n".encode()) == "# M\n"
    with pytest.raises(CardError) as caught:
        modelcard.decode(b"# M\n\nna\xefve\n")
    assert caught.value.line == 3


def test_words_exclude_markup():
    text = ("**Bold** and _italic_ [link text](https://example.com/a) ![alt](img.png)\n"
            "<!-- hidden words -->\n<b>tag</b>\n- item\n| a | b |\n|---|---|\n```\ncode\n```\n"
            "[ref]: https://example.com\nhttps://example.com/bare don't")
    assert modelcard.words(text) == ["bold", "and", "italic", "link", "text", "alt", "tag", "item",
                                     "a", "b", "code", "url", "don't"]
    assert modelcard.count_words("## \n\n---\n***\n") == 0


@pytest.mark.parametrize("title, name, expected", [
    ("Intended use", "intended use", True),
    ("  INTENDED   USE ", "Intended use", True),
    ("**Intended use**", "Intended use", True),
    ("Intended use:", "Intended use", True),
    ("Intended use (internal teams)", "Intended use", True),
    ("Limitations.", "Limitations", True),
    ("Limitations — known", "Limitations", True),
    ("Intended use and users", "Intended use", False),
    ("Intended", "Intended use", False),
    ("Limitationsx", "Limitations", False),
])
def test_heading_matches(title, name, expected):
    assert modelcard.heading_matches(title, name) is expected


def test_find_returns_every_matching_section():
    card = parse_card("## Limitations\na\n### LIMITATIONS:\nb\n## Evaluation\n")
    assert [s.line for s in card.find("limitations")] == [1, 3]


def test_overlap_tells_guidance_from_real_text():
    template = parse_card(resources.text("templates/starter/MODEL_CARD.md"))
    guidance = template.find("Limitations")[0].body
    assert modelcard.overlap(guidance, guidance) == 1.0
    assert modelcard.overlap(guidance, "Our notes.\n\n" + guidance.upper() + "\nMore.") == 1.0
    real = "The model performs poorly on thin credit files and on applicants under 21."
    assert modelcard.overlap(guidance, real) < 0.2
    assert modelcard.overlap("", real) == 0.0


def test_risky_markup_outside_code_and_comments():
    text = ("ok <script>alert(1)</script>\n"
            "![chart](https://tracker.example.com/p.png) ![local](charts/roc.png)\n"
            "`<iframe src=x>` in inline code\n"
            "```html\n<iframe src=x></iframe>\n```\n"
            "<!-- <script> -->\n"
            '<img src="//cdn.example.com/x.png" onerror="steal()">\n'
            "[click](javascript:alert(1))\n")
    assert modelcard.risky_markup(text) == [
        (1, "a raw <script> element"),
        (2, "a remote image (https://tracker.example.com/p.png)"),
        (8, "an inline event handler (onerror=)"),
        (8, "a remote image (//cdn.example.com/x.png)"),
        (9, "a javascript: URL"),
    ]
    assert modelcard.risky_markup("# Plain card\n\nNothing active here.\n") == []


@pytest.mark.parametrize("chunk", ["<!--", "[", "![a](", "<a ", "## h\n", "a\n", "[a](", "```\n",
                                   "<a onx \n", "-->\n<!--\n"])
def test_hostile_cards_are_parsed_in_linear_time(chunk):
    import time

    def cpu_seconds(size: int) -> float:
        text = "## Limitations\n" + chunk * (size // len(chunk))
        began = time.process_time()
        card = parse_card(text)
        sum(s.words for s in card.sections)
        modelcard.risky_markup(card.body)
        return time.process_time() - began

    # Processor time, not wall time, so a busy machine does not matter: four times the input
    # costs about four times the work when parsing is linear, sixteen times when it is quadratic.
    small, large = cpu_seconds(32 * 1024), cpu_seconds(128 * 1024)
    assert large < 9 * small + 0.05, (small, large)
