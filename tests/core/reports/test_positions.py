"""SARIF and JUnit point at lines: findings about bundle.yaml, the card and the policy name theirs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from modelgate.core.cli.main import main
from modelgate.core.errors import PolicyError
from modelgate.core.policy.document import parse_policy
from tests.factory import CARD, clean_manifest, dump_manifest, edit_manifest, make_bundle

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "sarif" / "sarif-schema-2.1.0.json"
_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


@pytest.fixture(scope="module")
def sarif_validator():
    import jsonschema_rs

    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"the official SARIF 2.1.0 schema is missing: expected it at {SARIF_SCHEMA}")
    return jsonschema_rs.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def _steps(path: str) -> list:
    return [int(index) if index else key for index, key in _STEP.findall(path)]


def _deepest_written(data, steps: list) -> list:
    """The longest prefix of ``steps`` that names a value the manifest holds."""
    found, value = [], data
    for step in steps:
        if isinstance(step, int) and isinstance(value, list) and step < len(value) \
                or isinstance(step, str) and isinstance(value, dict) and step in value:
            found.append(step)
            value = value[step]
        else:
            break
    return found


def _broken_bundles(base: Path) -> dict[str, Path]:
    """Bundles each broken in bundle.yaml in a different way (after locking, so digests break too)."""
    bundles = {}

    def typo(data):  # an unknown key (MG103) and a bad version
        data["licence"] = data.pop("license")
        data["version"] = "1.0"
    bundles["typo"] = make_bundle(base / "typo")
    edit_manifest(bundles["typo"], typo)

    def nested(data):  # wrong types deep inside lists, a missing artifact file, a bad digest
        data["interface"]["inputs"][0]["shape"] = ["batch", "four", -3]
        data["artifacts"].append({"path": "model/absent.onnx", "format": "onnx", "variant": "int8"})
        data["artifacts"][0]["sha256"] = "0" * 64
        data["targets"][0]["runtime_version"] = "99.0"
        data["provenance"]["datasets"][0]["license"] = "GPL-3.0-only"
    bundles["nested"] = make_bundle(base / "nested")
    edit_manifest(bundles["nested"], nested)

    def denied(data):  # a license the default policy denies, a benchmark file that is not there
        data["license"] = "AGPL-3.0-only"
        data["benchmarks"] = ["benchmarks/results.json", "benchmarks/missing.json"]
        data["tags"] = ["ok", 5]
    bundles["denied"] = make_bundle(base / "denied")
    edit_manifest(bundles["denied"], denied)
    # Comments and blank lines above the keys: lines are the file's, not the data's.
    text = (bundles["denied"] / "bundle.yaml").read_text(encoding="utf-8")
    (bundles["denied"] / "bundle.yaml").write_text("# a bundle\n\n# owned by the test-suite\n" + text,
                                                 encoding="utf-8")
    return bundles


def _sarif(bundle: Path, out: Path, *, stage: str = "production") -> dict:
    code = main(["validate", str(bundle), "--stage", stage, "--format", "sarif", "--output", str(out)])
    assert code == 1
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_every_bundle_yaml_finding_in_sarif_points_at_the_line_of_its_key(tmp_path, sarif_validator, capsys):
    checked = 0
    for name, bundle in _broken_bundles(tmp_path).items():
        log = _sarif(bundle, tmp_path / f"{name}.sarif")
        assert sarif_validator.is_valid(log), list(sarif_validator.iter_errors(log))[:3]
        lines = (bundle / "bundle.yaml").read_text(encoding="utf-8").split("\n")
        data = yaml.safe_load("\n".join(lines))
        on_manifest = [r for r in log["runs"][0]["results"]
                       if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("bundle.yaml")]
        assert len(on_manifest) >= 2, name
        for result in on_manifest:
            region = result["locations"][0]["physicalLocation"].get("region")
            assert region and region["startLine"] >= 1 and region["startColumn"] >= 1, result
            written = lines[region["startLine"] - 1]
            logical = result["locations"][0].get("logicalLocations")
            steps = _deepest_written(data, _steps(logical[0]["fullyQualifiedName"])) if logical else []
            if not steps:  # about the manifest as a whole: its first key
                assert written == lines[region["startLine"] - 1] and re.match(r"[a-z_]+:", written), result
            elif isinstance(steps[-1], int):  # a list item: its "- " line
                assert written[region["startColumn"] - 3:].startswith("- "), (result, written)
            else:
                assert written[region["startColumn"] - 1:].startswith(f"{steps[-1]}:"), (result, written)
            checked += 1
    assert checked >= 10
    capsys.readouterr()


@pytest.mark.slow
def test_a_key_that_moved_keeps_its_line_in_the_json_and_junit_reports(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    edit_manifest(bundle, lambda data: data.update(licence=data.pop("license")))
    lines = (bundle / "bundle.yaml").read_text(encoding="utf-8").split("\n")
    assert main(["validate", str(bundle), "--format", "json", "--output", str(tmp_path / "r.json")]) == 1
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    typo = [f for f in report["findings"] if f["rule"] == "MG103"]
    assert typo and all(f["location"]["line"] and f["location"]["column"] for f in typo)
    assert any(lines[f["location"]["line"] - 1].startswith("licence:") for f in typo)
    assert main(["validate", str(bundle), "--format", "junit", "--output", str(tmp_path / "r.xml")]) == 1
    failure = ET.parse(tmp_path / "r.xml").getroot().find(".//testcase[@name]/failure[@type='MG103']")
    line = next(f["location"]["line"] for f in typo if lines[f["location"]["line"] - 1].startswith("licence:"))
    assert f"bundle.yaml:{line}:1" in failure.text
    capsys.readouterr()


@pytest.mark.slow
def test_card_findings_point_at_the_heading_and_the_front_matter_key(tmp_path, sarif_validator, capsys):
    manifest = clean_manifest()
    card = CARD.format(name=manifest["name"], version=manifest["version"], license="MIT")
    limitations = card.split("## Limitations\n")[1].split("\n")[0]
    card = card.replace(limitations, "Short.")
    bundle = make_bundle(tmp_path / "card", card=card)
    log = _sarif(bundle, tmp_path / "card.sarif")
    assert sarif_validator.is_valid(log)
    lines = (bundle / "MODEL_CARD.md").read_text(encoding="utf-8").split("\n")
    on_card = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
               for r in log["runs"][0]["results"]
               if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("MODEL_CARD.md")
               and "region" in r["locations"][0]["physicalLocation"]}
    assert lines[on_card["MG506"] - 1].startswith("license:")  # front matter differs from bundle.yaml
    assert lines[on_card["MG505"] - 1].startswith("#") and "Limitations" in lines[on_card["MG505"] - 1]
    capsys.readouterr()


def test_policy_problems_name_the_line_and_column_of_their_key():
    text = ("policy_format: modelgate.policy/v1\nname: strict\n# the stages\nstages:\n"
            "  production:\n    approvals: {count: many}\nsurprise: true\n")
    with pytest.raises(PolicyError) as raised:
        parse_policy(text.encode(), source="p.yaml")
    lines = text.split("\n")
    named = [(int(n), int(c)) for n, c in re.findall(r"\(line (\d+), column (\d+)\)", raised.value.message)]
    assert named, raised.value.message
    assert {lines[n - 1][c - 1:].split(":")[0] for n, c in named} >= {"surprise", "count"}


@pytest.mark.slow
def test_a_manifest_whose_findings_name_no_path_points_at_its_first_key(tmp_path, capsys):
    data = clean_manifest()
    bundle = make_bundle(tmp_path / "first", manifest=data, lock=False)
    (bundle / "bundle.yaml").write_text("# header comment\n\n" + dump_manifest(data), encoding="utf-8")
    log = _sarif(bundle, tmp_path / "first.sarif", stage="production")
    lines = (bundle / "bundle.yaml").read_text(encoding="utf-8").split("\n")
    for result in log["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        if physical["artifactLocation"]["uri"].endswith("bundle.yaml") and "logicalLocations" not in result["locations"][0]:
            assert physical["region"]["startLine"] == 3 and lines[2].startswith("bundle_format:")
    capsys.readouterr()
