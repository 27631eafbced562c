"""``modelgate compare`` on the demo registry: what changed, in text and JSON, and clear refusals."""

from __future__ import annotations

import json

import pytest

from tests.cli_support import run


@pytest.fixture
def demo_registry(demo_workspace, monkeypatch):
    """The demo registry (read only: comparing writes nothing), acting as its reviewer."""
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{demo_workspace / 'registry.db'}")
    monkeypatch.setenv("MODELGATE_USER", "ben")
    monkeypatch.setenv("NO_COLOR", "1")
    return demo_workspace


def quality(workspace, folder: str) -> dict[str, float]:
    data = json.loads((workspace / "bundles" / folder / "benchmarks" / "quality.json").read_text())
    return {r["metric"]: r["value"] for r in data["results"]}


def test_the_challenger_alone_is_compared_with_the_production_version(demo_registry, capsys):
    code, out, err = run(capsys, "compare", "credit-risk@1.2.0")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "credit-risk@1.1.0 (production)  →  credit-risk@1.2.0 (candidate)"
    assert "A = champion (the baseline), B = challenger" in lines[1] and "judged for staging" in lines[1]
    accuracy = next(line for line in lines if line.lstrip().startswith("accuracy on"))
    old, new = (quality(demo_registry, f"credit-risk-{v}")["accuracy"] for v in ("1.1.0", "1.2.0"))
    assert f"{old:.6g} → {new:.6g}" in accuracy and f"{new - old:+.4g} ({(new - old) / old:+.2%})" in accuracy
    assert accuracy.endswith("WORSE THAN ALLOWED (higher is better)")
    short = out[out.index("\nIn short\n"):out.index("\nMetrics\n")]
    assert "worse than allowed: accuracy, f1" in short and "2 error finding(s) new in B" in short
    graph = out[out.index("\nGraph\n"):out.index("\nFindings only one side has\n")]
    assert "model/credit-risk.onnx (fp32)" in graph and "parameters   242 (unchanged)" in graph
    assert "operators    unchanged" in graph and "opsets       ai.onnx 19 (unchanged)" in graph
    assert "initializers 4 of 4 differ:" in graph
    assert [line.strip() for line in graph.splitlines()[-4:]] == ["W1: content", "B1: content", "W2: content",
                                                                 "B2: content"]
    findings = out[out.index("\nFindings only one side has\n"):]
    new = findings[findings.index("only in credit-risk@1.2.0 (new):"):findings.index("only in credit-risk@1.1.0")]
    assert new.count("error   MG608") == 2 and "accuracy on loan-applications-holdout" in new
    assert "only in credit-risk@1.1.0 (gone in credit-risk@1.2.0): none" in findings
    assert "credit-risk@1.2.0: does not pass (2 error(s)" in findings
    assert "against the production version credit-risk@1.1.0" in findings


def test_json_keeps_the_v1_keys_and_adds_graphs_and_findings(demo_registry, capsys):
    code, out, _ = run(capsys, "compare", "support-embedder@2.0.0", "support-embedder@2.1.0", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "modelgate.compare/v1"
    assert {"a", "b", "license", "metrics", "only_in_a", "only_in_b", "direction_conflicts", "interface",
            "targets", "problems"} <= set(data)
    assert data["license"] == {"a": "Apache-2.0", "b": "CC-BY-NC-4.0", "changed": True}
    assert (data["stage"], data["policy"]) == ("candidate", "example-corp-demo")
    assert "license Apache-2.0 -> CC-BY-NC-4.0" in data["highlights"]
    fp32 = next(g for g in data["graphs"] if g["variant"] == "fp32")
    # 2.1.0 embeds tokens in 48 dimensions instead of 32: the table and the projection grow.
    assert fp32["parameters"]["b"] - fp32["parameters"]["a"] == 3000 * 16 + 16 * 64
    embeddings = next(i for i in fp32["initializers"] if i["name"] == "embeddings")
    assert (embeddings["a"]["shape"], embeddings["b"]["shape"], embeddings["differs"]) == ([3000, 32], [3000, 48],
                                                                                          ["shape"])
    assert {f["rule"] for f in data["findings"]["only_in_b"] if f["severity"] == "error"} == {"MG402"}
    assert data["findings"]["a"]["passed"] is True and data["findings"]["b"]["passed"] is False


def test_an_interface_change_and_the_findings_it_brings(demo_registry, capsys):
    code, out, _ = run(capsys, "compare", "defect-detector@1.0.0", "defect-detector@1.1.0-rc.1",
                       "--stage", "staging", "--json")
    data = json.loads(out)
    assert code == 0 and data["stage"] == "staging"
    assert [c["description"] for c in data["interface"]] == ["output logits: shape [batch, 4] -> [batch, 5]"]
    assert [g["path"] for g in data["graphs"]] == ["model/defect-detector.onnx", "model/defect-detector.int8.onnx"]
    assert sorted(f["message"] for f in data["findings"]["only_in_b"] if f["rule"] == "MG210") == [
        "model/defect-detector.int8.onnx: output 'logits' dimension 1 is 5 in the manifest but 4 in the graph",
        "model/defect-detector.onnx: output 'logits' dimension 1 is 5 in the manifest but 4 in the graph"]


@pytest.mark.parametrize(("argv", "message"), [
    ((), "compare needs the version to review"),
    (("credit-risk@9.9.9",), "no version credit-risk@9.9.9 in the registry"),
    (("nope@1.0.0", "credit-risk@1.2.0"), "no version nope@1.0.0 in the registry"),
    (("credit-risk@1.1.0",), "credit-risk@1.1.0 is the production version itself"),
    (("credit-risk",), "'credit-risk' is not NAME@VERSION"),
    (("credit-risk@1.2.0", "credit-risk@1.2.0"), "both sides are credit-risk@1.2.0"),
    (("credit-risk@1.2.0", "--stage", "prod"), "invalid choice: 'prod'"),
])
def test_wrong_calls_are_one_clear_line_and_exit_2(demo_registry, capsys, argv, message):
    code, out, err = run(capsys, "compare", *argv)
    assert code == 2 and out == ""
    assert err.startswith("modelgate: ") and message in err.splitlines()[0]


def test_help_says_what_is_compared_and_which_way(capsys):
    code, out, _ = run(capsys, "compare", "--help")
    assert code == 0
    assert "usage: modelgate compare [CHAMPION] CHALLENGER" in out
    assert "A: the baseline" in out and "B: the version under review" in out
    assert "deltas are B - A" in out
    for topic in ("metrics", "interface", "license", "targets", "graph", "findings"):
        assert f"\n  {topic} " in out
