"""YAML 1.1's implicit typing where the bundle standard wants text: a finding that says "quote it".

PyYAML follows YAML 1.1: an unquoted ``no`` is ``false``, ``1.10`` is ``1.1``,
``0755`` is 493 and ``1:20`` is 80. Each case is written where the schema asks
for a string, and the finding must name the field, its line, the text as written
and how to quote it.
"""

from __future__ import annotations

import pytest

from modelgate.core.bundle.manifest import parse_manifest_text
from modelgate.core.policy.document import parse_policy
from modelgate.core.errors import PolicyError
from tests.factory import clean_manifest
from modelgate.core.bundle.lock import dump_manifest

TRAPS = ["no", "No", "off", "on", "yes", "1.10", "0755", "1:20", "0x1F", "0b101", "true", "12", "~"]


def manifest_with(line_of: str, written: str) -> tuple[bytes, int]:
    """The clean manifest with the line ``KEY: ...`` replaced by ``KEY: written``; and its line."""
    lines = dump_manifest(clean_manifest()).splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(line_of + ":"))
    key = line_of.strip()
    lines[index] = f"{line_of[: len(line_of) - len(key)]}{key}: {written}"
    return ("\n".join(lines) + "\n").encode(), index + 1


@pytest.mark.parametrize("written", [t for t in TRAPS if t != "~"])
def test_an_unquoted_value_yaml_types_is_named_with_its_line(written):
    data, line = manifest_with("version", written)
    findings = [f for f in parse_manifest_text(data).findings if f.location.path == "version"]
    assert findings, "a typed version must be reported"
    finding = findings[0]
    assert finding.rule == "MG103" and finding.location.line == line
    assert f"unquoted {written} as" in finding.message
    assert f'"{written}"' in finding.hint and "Quote" in finding.hint


@pytest.mark.parametrize("written", ["no", "1.10", "0755", "1:20"])
def test_the_same_text_quoted_is_accepted(written):
    data, _ = manifest_with("description", f'"{written}"')
    assert not [f for f in parse_manifest_text(data).findings if f.location.path == "description"]


def test_an_enum_value_yaml_made_a_boolean():
    text = dump_manifest(clean_manifest()).replace("device: cpu", "device: on")
    line = text.splitlines().index("  device: on") + 1
    finding = next(f for f in parse_manifest_text(text.encode()).findings
                   if f.location.path == "targets[0].device")
    assert finding.location.line == line
    assert "unquoted on as a bool (true)" in finding.message and "cpu, gpu, npu" in finding.message


def test_a_null_where_text_belongs_is_not_called_a_quoting_problem():
    data, line = manifest_with("description", "")
    finding = next(f for f in parse_manifest_text(data).findings if f.location.path == "description")
    assert "unquoted" not in finding.message and finding.location.line == line


def test_every_schema_finding_carries_a_line():
    text = dump_manifest(clean_manifest()).replace("  max_opset: 21", "  max_opset: many")
    findings = parse_manifest_text(text.encode()).findings
    assert findings and all(f.location.line for f in findings)


def test_policy_findings_name_line_and_quoting():
    from modelgate.core import resources
    text = resources.text("default-policy.yaml")
    assert "\nname: " in text
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("name:"))
    lines[index] = "name: no"
    with pytest.raises(PolicyError) as caught:
        parse_policy("\n".join(lines).encode(), source="p.yaml")
    assert f"line {index + 1}" in caught.value.message and '"no"' in caught.value.message
