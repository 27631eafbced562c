"""Technical documentation of a version, laid out by a template file (EU AI Act Annex IV ships).

A template (``resources/templates/documentation/NAME.yaml``, or any file passed by path) names
its sections and, for each, the facts that fill it: a fact ModelGate knows (:data:`FACTS`) or
``card:HEADING``, the model card's section under that heading. Every fact that is not there is
kept as a gap saying plainly what would fill it, so the document shows what is missing instead
of leaving it out. An organisation adds its own template (ISO/IEC 42001, an internal one)
without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelgate.core.bundle.manifest_types import typed_manifest
from modelgate.core.errors import UsageError
from modelgate.core.evidence.pack import EvidencePack

TEMPLATE_FORMAT = "modelgate.documentation/v1"
TEMPLATE_FOLDER = "templates/documentation"
CARD = "card:"


@dataclass(frozen=True)
class Entry:
    """One fact in a section: ``text`` when known, else ``missing`` says what would fill it."""

    label: str
    text: str | None
    missing: str | None = None


@dataclass(frozen=True)
class Section:
    title: str
    note: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Documentation:
    """A filled template: its title, the version it documents and the sections in order."""

    title: str
    ref: str
    generated: str
    sections: tuple[Section, ...]

    @property
    def gaps(self) -> int:
        return sum(1 for s in self.sections for e in s.entries if e.text is None)


def _lines(items) -> str | None:
    text = "\n".join(str(i) for i in items if i)
    return text or None


def _manifest_value(manifest: dict, *keys):
    value = manifest
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value or None


def _fact(name: str, pack: EvidencePack, manifest: dict) -> str | None:
    m = pack.manifest
    if name == "identity":
        return f"{pack.name} {pack.version}, stage {pack.stage}, submitted by {pack.submitter}; bundle digest {pack.stored.digest}"
    if name == "description":
        return m.description
    if name == "owners":
        return _lines(m.owners)
    if name == "license":
        return m.license
    if name == "artifacts":
        return _lines(f"{a.path} ({a.format or '?'}, {a.variant or '?'}), sha256 {a.sha256}" for a in m.artifacts)
    if name == "interface":
        io = typed_manifest(manifest).interface
        return _lines(f"{kind} {t.name}: {t.dtype} {list(t.shape) if t.shape is not None else None}"
                      for kind, tensors in (("inputs", io.inputs), ("outputs", io.outputs)) for t in tensors)
    if name == "targets":
        return _lines(f"{t.name}: {t.runtime} {t.runtime_version or ''} on {t.device}"
                      for t in typed_manifest(manifest).targets)
    if name == "provenance":
        return _lines(f"{label}: {text}" for label, text in m.provenance)
    if name == "datasets":
        return _lines(f"{d.name} {d.version or ''} ({d.license or 'license not stated'}), "
                      f"sha256 {d.sha256 or 'not stated'}"
                      for d in typed_manifest(manifest).provenance.dataset_entries if d.name)
    if name == "dependencies":
        return _lines(f"{d.name} {d.version}" for d in typed_manifest(manifest).dependencies)
    if name == "observability":
        value = _manifest_value(manifest, "observability")  # free-form: shown as written
        return _lines(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else None
    if name == "lifecycle":
        value = _manifest_value(manifest, "lifecycle", "deprecation")
        return _lines(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else None
    if name == "metrics":
        return _lines(f"{r.result.label}: {r.result.value:g}" + (f" (gate {r.floor:g})" if r.floor is not None else "")
                      for r in pack.benchmarks.rows)
    if name == "validation":
        return _lines(f"{v.stage}: {'passed' if v.passed else 'failed'} under policy {v.policy_name} "
                      f"({v.policy_digest[:12]}), {v.created_at:%Y-%m-%d}" for v in pack.validations)
    if name == "findings":
        return _lines(f"{f.rule} {f.severity}: {f.message}" for v in pack.validations for f in v.findings)
    if name == "decisions":
        return _lines(f"{p.created_at:%Y-%m-%d} {p.from_stage} -> {p.to_stage} ({p.kind}) by {p.actor}"
                      + (f": {p.reason}" if p.reason else "") for p in pack.promotions)
    if name == "reviews":
        return _lines(f"{r.created_at:%Y-%m-%d} {r.reviewer} ({r.roles}) {r.decision} at {r.stage}: {r.comment}"
                      for r in pack.reviews)
    if name == "signatures":
        return _lines(f"{s.signer}, key {s.fingerprint[:16]}, {'verified' if s.verified else 'not verified'}, "
                      f"{s.created_at:%Y-%m-%d}" for s in pack.signatures)
    if name == "policy":
        return f"ModelGate policy {pack.policy.name}, sha256 {pack.policy.digest}"
    if name == "audit":
        return f"audit log: {pack.chain.verdict}; {len(pack.events)} event(s) about this version"
    raise KeyError(name)


#: Facts ModelGate knows, and what fills each when it is missing.
FACTS = {
    "identity": "always known", "description": "a description in bundle.yaml",
    "owners": "owners in bundle.yaml", "license": "a license expression in bundle.yaml",
    "artifacts": "artifacts in bundle.yaml", "interface": "an interface in bundle.yaml",
    "targets": "deployment targets in bundle.yaml", "provenance": "provenance in bundle.yaml",
    "datasets": "provenance.datasets in bundle.yaml", "dependencies": "dependencies in bundle.yaml",
    "observability": "observability (metrics, health check, fallback) in bundle.yaml",
    "lifecycle": "lifecycle.deprecation in bundle.yaml",
    "metrics": "benchmark results under benchmarks/", "validation": "a validation run in the registry",
    "findings": "validation findings (none were found, or no run was made)",
    "decisions": "a promotion recorded in the registry", "reviews": "reviews recorded in the registry",
    "signatures": "a release signature recorded in the registry", "policy": "always known",
    "audit": "always known",
    "waivers": "waivers recorded in the registry (none: no rule was waived)",
}
LABELS = {"identity": "System and version", "metrics": "Performance metrics", "audit": "Audit log"}


@dataclass(frozen=True)
class Template:
    title: str
    sections: tuple[tuple[str, str, tuple[str, ...]], ...]


def load_template(name: str) -> Template:
    """The template named ``name`` (shipped) or at the path ``name``; :class:`UsageError` if unusable."""
    from modelgate.core import resources
    from modelgate.core.bundle.safeyaml import YamlProblem, load

    path = Path(name)
    if not path.is_file():
        path = resources.path(TEMPLATE_FOLDER) / f"{name}.yaml"
    if not path.is_file():
        shipped = sorted(p.stem for p in resources.path(TEMPLATE_FOLDER).glob("*.yaml"))
        raise UsageError(f"no documentation template {name!r}", hint=f"Shipped: {', '.join(shipped)}; or a file path.")
    try:
        data = load(path.read_text(encoding="utf-8"))
    except (YamlProblem, UnicodeDecodeError, OSError) as exc:
        raise UsageError(f"the template {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or data.get("template_format") != TEMPLATE_FORMAT \
            or not isinstance(data.get("sections"), list):
        raise UsageError(f"{path} is not a documentation template (template_format: {TEMPLATE_FORMAT})")
    sections = []
    for item in data["sections"]:
        facts = tuple(str(f) for f in (item.get("facts") or ()) if isinstance(item, dict)) \
            if isinstance(item, dict) else ()
        unknown = [f for f in facts if f not in FACTS and not (f.startswith(CARD) and len(f) > len(CARD))]
        if not isinstance(item, dict) or not item.get("title") or unknown:
            raise UsageError(f"{path}: a section needs a title and known facts" +
                             (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                             hint=f"Facts: {', '.join(FACTS)}, or card:HEADING.")
        sections.append((str(item["title"]), str(item.get("note") or ""), facts))
    return Template(str(data.get("title") or path.stem), tuple(sections))


def fill(template: Template, *, pack: EvidencePack, manifest: dict, card, waivers=()) -> Documentation:
    """``template`` filled from ``pack``, the raw ``manifest``, the parsed model ``card`` (or None) and
    the version's ``waivers`` (:class:`~modelgate.core.registry.waivers.WaiverInfo`, every state)."""
    from modelgate.core.evidence.layout import when

    sections = []
    for title, note, facts in template.sections:
        entries = []
        for fact in facts:
            if fact.startswith(CARD):
                heading = fact[len(CARD):]
                found = [s.body.strip() for s in (card.find(heading) if card else ()) if s.body.strip()]
                entries.append(Entry(heading, "\n\n".join(found) or None,
                                     f"a '{heading}' section in MODEL_CARD.md"))
            elif fact == "waivers":
                entries.append(Entry("Waivers", _lines(
                    f"{w.rule} {w.state} until {w.expires_at:%Y-%m-%d}: {w.reason} (requested by {w.requested_by}"
                    + (f", confirmed by {w.confirmed_by})" if w.confirmed_by else ", not confirmed)")
                    for w in waivers), FACTS[fact]))
            else:
                entries.append(Entry(LABELS.get(fact, fact.capitalize()), _fact(fact, pack, manifest), FACTS[fact]))
        sections.append(Section(title, note, tuple(entries)))
    return Documentation(template.title, pack.ref, when(pack.generated_at), tuple(sections))
