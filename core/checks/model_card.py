"""MG5xx: the model card — readable, required sections written, consistent with the manifest."""

from __future__ import annotations

from functools import cache

from modelgate.core import resources
from modelgate.core.policy import licensing
from modelgate.core.policy.stages import at_least
from modelgate.core.bundle import modelcard
from modelgate.core.bundle.modelcard import normalize_heading
from modelgate.core.bundle.reader import MODEL_CARD
from modelgate.core.checks import register
from modelgate.core.checks.structure import PATH_ESCAPES
from modelgate.core.errors import BundleError, UnsafeBundleError
from modelgate.core.findings import Severity
from modelgate.core.rules import rule

CARD_MISSING = rule(
    "MG501", title="MODEL_CARD.md is missing", severity=Severity.ERROR,
    rationale="""The model card is where reviewers learn what the model is for, where it fails and
    what data it saw. A bundle without one cannot be reviewed responsibly.""",
    fix="""Add MODEL_CARD.md at the top of the bundle; `modelgate init NAME` writes a template
    with the sections the default policy requires.""",
)
CARD_UNREADABLE = rule(
    "MG502", title="MODEL_CARD.md cannot be read", severity=Severity.ERROR,
    rationale="""The card must be UTF-8 Markdown of at most 1 MiB so that every reviewer, portal and
    tool reads the same text; anything else is shown garbled or not at all.""",
    fix="""Save the card as UTF-8 and move large material (tables, images) into separate files.""",
)
FRONT_MATTER = rule(
    "MG503", title="Model card front matter is not valid YAML", severity=Severity.ERROR,
    rationale="""The front matter (between `---` lines at the top) states the model's name, version
    and license for portals and for the consistency checks. Broken YAML, duplicate keys or a
    missing closing `---` make it unreadable.""",
    fix="""Write the front matter as a YAML mapping with unique keys, closed by a `---` line.""",
)
SECTION_MISSING = rule(
    "MG504", title="Required model card section is missing", severity=Severity.ERROR,
    rationale="""The policy names the sections every card must have (intended use, limitations,
    ...), so that reviewers find the same facts in the same place for every model.""",
    fix="""Add a heading with the section's name (any level, any case) and write the section.""",
)
SECTION_SHORT = rule(
    "MG505", title="Required model card section is too short", severity=Severity.ERROR,
    rationale="""A heading with nothing, or almost nothing, under it satisfies the letter of the
    policy but tells reviewers nothing. The policy's `min_words_per_section` sets the floor.""",
    fix="""Write the section: what applies to this model, concretely.""",
)
LICENSE_DIFFERS = rule(
    "MG506", title="Model card license differs from the manifest", severity=Severity.ERROR,
    rationale="""Portals show the card's license; ModelGate checks the manifest's. When they differ,
    users may be told terms that are not the ones reviewed.""",
    fix="""Make `license` in the card's front matter equal to `license` in bundle.yaml.""",
)
IDENTITY_DIFFERS = rule(
    "MG507", title="Model card name or version differs from the manifest", severity=Severity.WARNING,
    rationale="""A card that names another model or version was usually copied from a previous
    release and not updated, so its content may describe a different model.""",
    fix="""Update `model_name` and `version` in the card's front matter (quote versions such as
    "1.10"), and check the text still fits this version.""",
)
TEMPLATE_TEXT = rule(
    "MG508", title="Model card section still holds the template text", severity=Severity.ERROR,
    rationale="""The starter card's guidance prose is long enough to pass a word count, so a card
    that was never written could look complete. Sections are compared with the template's.
    At draft it is a warning, since every bundle starts from the template; from candidate on,
    an error.""",
    fix="""Replace the guidance with the facts about this model.""",
)
DATASETS_DIFFER = rule(
    "MG510", title="Model card names datasets the manifest does not", severity=Severity.WARNING,
    rationale="""Cards written for the Hugging Face Hub list their datasets in the front matter
    (`datasets:`). A dataset named there but missing from `provenance.datasets` means the
    manifest's provenance, which auditors and the BOMs read, is incomplete or the card is
    out of date.""",
    fix="""Add the dataset to `provenance.datasets` in bundle.yaml, or correct the card.""",
)
ACTIVE_CONTENT = rule(
    "MG509", title="Model card holds active HTML or remote images", severity=Severity.WARNING,
    rationale="""ModelGate's viewer removes raw HTML, but portals and review tools may not: scripts,
    frames and event handlers could run there, and remote images tell a third party who opened
    the card and when.""",
    fix="""Use plain Markdown, and ship images inside the bundle with relative links.""",
)

TEMPLATE = "templates/starter/MODEL_CARD.md"
#: A required section sharing this much of the template's guidance (in runs of
#: three words or more) is taken as not yet written.
TEMPLATE_OVERLAP = 0.6


def _load(ctx):
    """``(card or None, findings)``, computed once per run."""

    def load():
        if MODEL_CARD not in ctx.bundle.files():
            others = [f for f in ctx.bundle.files()
                      if f.rsplit("/", 1)[-1].lower() == MODEL_CARD.lower()]
            hint = (f"Found {others[0]}: move or rename it to {MODEL_CARD} at the top of the bundle."
                    if others else "Write one from the template: `modelgate init NAME` creates it.")
            return None, [CARD_MISSING.finding(f"the bundle has no {MODEL_CARD}", file=MODEL_CARD,
                                               hint=hint)]
        try:
            text = modelcard.decode(ctx.bundle.read_bytes(MODEL_CARD, limit=modelcard.MAX_CARD_BYTES))
        except UnsafeBundleError as error:
            return None, [PATH_ESCAPES.finding(error.message, file=MODEL_CARD, hint=error.hint)]
        except OSError as error:
            return None, [CARD_UNREADABLE.finding(f"{MODEL_CARD} cannot be read ({error.strerror})",
                                                  file=MODEL_CARD)]
        except BundleError:
            return None, [CARD_UNREADABLE.finding(
                f"{MODEL_CARD} is larger than {modelcard.MAX_CARD_BYTES / 1024**2:g} MiB", file=MODEL_CARD,
                hint="Keep the card to prose; link large tables and images as separate files.")]
        except modelcard.CardError as problem:
            return None, [CARD_UNREADABLE.finding(f"{MODEL_CARD} is {problem.message}", file=MODEL_CARD,
                                                  line=problem.line, hint="Save the card as UTF-8.")]
        card = modelcard.parse_card(text)
        findings = []
        if card.front_matter_error:
            findings.append(FRONT_MATTER.finding(
                card.front_matter_error.message, file=MODEL_CARD, line=card.front_matter_error.line,
                hint="Front matter is a YAML mapping between a '---' first line and a closing '---'."))
        return card, findings

    return ctx.memo("model-card", load)


@cache
def _template_card() -> modelcard.ModelCard:
    return modelcard.parse_card(resources.text(TEMPLATE))


@register(needs_manifest=False)
def card_file(ctx):
    """MG501-MG503: the card exists, is readable UTF-8, and its front matter parses."""
    yield from _load(ctx)[1]


def _headings_hint(card, name: str) -> str:
    titles = [s.title for s in card.sections if s.title]
    listed = ", ".join(f'"{t}"' for t in titles[:15]) + (", ..." if len(titles) > 15 else "")
    have = f"The card's headings are: {listed}." if titles else "The card has no headings."
    return f'Add a heading such as "## {name}" and write the section. {have}'


def _synonyms(table) -> dict[str, tuple[str, ...]]:
    """The policy's other headings per required section (the shipped policy's when it sets none)."""
    if table is None:
        table = _default_synonyms()
    if not isinstance(table, dict):
        return {}
    return {normalize_heading(k): tuple(v for v in names if isinstance(v, str))
            for k, names in table.items() if isinstance(k, str) and isinstance(names, list)}


@cache
def _default_synonyms():
    from modelgate.core.policy.document import load_policy

    return load_policy().section_synonyms or {}


def card_of(ctx):
    """The bundle's parsed card, or ``None`` when it is missing or unreadable (MG501-MG503 say why)."""
    return _load(ctx)[0]


@register(needs_manifest=False)
def card_sections(ctx):
    """MG504, MG505, MG508: every required section is there, long enough, and not the template's."""
    card = _load(ctx)[0]
    if card is None:
        return
    required, floor = ctx.policy.required_sections, ctx.policy.min_words_per_section
    synonyms = _synonyms(ctx.policy.section_synonyms)
    for name in required:
        matches = card.find(name, synonyms=synonyms.get(normalize_heading(name), ()))
        if not matches:
            yield SECTION_MISSING.finding(f'{MODEL_CARD} has no "{name}" section', file=MODEL_CARD,
                                          hint=_headings_hint(card, name))
            continue
        section = max(matches, key=lambda s: s.words)
        count = section.words
        if count == 0:
            yield SECTION_SHORT.finding(f'section "{section.title}" is empty', file=MODEL_CARD,
                                        line=section.line, hint=f"Write the {name} section.")
        elif count < floor:
            yield SECTION_SHORT.finding(
                f'section "{section.title}" has {count} word{"s" if count != 1 else ""}; '
                f"the policy asks for at least {floor}", file=MODEL_CARD, line=section.line,
                hint=f"Say more about {name.lower()}: what applies to this model, concretely.")
        guidance = _template_card().find(name)
        if count and guidance and modelcard.overlap(guidance[0].body, section.body) >= TEMPLATE_OVERLAP:
            yield TEMPLATE_TEXT.finding(
                f'section "{section.title}" still holds the template text', file=MODEL_CARD,
                severity=None if at_least(ctx.stage, "candidate") else Severity.WARNING,
                line=section.line, hint="Replace the guidance with what applies to this model.")


def _same_license(card_value: str | None, manifest_value: str) -> bool:
    if card_value is None:
        return False
    try:
        return licensing.equivalent(licensing.parse(card_value), licensing.parse(manifest_value))
    except licensing.LicenseSyntaxError:
        return " ".join(card_value.split()).casefold() == " ".join(manifest_value.split()).casefold()


@register()
def card_front_matter(ctx):
    """MG506, MG507: the front matter agrees with bundle.yaml on license, name and version."""
    card = _load(ctx)[0]
    front = card.front if card is not None else None
    if not front or not front.values:
        return
    declared, given = ctx.typed.license, front.value("license")
    if given is not None and declared is not None \
            and not (given.quoted and _same_license(given.text, declared)):
        yield LICENSE_DIFFERS.finding(
            f"{MODEL_CARD} gives license {given.shown} but bundle.yaml says {declared!r}",
            file=MODEL_CARD, line=card.front_matter_line("license"),
            hint=f"Set `license: {declared}` in the card's front matter (or correct bundle.yaml).")
    for key, manifest_key in (("model_name", "name"), ("version", "version")):
        expected = getattr(ctx.typed, manifest_key)
        value = front.value(key)
        if value is None or expected is None:
            continue
        if value.text != expected:
            quote = " Quote it so YAML keeps it as text." if not value.quoted else ""
            yield IDENTITY_DIFFERS.finding(
                f"{MODEL_CARD} gives {key} {value.shown} but bundle.yaml says {manifest_key} {expected!r}",
                file=MODEL_CARD, line=card.front_matter_line(key),
                hint=f"Set `{key}: \"{expected}\"` in the card's front matter.{quote}")


def _dataset_key(name: str) -> str:
    """A dataset name compared without its Hub namespace: "org/imagenet-1k" is "imagenet-1k"."""
    return name.strip().rsplit("/", 1)[-1].casefold()


@register()
def card_datasets(ctx):
    """MG510: datasets the card's front matter names are in provenance.datasets."""
    card = _load(ctx)[0]
    front = card.front if card is not None else None
    value = front.value("datasets") if front is not None else None
    named = list(value.items) if value is not None else []
    known = {_dataset_key(name) for name in ctx.typed.provenance.datasets}
    missing = [n for n in named if isinstance(n, str) and n.strip() and _dataset_key(n) not in known]
    if missing:
        yield DATASETS_DIFFER.finding(
            f"{MODEL_CARD} names dataset{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(n) for n in missing)} that provenance.datasets does not list",
            file=MODEL_CARD, line=card.front_matter_line("datasets"),
            hint="List every dataset in provenance.datasets, with its version and license.")


@register(needs_manifest=False)
def card_markup(ctx):
    """MG509: scripts, frames, event handlers and remote images in the card."""
    card = _load(ctx)[0]
    if card is None:
        return
    for line, what in modelcard.risky_markup(card.body):
        yield ACTIVE_CONTENT.finding(f"{MODEL_CARD} contains {what}", file=MODEL_CARD,
                                     line=line + card.body_line - 1,
                                     hint="Use plain Markdown; keep images in the bundle and link them "
                                          "with relative paths.")
