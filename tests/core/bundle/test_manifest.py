"""bundle.yaml: bounded, UTF-8, safe YAML, then the schema, with findings that say where."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from modelgate.core.bundle.reader import open_bundle
from modelgate.core.errors import ManifestError
from modelgate.core.bundle.manifest import load_manifest, parse_manifest_text
from tests import hostile

REPO = Path(__file__).resolve().parents[3]


def parse(text: str | bytes):
    return parse_manifest_text(text.encode("utf-8") if isinstance(text, str) else text)


def rules(result) -> list[str]:
    return [f.rule for f in result.findings]


def only(result, rule: str):
    """The single finding of ``result``, which must have rule ``rule``."""
    assert len(result.findings) == 1, [f.message for f in result.findings]
    finding = result.findings[0]
    assert finding.rule == rule, finding
    assert finding.severity.value == "error"
    return finding


def by_path(result) -> dict:
    return {f.location.path: f for f in result.findings}


# --------------------------------------------------------------------------- reading


def test_minimal_manifest_is_valid(minimal_bundle):
    with open_bundle(minimal_bundle()) as bundle:
        result = load_manifest(bundle)
    assert result.valid and result.findings == ()
    assert result.require()["name"] == "tiny-model"


def test_missing_manifest_is_mg101(minimal_bundle):
    root = minimal_bundle()
    (root / "bundle.yaml").unlink()
    with open_bundle(root) as bundle:
        result = load_manifest(bundle)
    finding = only(result, "MG101")
    assert result.data is None and not result.valid
    assert "no bundle.yaml" in finding.message and finding.hint
    with pytest.raises(ManifestError) as info:
        result.require()
    assert info.value.rule == "MG101"


def test_manifest_in_a_subfolder_does_not_count(minimal_bundle, minimal_manifest):
    root = minimal_bundle()
    (root / "bundle.yaml").rename(root / "model" / "bundle.yaml")
    with open_bundle(root) as bundle:
        only(load_manifest(bundle), "MG101")


@pytest.mark.parametrize("data, line", [
    (b"name: caf\xe9\n", 1),
    (b"bundle_format: modelgate.bundle/v1\nname: ok\ndescription: \xff\xfe\n", 3),
    ("name: x\n".encode("utf-16"), 1),
    ("name: x\n".encode("latin-1") + b"owner: J\xf6rg\n", 2),
])
def test_non_utf8_is_mg102(data, line):
    finding = only(parse(data), "MG102")
    assert "UTF-8" in finding.message
    assert finding.location.line == line
    assert "UTF-8" in (finding.hint or "")


def test_utf8_bom_is_accepted(minimal_manifest):
    result = parse(b"\xef\xbb\xbf" + minimal_manifest.encode())
    assert result.valid


def test_too_large_manifest_is_mg102(minimal_bundle, minimal_manifest, monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_MANIFEST_BYTES", "2000")
    big = minimal_manifest + "description: " + "x" * 2500 + "\n"
    root = minimal_bundle(manifest=big)
    with open_bundle(root) as bundle:
        finding = only(load_manifest(bundle), "MG102")
    assert "larger than 2000 bytes" in finding.message
    assert "larger than 2000 bytes" in only(parse(big), "MG102").message
    assert parse(minimal_manifest).valid  # under the limit: fine


def test_huge_manifest_is_not_read_whole(minimal_bundle, minimal_manifest):
    root = minimal_bundle()
    with open(root / "bundle.yaml", "w", encoding="utf-8") as handle:
        handle.write(minimal_manifest)
        handle.write("description: >\n")
        line = "  " + "y" * 1000 + "\n"
        for _ in range(40 * 1024):  # 40 MB
            handle.write(line)
    with open_bundle(root) as bundle:
        tracemalloc.start()
        try:
            result = load_manifest(bundle)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert "larger than" in only(result, "MG102").message
    assert peak < 8 * 1024 * 1024


# --------------------------------------------------------------------------- hostile YAML

BOMB_PROBE = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
    sys.path.insert(0, sys.argv[1])
    from tests import hostile
    from modelgate.core.bundle.manifest import parse_manifest_text
    levels, width, key = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    text = hostile.billion_laughs(levels, width, referenced_from=key or None).encode()
    tracemalloc.start()
    started = time.process_time()  # processor time: a busy machine does not make it look slow
    result = parse_manifest_text(text)
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"seconds": seconds, "peak": peak, "data_is_none": result.data is None,
                      "rules": [f.rule for f in result.findings],
                      "messages": [f.message[:200] for f in result.findings]}))
""")


@pytest.mark.parametrize("levels, width, referenced_from", [
    (9, 10, ""),             # the classic: 10**9 "lol"s, anchors only
    (9, 10, "description"),  # ... and used where the schema validator looks at it
    (30, 2, "description"),  # 2**30 leaves from only 60 aliases
])
def test_billion_laughs_is_refused_quickly(levels, width, referenced_from):
    # Runs in a child process with a memory cap and a deadline, so a regression
    # fails this test instead of taking the machine down.
    try:
        done = subprocess.run(
            [sys.executable, "-c", BOMB_PROBE, str(REPO), str(levels), str(width), referenced_from],
            capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"parsing a {width}**{levels} alias bomb did not finish within 120 s")
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    assert outcome["seconds"] < 1.5, outcome
    assert outcome["peak"] < 50 * 1024 * 1024, outcome
    # Refused by the YAML loader itself (MG102), before anything walks the expansion.
    assert outcome["data_is_none"] and outcome["rules"] == ["MG102"], outcome


def test_too_many_aliases_is_mg102(monkeypatch):
    anchors = "base: &b x\n" + "".join(f"k{i}: *b\n" for i in range(101))
    finding = only(parse(anchors), "MG102")
    assert "more than 100 YAML aliases" in finding.message
    monkeypatch.setenv("MODELGATE_MAX_YAML_ALIASES", "3")
    assert "more than 3 YAML aliases" in only(parse("a: &a 1\nb: *a\nc: *a\nd: *a\ne: *a\n"), "MG102").message


def test_too_many_nodes_is_mg102(monkeypatch):
    monkeypatch.setenv("MODELGATE_MAX_YAML_NODES", "50")
    finding = only(parse("tags: [" + ", ".join(f"t{i}" for i in range(100)) + "]\n"), "MG102")
    assert "more than 50 YAML nodes" in finding.message


@pytest.mark.parametrize("text", [
    hostile.deep_nesting(100_000),
    "description: " + hostile.deep_nesting(3_000),
    "{a: " * 100_000 + "}" * 100_000 + "\n",
    "- " * 100_000 + "x\n",
])
def test_deep_nesting_is_mg102_not_a_crash(text):
    started = time.process_time()
    result = parse(text)  # a RecursionError escaping here fails the test
    assert time.process_time() - started < 5
    finding = only(result, "MG102")
    assert result.data is None
    assert finding.location.line is None or finding.location.line >= 1


def test_python_tags_are_refused():
    result = parse("!!python/object/apply:os.system ['echo pwned > /tmp/modelgate-pwned']\n")
    only(result, "MG102")
    assert not Path("/tmp/modelgate-pwned").exists()


@pytest.mark.parametrize("text", ["[a, b]: 1\n", "? {a: 1}\n: 1\n"])
def test_non_scalar_keys_are_mg102(text):
    assert "plain value" in only(parse(text), "MG102").message


def test_duplicate_top_level_key_is_mg102_with_line(minimal_manifest):
    finding = only(parse(minimal_manifest + "name: other-model\n"), "MG102")
    assert "duplicate key 'name'" in finding.message
    assert finding.location.line == minimal_manifest.count("\n") + 1


def test_duplicate_nested_key_is_mg102_with_line(minimal_manifest):
    text = minimal_manifest.replace("    variant: fp32\n", "    variant: fp32\n    format: onnx\n")
    finding = only(parse(text), "MG102")
    assert "duplicate key 'format'" in finding.message
    assert finding.location.line == 9


def test_invalid_yaml_is_mg102_with_line():
    finding = only(parse("bundle_format: modelgate.bundle/v1\nname: [unclosed\nversion: 1.0.0\n"), "MG102")
    assert "not valid YAML" in finding.message
    assert finding.location.line is not None and finding.location.line >= 2


@pytest.mark.parametrize("text, kind", [
    ("", "empty"),
    ("\n\n", "empty"),
    ("# only a comment\n", "empty"),
    ("---\n...\n", "empty"),
    ("- bundle_format: modelgate.bundle/v1\n- name: x\n", "a list, not a mapping"),
    ("just a string\n", "a str, not a mapping"),
    ("42\n", "an int|a int"),
])
def test_not_a_mapping_is_mg102(text, kind):
    import re

    finding = only(parse(text), "MG102")
    assert re.search(kind, finding.message), finding.message
    assert finding.hint


def test_multiple_documents_are_mg102(minimal_manifest):
    only(parse(minimal_manifest + "---\nname: second\n"), "MG102")


# --------------------------------------------------------------------------- schema


def test_unknown_key_in_an_artifact(minimal_manifest):
    text = minimal_manifest.replace("    variant: fp32\n", "    variant: fp32\n    shaa256: " + "0" * 64 + "\n")
    result = parse(text)
    finding = only(result, "MG103")
    assert finding.location.path == "artifacts[0].shaa256"
    assert "shaa256" in finding.message
    assert finding.hint == "Did you mean 'sha256'?"
    assert result.data is not None and not result.valid


def test_unknown_top_level_key(minimal_manifest):
    finding = only(parse(minimal_manifest + "licence: MIT\n"), "MG103")
    assert finding.location.path == "licence"
    assert finding.hint == "Did you mean 'license'?"


def test_unknown_key_without_a_close_match_lists_the_allowed_ones(minimal_manifest):
    finding = only(parse(minimal_manifest + "zzzzzz: 1\n"), "MG103")
    assert "Allowed keys here" in finding.hint and "bundle_format" in finding.hint


@pytest.mark.parametrize("extra, path, what", [
    ("interface_notes: {1: first}\n", "interface_notes", "non-string key 1"),
    ("payload: !!binary aGVsbG8=\n", "payload", "binary data"),
    ("tags: [ok, !!binary aGVsbG8=]\n", "tags[1]", "binary data"),
])
def test_values_without_a_json_form_are_mg103_with_their_place(minimal_manifest, extra, path, what):
    finding = only(parse(minimal_manifest + extra), "MG103")
    assert finding.location.path == path
    assert what in finding.message and "no JSON form" in finding.message
    assert finding.hint


@pytest.mark.parametrize("value", ["1.0.0\n", "1.0.0 ", "\u0661.0.0"])
def test_patterns_match_the_whole_value_as_json_schema_does(minimal_manifest, value):
    """Patterns follow JSON Schema's ECMA-262 regexes: `$` is the very end, digits are ASCII."""
    text = minimal_manifest.replace("version: 1.0.0", f"version: {json.dumps(value)}")
    assert only(parse(text), "MG103").location.path == "version"


def test_dates_stay_strings(minimal_manifest):
    text = minimal_manifest + textwrap.dedent("""\
        provenance:
          created_at: 2026-11-01
        lifecycle:
          deprecation:
            after: 2027-06-30
            replacement: tiny-model@2.0.0
        """)
    result = parse(text)
    assert result.valid, [f.message for f in result.findings]
    assert result.data["provenance"]["created_at"] == "2026-11-01"
    assert result.data["lifecycle"]["deprecation"]["after"] == "2027-06-30"


def test_timestamp_with_time_stays_a_string(minimal_manifest):
    result = parse(minimal_manifest + "provenance:\n  created_at: 2026-11-01 10:30:00\n")
    assert result.valid
    assert isinstance(result.data["provenance"]["created_at"], str)


@pytest.mark.parametrize("change, path, words", [
    (("version: 1.0.0", "version: 1.10"), "version", "must be a string"),
    (("name: tiny-model", "name: 123"), "name", "must be a string"),
    (("license: Apache-2.0", "license: [Apache-2.0]"), "license", "must be a string"),
    (("artifacts:\n", "artifacts: model/m.onnx\nunused:\n"), "artifacts", "must be an array"),
    (("shape: [batch, 4]", "shape: batch"), "interface.inputs[0].shape", "must be an array"),
    (("dtype: float32, shape: [batch, 4]", "dtype: float33, shape: [batch, 4]"),
     "interface.inputs[0].dtype", "expected one of"),
    (("format: onnx", "format: pickle"), "artifacts[0].format", "expected one of"),
])
def test_wrong_types_and_values_are_mg103(minimal_manifest, change, path, words):
    old, new = change
    assert old in minimal_manifest
    result = parse(minimal_manifest.replace(old, new, 1))
    assert result.data is not None and not result.valid
    assert set(rules(result)) == {"MG103"}
    if path is not None:
        finding = by_path(result)[path]
        assert words in finding.message


def test_version_float_hint_says_quote_it(minimal_manifest):
    finding = only(parse(minimal_manifest.replace("version: 1.0.0", "version: 1.10")), "MG103")
    assert "1.1" in finding.message  # what YAML made of it
    assert "Quote it" in finding.hint


@pytest.mark.parametrize("key", ["bundle_format", "name", "version", "license", "artifacts", "interface"])
def test_missing_required_top_level_key(minimal_manifest, key):
    lines = minimal_manifest.splitlines(keepends=True)
    # Drop the key and its indented block.
    kept, skipping = [], False
    for line in lines:
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and line.startswith(" "):
            continue
        skipping = False
        kept.append(line)
    finding = only(parse("".join(kept)), "MG103")
    assert finding.message == f"(root) is missing the required key {key!r}"


def test_missing_nested_required_key(minimal_manifest):
    text = minimal_manifest.replace("    variant: fp32\n", "")
    finding = only(parse(text), "MG103")
    assert finding.location.path == "artifacts[0]"
    assert "'variant'" in finding.message


@pytest.mark.parametrize("bad", ["../outside.onnx", "model/../../x.onnx", "/etc/passwd", "model/./m.onnx",
                                 "C:/models/m.onnx", "model\\m.onnx", ".."])
def test_artifact_path_leaving_the_bundle_is_mg103(minimal_manifest, bad):
    text = minimal_manifest.replace("path: model/m.onnx", f"path: {json.dumps(bad)}")
    finding = only(parse(text), "MG103")
    assert finding.location.path == "artifacts[0].path"
    assert "'..'" in finding.hint


def test_files_map_with_a_parent_path_is_mg103(minimal_manifest):
    result = parse(minimal_manifest + "files:\n  ../secret: " + "a" * 64 + "\n")
    assert rules(result) and set(rules(result)) == {"MG103"}
    assert all((f.location.path or "").startswith("files") for f in result.findings)


def test_bad_sha256_has_the_lock_hint(minimal_manifest):
    text = minimal_manifest.replace("    variant: fp32\n", "    variant: fp32\n    sha256: NOTAHASH\n")
    finding = only(parse(text), "MG103")
    assert finding.location.path == "artifacts[0].sha256"
    assert "modelgate lock" in finding.hint


def test_every_problem_is_reported_not_just_the_first(minimal_manifest):
    text = (minimal_manifest.replace("version: 1.0.0", "version: one")
            .replace("name: tiny-model", "name: Tiny Model") + "colour: blue\n")
    result = parse(text)
    assert {f.location.path for f in result.findings} == {"version", "name", "colour"}
