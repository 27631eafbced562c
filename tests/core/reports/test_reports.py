"""The report formats: text, JSON (own schema), JUnit XML, SARIF 2.1.0 (official schema), Markdown."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from modelgate.core.errors import UsageError
from modelgate.core.findings import Finding, Location, Severity
from modelgate.core.checks.report import BundleRef, Report
from modelgate.core.reports import FORMATS, camel_case, render, slug
from modelgate.core.checks.catalog import catalog
from tests.factory import make_bundle, rules_of, sign, signing_key, trust_of, validate

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "sarif" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = Path(__file__).resolve().parents[3] / "resources" / "report.schema.json"
TRICKY = 'say "hi" <b>bold</b> & co | pipe\nsecond line · ünïcödé ✓ \x1b[31mred\x00'


@pytest.fixture(scope="module")
def rules():
    return catalog()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Real runs: a clean bundle, one with a warning only, one whose model and card broke after locking."""
    base = tmp_path_factory.mktemp("reports")
    key = signing_key(base / "keys")
    clean_root = make_bundle(base / "clean")
    sign(clean_root, key)
    clean = validate(clean_root, trust=trust_of(key))
    warned = validate(make_bundle(base / "unlocked", lock=False), stage="draft")
    broken_root = make_bundle(base / "broken bundle")
    model = broken_root / "model" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    (broken_root / "MODEL_CARD.md").unlink()
    broken = validate(broken_root)
    return {"clean": clean, "warned": warned, "broken": broken, "broken_root": broken_root}


@pytest.fixture(scope="module")
def tricky():
    """A hand-built report whose strings hold everything a format must escape."""
    findings = (
        Finding("MG104", Severity.ERROR, TRICKY, Location("model/my model<1>.onnx", 'artifacts[0]."sha|256"'),
                hint="run `lock` & <retry>\nthen | re-review"),
        Finding("MG104", Severity.WARNING, "second & last <one>", Location("bundle.yaml", None, 7)),
        Finding("MG107", Severity.WARNING, "unlocked — “smart quotes” 'single'", Location("bundle.yaml", "files")),
        Finding("MG999", Severity.ERROR, "from a rule the catalogue does not know", Location("LICENSE")),
        Finding("MG114", Severity.INFO, "stray file ._x|y", Location("._x|y", None, 3), hint=None),
    )
    return Report(
        bundle=BundleRef("/nonexistent/bündle & co", "tricky<name>", "1.0.0-rc.1+build|5"),
        stage="candidate", policy_name='strict "prod" & <co>', policy_source="policies/strict.yaml",
        policy_digest="0" * 64, findings=findings, started_at="2026-11-02T10:00:00+00:00",
        duration_s=0.25, timings=(("structure.layout", 0.01),),
        champion=BundleRef("champ", "tricky<name>", "0.9.0"),
    )


def all_reports(reports, tricky):
    return [reports["clean"], reports["warned"], reports["broken"], tricky]


# --- real runs, sanity of the inputs -------------------------------------------------------------

def test_the_real_runs_have_the_findings_the_tests_rely_on(reports):
    assert reports["clean"].findings == ()
    assert "MG107" in rules_of(reports["warned"], "warning") and reports["warned"].passed
    assert {"MG104", "MG109"} <= rules_of(reports["broken"], "error")


def test_render_knows_exactly_the_listed_formats(reports, rules):
    assert FORMATS == ("text", "json", "junit", "sarif", "markdown")
    for name in FORMATS:
        assert render(reports["broken"], format=name, rules=rules).endswith("\n")
    with pytest.raises(UsageError, match="unknown report format"):
        render(reports["clean"], format="html", rules=rules)


def test_helpers_make_names_for_junit_and_sarif():
    assert slug("ONNX model and interface contract") == "onnx-model-and-interface-contract"
    assert camel_case("A file's digest does not match the lock") == "AFilesDigestDoesNotMatchTheLock"


# --- text ----------------------------------------------------------------------------------------

def test_text_ends_with_the_verdict_and_lists_errors_first(reports, tricky, rules):
    for report in all_reports(reports, tricky):
        out = render(report, format="text", rules=rules)
        assert out.splitlines()[-1] == report.verdict
        assert "\033[" not in out
    out = render(tricky, format="text", rules=rules)
    header = " ".join(out.split("\n\n")[0].split())  # the header may wrap at 80 columns
    assert header.startswith("ModelGate: tricky<name>@1.0.0-rc.1+build|5 · candidate · ")
    assert 'policy strict "prod" & <co> (000000000000)' in header
    assert out.index("MG999 error") < out.index("MG107 warning") < out.index("MG114 info")
    assert "    hint: run `lock` & <retry>" in out


def test_text_shows_control_characters_escaped_and_fits_80_columns(tricky, rules):
    out = render(tricky, format="text", rules=rules)
    assert "\x1b" not in out and "\x00" not in out
    assert "\\x1b[31mred\\x00" in out
    assert "ünïcödé ✓" in out
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines[:-1]), [line for line in lines if len(line) > 80]


def test_text_colours_only_on_request(reports, tricky, rules):
    from modelgate.core.outputs import for_terminal  # what the CLI's escaping stdout sends on

    plain = for_terminal(render(reports["broken"], format="text", rules=rules))
    coloured = for_terminal(render(reports["broken"], format="text", rules=rules, colour=True))
    assert "\033[31m  MG104 error" in coloured
    assert "\033[" not in plain
    assert "\033[33m" in for_terminal(render(tricky, format="text", rules=rules, colour=True))
    assert "\033[2m" in for_terminal(render(tricky, format="text", rules=rules, colour=True))


# --- JSON ----------------------------------------------------------------------------------------

def report_validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_json_validates_against_the_report_schema(reports, tricky, rules):
    validator = report_validator()
    for report in all_reports(reports, tricky):
        document = json.loads(render(report, format="json", rules=rules))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == []
        assert {k: v for k, v in document.items() if k != "rules"} == json.loads(json.dumps(report.as_dict()))


def test_json_rules_section_explains_exactly_the_rules_that_fired(reports, tricky, rules):
    document = json.loads(render(reports["broken"], format="json", rules=rules))
    assert [r["id"] for r in document["rules"]] == sorted(rules_of(reports["broken"]))
    assert document["rules"][0] == rules[document["rules"][0]["id"]].as_dict()
    assert json.loads(render(reports["clean"], format="json", rules=rules))["rules"] == []
    # MG999 is not in the catalogue: its findings stay, it just has no metadata to embed.
    tricky_doc = json.loads(render(tricky, format="json", rules=rules))
    assert [r["id"] for r in tricky_doc["rules"]] == ["MG104", "MG107", "MG114"]
    assert tricky_doc["findings"][0]["message"] == TRICKY


def test_the_report_schema_rejects_what_it_should(reports, rules):
    validator = report_validator()
    document = json.loads(render(reports["broken"], format="json", rules=rules))
    document["findings"][0]["severity"] = "fatal"
    document["surprise"] = True
    del document["rules"]
    problems = {e.validator for e in validator.iter_errors(document)}
    assert {"enum", "additionalProperties", "required"} <= problems


# --- SARIF ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_validator():
    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"the official SARIF 2.1.0 schema is missing: expected it at {SARIF_SCHEMA} "
                    "(tests/data/sarif/, copied from the OASIS publication)")
    from jsonschema import Draft4Validator

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def test_sarif_validates_against_the_official_schema(reports, tricky, rules, sarif_validator):
    for report in all_reports(reports, tricky):
        log = json.loads(render(report, format="sarif", rules=rules))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator.iter_errors(log)]
        assert errors == []
        assert log["version"] == "2.1.0" and log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"


def test_a_waived_finding_is_an_accepted_suppression_the_official_schema_takes(reports, tricky, rules,
                                                                              sarif_validator):
    from datetime import datetime, timedelta, timezone

    from modelgate.core.checks.report import with_waivers
    from modelgate.core.findings import Waived

    later = datetime.now(timezone.utc) + timedelta(days=9)
    for report in (reports["broken"], tricky):
        rule = next(f.rule for f in report.findings if f.severity is Severity.ERROR)
        waived = with_waivers(report, waivers=(Waived(rule, TRICKY, ("carol", "dave"), later, 1),))
        log = json.loads(render(waived, format="sarif", rules=rules))
        assert [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator.iter_errors(log)] == []
        suppressed = [r for r in log["runs"][0]["results"] if r.get("suppressions")]
        assert suppressed and all(r["ruleId"] == rule for r in suppressed)
        assert suppressed[0]["suppressions"][0]["justification"].endswith(TRICKY)


def test_sarif_has_one_result_per_finding_with_its_level_and_rule(reports, tricky, rules):
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for report in all_reports(reports, tricky):
        run = json.loads(render(report, format="sarif", rules=rules))["runs"][0]
        driver = run["tool"]["driver"]
        assert [r["id"] for r in driver["rules"]] == list(rules)
        assert len(run["results"]) == len(report.findings)
        for result, finding in zip(run["results"], report.findings):
            assert result["ruleId"] == finding.rule
            assert result["level"] == levels[finding.severity.value]
            assert result["message"]["text"].startswith(finding.message)
            if finding.rule in rules:
                assert driver["rules"][result["ruleIndex"]]["id"] == finding.rule
            else:
                assert "ruleIndex" not in result
            artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
            assert artifact["uri"] and artifact["uriBaseId"] == "BUNDLEROOT"
        assert run["invocations"][0]["executionSuccessful"] is True
        assert run["properties"]["stage"] == report.stage
        assert run["properties"]["policy"]["sha256"] == report.policy_digest


def test_sarif_driver_rules_describe_the_catalogue(reports, rules):
    driver = json.loads(render(reports["clean"], format="sarif", rules=rules))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ModelGate" and driver["informationUri"] == "https://modelgate.dev"
    entry = next(r for r in driver["rules"] if r["id"] == "MG104")
    rule = rules["MG104"]
    assert entry["name"] == "ArtifactDigestDoesNotMatch"
    assert entry["shortDescription"]["text"] == rule.title
    assert entry["fullDescription"]["text"] == rule.rationale
    assert entry["help"]["text"] == rule.fix and rule.fix in entry["help"]["markdown"]
    assert entry["defaultConfiguration"]["level"] == "error"
    assert entry["properties"]["tags"] == [rule.family]
    assert next(r for r in driver["rules"] if r["id"] == "MG107")["defaultConfiguration"]["level"] == "warning"


def test_sarif_locations_point_into_the_bundle_folder(reports, tricky, rules):
    run = json.loads(render(reports["broken"], format="sarif", rules=rules))["runs"][0]
    base = run["originalUriBaseIds"]["BUNDLEROOT"]["uri"]
    assert base == reports["broken_root"].resolve().as_uri() + "/"
    assert "%20" in base  # the folder is called "broken bundle"
    mg109 = next(r for r in run["results"] if r["ruleId"] == "MG109")
    location = mg109["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "model/model.onnx"
    assert "region" not in location["physicalLocation"]
    assert location["logicalLocations"] == [{"fullyQualifiedName": "files.model/model.onnx", "kind": "member"}]

    tricky_run = json.loads(render(tricky, format="sarif", rules=rules))["runs"][0]
    assert "originalUriBaseIds" not in tricky_run  # the source is not a folder
    first, second = tricky_run["results"][:2]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "model/my%20model%3C1%3E.onnx"
    assert second["locations"][0]["physicalLocation"]["region"] == {"startLine": 7}
    assert "logicalLocations" not in second["locations"][0]
    assert first["message"]["text"] == TRICKY + " Hint: run `lock` & <retry>\nthen | re-review"


def test_sarif_fingerprints_are_stable_and_distinct(tricky, rules):
    once = json.loads(render(tricky, format="sarif", rules=rules))["runs"][0]["results"]
    again = json.loads(render(tricky, format="sarif", rules=rules))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["modelgateFinding/v1"] for r in once]
    assert prints == [r["partialFingerprints"]["modelgateFinding/v1"] for r in again]
    assert len(set(prints)) == len(prints) and all(re.fullmatch(r"[0-9a-f]{64}", p) for p in prints)


# --- JUnit ---------------------------------------------------------------------------------------

def check_junit_shape(root: ET.Element) -> ET.Element:
    """The shape CI servers read: testsuites > testsuite > testcase, with numeric counters."""
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    for element in (root, suites[0]):
        for counter in ("tests", "failures", "errors", "skipped"):
            assert int(element.get(counter)) >= 0
        assert float(element.get("time")) >= 0
    for case in suites[0].findall("testcase"):
        assert case.get("name") and case.get("classname")
        assert float(case.get("time")) >= 0
        assert set(child.tag for child in case) <= {"failure", "system-out"}
    return suites[0]


def test_junit_has_one_test_case_per_rule_and_fails_rules_with_errors(reports, rules):
    for report in (reports["clean"], reports["warned"], reports["broken"]):
        root = ET.fromstring(render(report, format="junit", rules=rules).encode("utf-8"))
        suite = check_junit_shape(root)
        cases = suite.findall("testcase")
        failing = {f.rule for f in report.findings if f.severity is Severity.ERROR}
        assert suite.get("name") == "modelgate"
        assert len(cases) == len(rules) == int(suite.get("tests")) == int(root.get("tests"))
        assert int(suite.get("failures")) == len(failing) == len(suite.findall("testcase/failure"))
        failed = {case.find("failure").get("type") for case in cases if case.find("failure") is not None}
        assert failed == failing
    case = next(c for c in cases if c.get("name").startswith("MG104 "))
    assert case.get("name") == f"MG104 {rules['MG104'].title}"
    assert case.get("classname") == "modelgate.structure-and-integrity"
    assert re.search(r"bundle\.yaml:\d+:\d+ \(artifacts\[0\]\.sha256\)", case.find("failure").text)
    lines = (reports["broken_root"] / "bundle.yaml").read_text(encoding="utf-8").split("\n")
    assert lines[int(case.get("line")) - 1].strip().startswith("sha256:") and case.get("file").endswith("bundle.yaml")


def test_junit_warnings_pass_and_are_reported_in_system_out(reports, rules):
    suite = ET.fromstring(render(reports["warned"], format="junit", rules=rules)).find("testsuite")
    case = next(c for c in suite.findall("testcase") if c.get("name").startswith("MG107 "))
    assert case.find("failure") is None
    assert re.search(r"WARNING bundle\.yaml:\d+:\d+ \(files\)", case.find("system-out").text)


def test_junit_escapes_everything_and_keeps_unknown_rules(tricky, rules):
    text = render(tricky, format="junit", rules=rules)
    assert "\x1b" not in text and "\x00" not in text
    suite = check_junit_shape(ET.fromstring(text.encode("utf-8")))
    cases = suite.findall("testcase")
    assert len(cases) == len(rules) + 1  # MG999 gets its own failing case rather than vanishing
    assert cases[-1].get("name") == "MG999" and cases[-1].find("failure") is not None
    mg104 = next(c for c in cases if c.get("name").startswith("MG104 ")).find("failure")
    assert mg104.get("message") == 'say "hi" <b>bold</b> & co | pipe'  # the first line of the only error
    assert "ünïcödé ✓ \\x1b[31mred\\x00" in mg104.text
    assert "WARNING bundle.yaml:7: second & last <one>" in mg104.text
    assert "model/my model<1>.onnx" in mg104.text
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["policy"] == 'strict "prod" & <co>'
    assert properties["bundle"] == "tricky<name>@1.0.0-rc.1+build|5"
    assert int(suite.get("failures")) == 2


# --- Markdown ------------------------------------------------------------------------------------

def table_cells(row: str) -> list[str]:
    """Split a Markdown table row on unescaped pipes."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_markdown_has_title_counts_and_one_row_per_finding(reports, rules):
    broken = render(reports["broken"], format="markdown", rules=rules)
    assert broken.startswith("## ❌ ModelGate failed: tiny-classifier@1.0.0 for production")
    errors = reports["broken"].count(Severity.ERROR)
    assert f"| {errors} | 0 | 0 |" in broken
    rows = [line for line in broken.splitlines() if line.startswith("| ❌ |")]
    assert len(rows) == len(reports["broken"].findings)
    assert table_cells(rows[0])[1] == reports["broken"].findings[0].rule
    assert f"`{reports['broken'].policy_digest}`" in broken
    assert broken.count("<details>") == len(rules_of(reports["broken"]))
    assert "<summary><b>MG104</b>" in broken

    clean = render(reports["clean"], format="markdown", rules=rules)
    assert clean.startswith("## ✅ ModelGate passed") and "No findings." in clean
    assert "<details>" not in clean


def test_markdown_cells_cannot_break_the_table_or_inject_html(tricky, rules):
    out = render(tricky, format="markdown", rules=rules)
    rows = [line for line in out.splitlines() if line.startswith("| ❌ |") or line.startswith("| ⚠️ |")
            or line.startswith("| ℹ️ |")]
    assert len(rows) == len(tricky.findings)
    assert all(len(table_cells(row)) == 4 for row in rows)
    first = table_cells(rows[0])
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co \\| pipe<br>second line" in first[3]
    assert "<b>" not in first[3] and "\x1b" not in out and "\x00" not in out
    assert "*Hint:* run \\`lock\\` &amp; &lt;retry&gt;<br>then \\| re-review" in first[3]
    assert first[2] == 'model/my model&lt;1&gt;.onnx (artifacts\\[0\\]."sha\\|256")'
    assert "ünïcödé ✓" in out
    assert "strict \"prod\" &amp; &lt;co&gt;" in out
    # Only rules from the catalogue are explained; MG999 has nothing to explain.
    assert out.count("<details>") == 3 and "MG999</b>" not in out


def test_sarif_schema_check_is_not_vacuous(reports, rules, sarif_validator):
    log = json.loads(render(reports["broken"], format="sarif", rules=rules))
    log["runs"][0]["results"][0]["level"] = "info"  # SARIF says "note"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(list(sarif_validator.iter_errors(log))) >= 2


def test_markdown_caps_the_findings_table_for_huge_reports(tricky, rules):
    from dataclasses import replace

    from modelgate.core.reports.markdown import MAX_ROWS

    many = tuple(Finding("MG106", Severity.ERROR, f"stray{i}.bin is not covered", Location(f"stray{i}.bin"))
                 for i in range(MAX_ROWS + 20))
    out = render(replace(tricky, findings=many), format="markdown", rules=rules)
    assert sum(1 for line in out.splitlines() if line.startswith("| ❌ |")) == MAX_ROWS
    assert "… and 20 more finding(s)" in out


def test_sarif_uris_are_relative_to_the_checkout_when_the_bundle_is_inside_it(tmp_path, monkeypatch):
    """GitHub resolves result URIs against the repository root (the CI job's working directory)."""
    from modelgate.core.reports import render
    from modelgate.core.checks.catalog import catalog
    from tests.factory import make_bundle, validate

    bundle = make_bundle(tmp_path / "models" / "clf")
    (bundle / "LICENSE").write_text("changed after locking")
    monkeypatch.chdir(tmp_path)
    document = json.loads(render(validate(Path("models/clf")), format="sarif", rules=catalog()))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in document["runs"][0]["results"] for loc in result["locations"]}
    assert "models/clf/LICENSE" in uris
    bases = document["runs"][0]["originalUriBaseIds"]
    assert bases["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"


def test_reports_name_the_gates_left_to_the_promotion(tmp_path):
    """A bundle can pass validation for production and still need approvals and a signature."""
    key = signing_key(tmp_path / "keys")
    sign(make_bundle(tmp_path / "b"), key)
    report = validate(tmp_path / "b", stage="production", trust=trust_of(key))
    assert report.passed
    assert report.promotion_gates == ("2 approval(s) from approver", "a release signature by signer")
    for format_ in ("text", "markdown"):
        assert "Checked when promoting, not here: 2 approval(s) from approver" in \
            render(report, format=format_, rules=catalog())
    assert json.loads(render(report, format="json", rules=catalog()))["promotion_gates"][1].startswith("a release")
