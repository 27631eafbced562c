"""A CycloneDX 1.6 ML-BOM of a bundle, built with cyclonedx-python-lib and validated by its schema.

The model is a ``machine-learning-model`` component carrying the bundle's license, the
sha256 of every artifact and a ``modelCard``: the model parameters (format and architecture,
the datasets by reference, the interface's inputs and outputs), the quantitative analysis
from the benchmark results and the considerations from the card. Each dataset is a ``data``
component with its license and digest, each ``dependencies`` entry of ``bundle.yaml`` a
``library`` component the model depends on, and every file of the bundle a ``file``
component with its sha256.

The library has no object model for ``modelCard``, so that part is added to the serialised
document as plain data, and the whole document is then checked with the library's strict
JSON validator against its bundled CycloneDX 1.6 schema: an invalid BOM is never written.
"""

from __future__ import annotations

import json

from modelgate.core.errors import ModelGateError
from modelgate.core.evidence.bom_facts import BomFacts, describe_tensor

MODEL_REF = "model"


class BomInvalid(ModelGateError):
    """The BOM made from a bundle does not pass the format's schema (a defect, never written)."""


def _hashes(sha256: str | None):
    from cyclonedx.model import HashAlgorithm, HashType

    return [HashType(alg=HashAlgorithm.SHA_256, content=sha256)] if sha256 else []


def _licenses(expression: str | None):
    from cyclonedx.model.license import LicenseExpression

    return [LicenseExpression(value=expression)] if expression else []


def _components(facts: BomFacts):
    from cyclonedx.model.component import Component, ComponentType

    datasets = [Component(name=d.name, version=d.version, type=ComponentType.DATA, bom_ref=f"dataset:{d.name}",
                          hashes=_hashes(d.sha256), licenses=_licenses(d.license))
                for d in facts.datasets]
    libraries = [Component(name=str(d.get("name")), version=str(d.get("version") or "") or None,
                           type=ComponentType.LIBRARY, bom_ref=f"dependency:{d.get('name')}",
                           hashes=_hashes(d.get("sha256")))
                 for d in facts.dependencies if d.get("name")]
    files = [Component(name=name, type=ComponentType.FILE, bom_ref=f"file:{name}", hashes=_hashes(digest))
             for name, digest in sorted(facts.files.items())]
    return datasets, libraries, files


def _model_card(facts: BomFacts, datasets) -> dict:
    formats = sorted({str(a.get("format")) for a in facts.artifacts if a.get("format")})
    parameters = {
        "modelArchitecture": ", ".join(formats) or None,
        "datasets": [{"ref": str(d.bom_ref)} for d in datasets],
        "inputs": [{"format": describe_tensor(i)} for i in facts.inputs],
        "outputs": [{"format": describe_tensor(o)} for o in facts.outputs],
    }
    card: dict = {"modelParameters": {k: v for k, v in parameters.items() if v}}
    if facts.metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": [
            {"type": m.metric, "value": f"{m.value:g}" + (f" {m.unit}" if m.unit else ""),
             "slice": f"{m.dataset}/{m.split}"} for m in facts.metrics]}
    considerations = {}
    for key, text in facts.considerations.items():
        if key == "ethicalConsiderations":
            considerations[key] = [{"name": text}]
        else:
            considerations[key] = [text]
    if considerations:
        card["considerations"] = considerations
    return card


def cyclonedx_document(facts: BomFacts) -> dict:
    """The CycloneDX 1.6 JSON document of ``facts``, validated; :class:`BomInvalid` if it is not."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    datasets, libraries, files = _components(facts)
    artifact_hashes = [a.get("sha256") for a in facts.artifacts if a.get("sha256")]
    model = Component(name=facts.name, version=facts.version, type=ComponentType.MACHINE_LEARNING_MODEL,
                      bom_ref=MODEL_REF, description=facts.description, licenses=_licenses(facts.license),
                      hashes=_hashes(artifact_hashes[0]) if len(artifact_hashes) == 1 else [])
    bom = Bom()
    bom.metadata.component = model
    for component in (*datasets, *libraries, *files):
        bom.components.add(component)
    bom.register_dependency(model, [*libraries, *datasets])
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"]["component"]["modelCard"] = _model_card(facts, datasets)
    validate_cyclonedx(document)
    return document


def validate_cyclonedx(document: dict) -> None:
    """Check ``document`` with cyclonedx-python-lib's strict JSON validator (CycloneDX 1.6)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    if error is not None:
        raise BomInvalid(f"the CycloneDX document does not pass the 1.6 schema: {error}")
