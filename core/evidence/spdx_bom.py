"""An SPDX 3.0.1 JSON-LD document of a bundle with the AI and Dataset profiles (spdx-python-model).

The model is an ``ai_AIPackage`` (version, its artifacts' sha256, metrics from the benchmark
results, the card's intended use and limitations, the declared license); each dataset of the
provenance is a ``dataset_DatasetPackage`` the model was ``trainedOn`` (or ``testedOn`` when a
benchmark result names it), with its license and digest; each ``dependencies`` entry is a
``software_Package`` the model ``dependsOn``; every file of the bundle is a ``software_File``
the model ``contains``. The document's elements are the objects of spdx-python-model, whose
properties are typed by the SPDX model itself, serialised by its JSON-LD serialiser.
"""

from __future__ import annotations

from datetime import datetime, timezone

from modelgate.core.evidence.bom_facts import BomFacts

SPEC_VERSION = "3.0.1"
#: No dataset in a manifest says how it is laid out: SPDX asks for a type, and says so plainly.
UNKNOWN_DATASET_TYPE = "noAssertion"


def spdx_document(facts: BomFacts, *, created: datetime | None = None) -> dict:
    """The SPDX 3.0.1 JSON-LD document of ``facts`` (``@context`` and ``@graph``)."""
    from spdx_python_model import v3_0_1 as spdx

    from modelgate.core import __version__

    base = f"https://modelgate.dev/spdx/{facts.name}/{facts.version}#"
    moment = (created or datetime.now(timezone.utc)).replace(microsecond=0)
    objects = spdx.SHACLObjectSet()
    info = spdx.CreationInfo(specVersion=SPEC_VERSION, created=moment)
    tool = spdx.Tool(spdxId=base + "tool", name=f"ModelGate {__version__}", creationInfo=info)
    # The document is made by the program, not signed by a person: a software agent is its author.
    agent = spdx.SoftwareAgent(spdxId=base + "agent", name="ModelGate", creationInfo=info)
    info.createdBy = [agent]
    info.createdUsing = [tool]
    objects.add(agent)
    owners = [spdx.Person(spdxId=base + f"owner-{i}", creationInfo=info,
                          name=" ".join(f"<{part}>" if part == email else part for part in (name, email) if part))
              for i, (name, email) in enumerate(facts.owners)]
    for owner in owners:
        objects.add(owner)

    def element(kind, local: str, **values):
        made = kind(spdxId=base + local, creationInfo=info,
                    **{key: value for key, value in values.items() if value not in (None, [])})
        objects.add(made)
        return made

    def sha256(digest: str | None) -> list:
        return [spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=digest)] if digest else []

    def relate(local: str, source, kind, targets) -> None:
        if targets:
            element(spdx.Relationship, local, from_=source, relationshipType=kind, to=list(targets))

    artifact = [a.get("sha256") for a in facts.artifacts if a.get("sha256")]
    model = element(
        spdx.ai_AIPackage, "model", name=facts.name, software_packageVersion=facts.version,
        software_primaryPurpose=spdx.software_SoftwarePurpose.model,
        description=facts.description, verifiedUsing=sha256(artifact[0]) if len(artifact) == 1 else [],
        releaseTime=moment, suppliedBy=owners[0] if owners else None)
    model.ai_metric = [spdx.DictionaryEntry(key=f"{m.metric} ({m.dataset}/{m.split})", value=f"{m.value:g}")
                       for m in facts.metrics]
    if facts.considerations.get("useCases"):
        model.ai_informationAboutApplication = facts.considerations["useCases"]
    if facts.considerations.get("technicalLimitations"):
        model.ai_limitation = facts.considerations["technicalLimitations"]
    if facts.framework:
        model.ai_informationAboutTraining = f"trained with {facts.framework}"
    objects.add(tool)

    tested = {m.dataset for m in facts.metrics}
    trained, evaluated = [], []
    for index, dataset in enumerate(facts.datasets):
        package = element(spdx.dataset_DatasetPackage, f"dataset-{index}", name=dataset.name,
                          software_packageVersion=dataset.version, verifiedUsing=sha256(dataset.sha256),
                          software_primaryPurpose=spdx.software_SoftwarePurpose.data,
                          dataset_datasetType=[getattr(spdx.dataset_DatasetType, UNKNOWN_DATASET_TYPE)],
                          releaseTime=moment)
        if dataset.uri:
            package.software_downloadLocation = dataset.uri
        (evaluated if dataset.name in tested else trained).append(package)
        _license(spdx, element, relate, package, dataset.license, f"dataset-{index}")
    relate("trained-on", model, spdx.RelationshipType.trainedOn, trained)
    relate("tested-on", model, spdx.RelationshipType.testedOn, evaluated)

    libraries = [element(spdx.software_Package, f"dependency-{index}", name=str(dep.get("name")),
                         software_packageVersion=str(dep.get("version")) if dep.get("version") else None,
                         verifiedUsing=sha256(dep.get("sha256")),
                         software_primaryPurpose=spdx.software_SoftwarePurpose.library)
                 for index, dep in enumerate(facts.dependencies) if dep.get("name")]
    relate("depends-on", model, spdx.RelationshipType.dependsOn, libraries)
    files = [element(spdx.software_File, f"file-{index}", name=name, verifiedUsing=sha256(digest))
             for index, name, digest in ((i, n, d) for i, (n, d) in enumerate(sorted(facts.files.items())))]
    relate("contains", model, spdx.RelationshipType.contains, files)
    _license(spdx, element, relate, model, facts.license, "model")

    document = element(spdx.SpdxDocument, "document", name=f"{facts.name} {facts.version} AI-BOM",
                       rootElement=[model],
                       profileConformance=[spdx.ProfileIdentifierType.core, spdx.ProfileIdentifierType.software,
                                           spdx.ProfileIdentifierType.ai, spdx.ProfileIdentifierType.dataset,
                                           spdx.ProfileIdentifierType.simpleLicensing])
    document.element = sorted((o for o in objects.objects if o is not document and isinstance(o, spdx.Element)),
                              key=lambda o: o.get_id())
    return spdx.JSONLDSerializer().serialize_data(objects, force_at_graph=True)


def _license(spdx, element, relate, package, expression: str | None, local: str) -> None:
    if expression:
        license_ = element(spdx.simplelicensing_LicenseExpression, f"license-{local}",
                           simplelicensing_licenseExpression=expression)
        relate(f"declared-license-{local}", package, spdx.RelationshipType.hasDeclaredLicense, [license_])
