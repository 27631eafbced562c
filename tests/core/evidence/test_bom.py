"""AI bills of materials: CycloneDX 1.6 ML-BOM and SPDX 3.0.1 AI profile, validated against their
official schemas, for every demo bundle and for stored versions."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema_rs
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from modelgate.core.cli.main import main
from modelgate.core.evidence import cyclonedx_bom
from modelgate.core.evidence.bom_facts import read_facts
from modelgate.core.evidence.cyclonedx_bom import BomInvalid, cyclonedx_document

SPDX_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "spdx" / "spdx-json-schema-3.0.1.json"


@functools.cache
def _spdx_validator():
    # jsonschema-rs: the pure-Python validator needs minutes for this schema's many references.
    return jsonschema_rs.Draft202012Validator(json.loads(SPDX_SCHEMA.read_text()))


def _spdx_errors(document: dict) -> list[str]:
    return [f"{list(e.instance_path)}: {e.message[:200]}" for e in _spdx_validator().iter_errors(document)]


@pytest.mark.slow
def test_every_demo_bundle_has_valid_boms_in_both_formats(demo_workspace, tmp_path):
    bundles = sorted((demo_workspace / "bundles").iterdir())
    assert len(bundles) == 12                     # eight ONNX bundles and four in other formats
    for bundle in bundles:
        for kind in ("cyclonedx", "spdx"):
            out = tmp_path / f"{bundle.name}.{kind}.json"
            assert main(["bom", str(bundle), "--format", kind, "--output", str(out)]) == 0
        cdx = (tmp_path / f"{bundle.name}.cyclonedx.json").read_text()
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx) is None, bundle.name
        assert _spdx_errors(json.loads((tmp_path / f"{bundle.name}.spdx.json").read_text())) == [], bundle.name


def test_the_cyclonedx_model_component_carries_the_card_datasets_and_metrics(demo_workspace):
    facts = read_facts(path=demo_workspace / "bundles" / "credit-risk-1.1.0")
    document = cyclonedx_document(facts)
    model = document["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["licenses"] == [{"expression": facts.license}]
    card = model["modelCard"]
    datasets = {c["bom-ref"]: c for c in document["components"] if c["type"] == "data"}
    assert {ref["ref"] for ref in card["modelParameters"]["datasets"]} == set(datasets)
    assert all(c["hashes"][0]["content"] == d.sha256 for c, d in zip(datasets.values(), facts.datasets))
    metrics = {(m["type"], m["slice"]) for m in card["quantitativeAnalysis"]["performanceMetrics"]}
    assert {(m.metric, f"{m.dataset}/{m.split}") for m in facts.metrics} == metrics
    assert set(card["considerations"]) == {"useCases", "technicalLimitations", "ethicalConsiderations"}
    files = {c["name"]: c["hashes"][0]["content"] for c in document["components"] if c["type"] == "file"}
    assert files == facts.files
    model_deps = next(d for d in document["dependencies"] if d["ref"] == "model")["dependsOn"]
    assert {f"dependency:{d['name']}" for d in facts.dependencies} <= set(model_deps)


def test_the_spdx_document_has_an_ai_package_trained_on_its_datasets(demo_workspace):
    from modelgate.core.evidence.spdx_bom import spdx_document

    facts = read_facts(path=demo_workspace / "bundles" / "credit-risk-1.1.0")
    graph = spdx_document(facts)["@graph"]
    by_type = {}
    for item in graph:
        by_type.setdefault(item["type"], []).append(item)
    (model,) = by_type["ai_AIPackage"]
    assert model["software_packageVersion"] == facts.version and model["ai_metric"]
    names = {d["name"] for d in by_type["dataset_DatasetPackage"]}
    assert names == {d.name for d in facts.datasets}
    kinds = {r["relationshipType"] for r in by_type["Relationship"] if r["from"] == model["spdxId"]}
    assert {"contains", "hasDeclaredLicense", "dependsOn"} <= kinds and kinds & {"trainedOn", "testedOn"}
    licenses = {x["simplelicensing_licenseExpression"] for x in by_type["simplelicensing_LicenseExpression"]}
    assert facts.license in licenses


def test_a_document_the_schema_refuses_is_never_written(demo_workspace, monkeypatch, tmp_path):
    broken = cyclonedx_bom._model_card

    def metric_as_number(facts, datasets):
        card = broken(facts, datasets)
        card["quantitativeAnalysis"]["performanceMetrics"][0]["value"] = 0.5  # the schema wants a string
        return card

    monkeypatch.setattr(cyclonedx_bom, "_model_card", metric_as_number)
    with pytest.raises(BomInvalid):
        cyclonedx_document(read_facts(path=demo_workspace / "bundles" / "credit-risk-1.1.0"))
    out = tmp_path / "bom.json"
    bundle = demo_workspace / "bundles" / "credit-risk-1.1.0"
    assert main(["bom", str(bundle), "--format", "cyclonedx", "--output", str(out)]) == 2
    assert not out.exists()


@pytest.mark.slow
def test_a_stored_version_gets_a_bom_by_name(demo_registry_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELGATE_REGISTRY", demo_registry_copy)
    monkeypatch.setenv("MODELGATE_USER", "ben")
    out = tmp_path / "stored.spdx.json"
    assert main(["bom", "credit-risk@1.1.0", "--format", "spdx", "--output", str(out)]) == 0
    assert _spdx_errors(json.loads(out.read_text())) == []
