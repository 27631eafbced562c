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
from modelgate.core.bundle.manifest_types import typed_manifest
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
    typed = typed_manifest(manifest)
    provenance = typed.provenance
    framework = " ".join(v for v in (provenance.framework_name, provenance.framework_version) if v)
    return BomFacts(
        name=str(typed.name), version=str(typed.version),
        description=typed.description, license=typed.license,
        owners=tuple((o.name, o.email) for o in typed.owners),
        files=files,
        artifacts=tuple(_present(path=a.path, format=a.format, variant=a.variant, sha256=a.sha256, size=a.size)
                        for a in typed.artifacts),
        inputs=tuple(t.as_dict() for t in typed.interface.inputs),
        outputs=tuple(t.as_dict() for t in typed.interface.outputs),
        dependencies=tuple(d.as_dict() for d in typed.dependencies),
        datasets=tuple(Dataset(d.name, d.version, d.uri, d.sha256, d.license)
                       for d in provenance.dataset_entries if d.name),
        metrics=tuple(Metric(r.metric, r.value, r.dataset, r.split, r.unit) for r in results),
        considerations=considerations,
        framework=framework or None,
        source=provenance.repository,
        created_at=provenance.created_at)


def _present(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def describe_tensor(item: dict) -> str:
    """``name: dtype[shape]`` of one interface input or output."""
    shape = ",".join(str(s) for s in item.get("shape") or ())
    return f"{item.get('name')}: {item.get('dtype')}[{shape}]"
