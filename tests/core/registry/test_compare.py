"""Champion/challenger comparison of two stored versions."""

from __future__ import annotations

import json

import pytest

from modelgate.core.findings import Severity
from modelgate.core.registry import NotFound
from modelgate.core.registry.compare import compare
from modelgate.core.benchmarks.regression import Verdict
from tests.factory import clean_manifest, clean_results, make_bundle, tiny_model
from tests.registry_support import NAME, new_bundle

GPU = {"name": "gpu-fast", "runtime": "onnxruntime", "runtime_version": "1.18", "max_opset": 21,
       "device": "gpu", "artifact": "fp32"}


def challenger_manifest(manifest: dict) -> None:
    """What 2.0.0 changes: license, interface, targets."""
    manifest["license"] = "MIT"
    manifest["interface"]["inputs"][0]["shape"] = ["batch", 8]
    manifest["interface"]["outputs"][0]["dtype"] = "float16"
    manifest["interface"]["outputs"].append(
        {"name": "logits", "dtype": "float32", "shape": ["batch", 2]})
    manifest["targets"][0]["latency_p95_ms"] = 30
    manifest["targets"].append(GPU)


def challenger_results() -> dict:
    results = clean_results()["results"]
    results[0]["value"] = 0.89  # accuracy 0.91 -> 0.89
    results[2] = {"dataset": "loans", "split": "test", "metric": "auc", "value": 0.95}
    return {"results": results}


def store_pair(team, tmp_path, template) -> None:
    alice = team("alice")
    alice.import_bundle(path=new_bundle(tmp_path, template))
    bundle = new_bundle(tmp_path, template, version="2.0.0", change=challenger_manifest,
                        results=challenger_results())
    alice.import_bundle(path=bundle)


def test_compare_reports_metrics_interface_license_and_targets(team, tmp_path, template):
    store_pair(team, tmp_path, template)
    seq = team.admin.audit_log(limit=1)[-1].seq
    result = compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "2.0.0"))
    assert (result.a.label, result.b.label) == (f"{NAME}@1.0.0", f"{NAME}@2.0.0")
    assert result.a.stage == "draft" and result.a.digest != result.b.digest
    assert (result.a.license, result.b.license, result.license_changed) == ("Apache-2.0", "MIT", True)

    metrics = {m.metric: m for m in result.metrics.metrics}
    assert metrics["accuracy"].absolute_delta == pytest.approx(-0.02)
    # judged for candidate (the challenger's next stage) under the default policy: at most 5% lost
    assert metrics["accuracy"].verdict is Verdict.WITHIN_LIMITS and metrics["f1"].verdict is Verdict.UNCHANGED
    assert [r.metric for r in result.metrics.champion_only] == ["latency_p95_ms"]
    assert [r.metric for r in result.metrics.challenger_only] == ["auc"]

    assert [c.describe() for c in result.interface] == [
        "input features: shape [batch, 4] -> [batch, 8]",
        "output probabilities: dtype float32 -> float16",
        "output logits added",
    ]
    assert [t.describe() for t in result.targets] == [
        "target cpu-default: latency_p95_ms 20 -> 30", "target gpu-fast added"]
    assert result.problems == ()

    data = result.as_dict()
    assert json.loads(json.dumps(data)) == data and data["format"] == "modelgate.compare/v1"
    accuracy = next(m for m in data["metrics"] if m["metric"] == "accuracy")
    assert (accuracy["a"], accuracy["b"], accuracy["verdict"]) == (0.91, 0.89, "within_limits")
    assert data["interface"][0] == {"kind": "input", "name": "features", "change": "changed",
                                    "a": {"dtype": "float32", "shape": ["batch", 4]},
                                    "b": {"dtype": "float32", "shape": ["batch", 8]},
                                    "description": "input features: shape [batch, 4] -> [batch, 8]"}
    assert data["targets"][0]["fields"] == [{"field": "latency_p95_ms", "a": 20, "b": 30}]
    assert data["license"] == {"a": "Apache-2.0", "b": "MIT", "changed": True}
    assert team.admin.audit_log(limit=1)[-1].seq == seq  # comparing writes nothing


@pytest.mark.slow
def test_limits_graph_fallback_and_unreadable_benchmarks(team, tmp_path, template):
    team = team
    store_pair(team, tmp_path, template)
    limited = compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "2.0.0"),
                      regression={"default": {"max_absolute": 0.01}})
    accuracy = next(m for m in limited.metrics.metrics if m.metric == "accuracy")
    assert accuracy.verdict is Verdict.EXCEEDS_LIMIT and accuracy.exceeded == ("max_absolute",)
    assert not limited.metrics.passed

    def undeclared(manifest):
        del manifest["interface"]
        manifest["benchmarks"].append("benchmarks/missing.json")

    manifest = clean_manifest(NAME, "3.0.0")
    undeclared(manifest)
    bundle = make_bundle(tmp_path / "wide", manifest=manifest,
                         model=lambda path: tiny_model(path, inputs=8))
    team("alice").import_bundle(path=bundle)
    result = compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "3.0.0"))
    assert [c.describe() for c in result.interface] == ["input features: shape [batch, 4] -> [batch, 8]"]
    assert any("benchmarks/missing.json is listed but missing" in p for p in result.problems)
    assert not result.license_changed and result.targets == ()
    with pytest.raises(NotFound, match=f"no version {NAME}@9.9.9"):
        compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "9.9.9"))


def _copy_model(template):
    import shutil

    def model(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "model" / "model.onnx", path)
    return model


def test_findings_only_one_side_has_reuse_a_stored_run_and_write_nothing(team, tmp_path, template):
    from modelgate.core.registry import workflow
    from tests.factory import CARD

    alice = team("alice")
    # Both cards name an old version (MG507, worded with each side's version): a shared finding.
    without_limitations = CARD.format(name=NAME, version="0.1.0", license="Apache-2.0").replace(
        "## Limitations\n", "## Notes\n")
    alice.import_bundle(path=make_bundle(tmp_path / "a", manifest=clean_manifest(NAME, "1.0.0"),
                                         card=without_limitations, model=_copy_model(template)))
    denied = clean_manifest(NAME, "2.0.0")
    denied["license"] = "CC-BY-NC-4.0"
    alice.import_bundle(path=make_bundle(tmp_path / "b", manifest=denied, model=_copy_model(template),
                                         card=CARD.format(name=NAME, version="0.1.0", license="CC-BY-NC-4.0")))
    # A gate check for candidate records a run of 1.0.0 that the comparison may reuse.
    workflow.gates(team("bob"), name=NAME, version="1.0.0", to_stage="candidate")
    seq = team.admin.audit_log(limit=1)[-1].seq

    result = compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "2.0.0"))
    found = result.findings
    assert (result.stage, found.stage, found.policy_name) == ("candidate", "candidate", "default")
    assert found.a.stored_run is not None and found.b.stored_run is None
    assert found.a.describe().startswith(f"stored run {found.a.stored_run} (")
    assert found.b.describe() == "validated now"
    assert [(f.rule, f.severity.value) for f in found.only_in_a] == [("MG504", "error")]
    assert "Limitations" in found.only_in_a[0].message
    assert ("MG402", "error") in [(f.rule, f.severity.value) for f in found.only_in_b]
    assert not found.a.passed and not found.b.passed and found.in_both == 1
    assert "MG507" in {f.rule for f in found.a.findings} & {f.rule for f in found.b.findings}
    assert "MG507" not in {f.rule for f in found.only_in_a + found.only_in_b}
    data = result.as_dict()["findings"]
    assert data["only_in_a"][0]["rule"] == "MG504" and data["a"]["stored_run"] == found.a.stored_run
    assert data["policy"]["name"] == "default" and data["b"]["errors"] == found.b.count(Severity.ERROR)
    assert team.admin.audit_log(limit=1)[-1].seq == seq    # no run recorded, no event

    skipped = compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "2.0.0"), findings=False, stage="staging")
    assert skipped.findings is None and skipped.stage == "staging"
    assert skipped.as_dict()["findings"] is None


def test_no_production_version_an_unknown_one_or_the_same_twice_are_refused(team, tmp_path, template):
    from modelgate.core.errors import UsageError
    from modelgate.core.registry.compare import champion_for

    store_pair(team, tmp_path, template)
    with pytest.raises(UsageError, match=f"{NAME} has no production version to compare {NAME}@2.0.0 with"):
        champion_for(team("bob"), name=NAME, version="2.0.0")
    with pytest.raises(NotFound, match=f"no version {NAME}@3.0.0"):
        champion_for(team("bob"), name=NAME, version="3.0.0")
    with pytest.raises(UsageError, match="both sides are"):
        compare(team("bob"), a=(NAME, "1.0.0"), b=(NAME, "1.0.0"))
