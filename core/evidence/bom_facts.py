"""The facts an AI bill of materials states about one bundle, read once for every BOM format.

Everything comes from the bundle itself: ``bundle.yaml`` (identity, license, artifacts,
interface, dependencies, provenance and its datasets), the model card's sections, the
benchmark results and the digest of every file. Missing facts stay empty; each format says
what it has and leaves out what it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.bundle.modelcard import decode, parse_card

CARD_FILE = "MODEL_CARD.md"
#: Model card headings read into a BOM's considerations, by the key each format uses.
CONSIDERATIONS = (("useCases", "Intended use"), ("technicalLimitations", "Limitations"),
                  ("ethicalConsiderations", "Ethical considerations"), ("users", "Users"),
                  ("performanceTradeoffs", "Trade-offs"))


@dataclass(frozen=True)
class Dataset:
    """A dataset the model was trained or evaluated on, as the manifest's provenance lists it."""

    name: str
    version: str | None
    uri: str | None
    sha256: str | None
    license: str | None


@dataclass(frozen=True)
class Metric:
    """One benchmark result: ``metric`` on ``dataset``/``split`` is ``value``."""

    metric: str
    value: float
    dataset: str
    split: str
    unit: str | None


@dataclass(frozen=True)
class BomFacts:
    """What a BOM says about a bundle."""

    name: str
    version: str
    description: str | None
    license: str | None
    owners: tuple[tuple[str | None, str | None], ...]
    files: dict[str, str]
    artifacts: tuple[dict, ...]
    inputs: tuple[dict, ...]
    outputs: tuple[dict, ...]
    dependencies: tuple[dict, ...]
    datasets: tuple[Dataset, ...]
    metrics: tuple[Metric, ...]
    considerations: dict[str, str]
    framework: str | None
    source: str | None
    created_at: str | None


def _text(value) -> str | None:
    return str(value) if value not in (None, "") else None


def _datasets(provenance: dict) -> tuple[Dataset, ...]:
    return tuple(Dataset(str(d.get("name")), _text(d.get("version")), _text(d.get("uri")), _text(d.get("sha256")),
                         _text(d.get("license")))
                 for d in provenance.get("datasets") or () if isinstance(d, dict) and d.get("name"))


def _considerations(bundle) -> dict[str, str]:
    if CARD_FILE not in bundle.files():
        return {}
    card = parse_card(decode(bundle.read_bytes(CARD_FILE, limit=4 * 1024 * 1024)))
    found = {}
    for key, heading in CONSIDERATIONS:
        bodies = [s.body.strip() for s in card.find(heading) if s.body.strip()]
        if bodies:
            found[key] = "\n\n".join(bodies)
    return found


def read_facts(*, path: Path) -> BomFacts:
    """The BOM facts of the bundle folder or archive at ``path`` (its files hashed as read)."""
    from modelgate.core.benchmarks.results import load_results
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.payload import hash_while_importing

    with open_bundle(path) as bundle:
        manifest = load_manifest(bundle).require()
        files = hash_while_importing(bundle, progress=None)
        results, _problems = load_results(bundle, manifest)
        considerations = _considerations(bundle)
    provenance = manifest.get("provenance") if isinstance(manifest.get("provenance"), dict) else {}
    framework = provenance.get("framework") if isinstance(provenance.get("framework"), dict) else {}
    source = provenance.get("source") if isinstance(provenance.get("source"), dict) else {}
    interface = manifest.get("interface") if isinstance(manifest.get("interface"), dict) else {}
    return BomFacts(
        name=str(manifest.get("name")), version=str(manifest.get("version")),
        description=_text(manifest.get("description")), license=_text(manifest.get("license")),
        owners=tuple((_text(o.get("name")), _text(o.get("email"))) for o in manifest.get("owners") or ()
                     if isinstance(o, dict)),
        files=files,
        artifacts=tuple(a for a in manifest.get("artifacts") or () if isinstance(a, dict)),
        inputs=tuple(i for i in interface.get("inputs") or () if isinstance(i, dict)),
        outputs=tuple(o for o in interface.get("outputs") or () if isinstance(o, dict)),
        dependencies=tuple(d for d in manifest.get("dependencies") or () if isinstance(d, dict)),
        datasets=_datasets(provenance),
        metrics=tuple(Metric(r.metric, r.value, r.dataset, r.split, r.unit) for r in results),
        considerations=considerations,
        framework=" ".join(str(v) for v in (framework.get("name"), framework.get("version")) if v) or None,
        source=_text(source.get("repository")),
        created_at=_text(provenance.get("created_at")))


def describe_tensor(item: dict) -> str:
    """``name: dtype[shape]`` of one interface input or output."""
    shape = ",".join(str(s) for s in item.get("shape") or ())
    return f"{item.get('name')}: {item.get('dtype')}[{shape}]"
