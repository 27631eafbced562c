"""No check or renderer reads raw parsed manifest data.

Every value of bundle.yaml, leaf or section, is replaced by each kind of wrong value; every
check must still run to its end (no MG100, no exception) and the wrong type must be named by
MG103 with its line. A scan of the sources keeps raw reads from coming back.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from modelgate.core.findings import Finding
from modelgate.core.resources import json_schema
from tests.attacks._typed_checks_support import (ROOT, full_manifest, places, raw_reads, replace,
                                                 wrong_values)
from tests.factory import edit_manifest, make_bundle, validate

#: Sources that must read the typed manifest only.
TYPED_READERS = sorted(
    [*ROOT.joinpath("core", "checks").glob("*.py"), *ROOT.joinpath("core", "compare").glob("*.py")]
    + [ROOT / "core" / "bundle" / name for name in ("summary.py", "integrity.py", "scope.py")]
    + [ROOT / "core" / "registry" / name for name in ("compare.py", "facets.py", "service.py", "gates.py")]
    + [*ROOT.joinpath("gui", "inspector").glob("*.py")]
    + [*ROOT.joinpath("core", "benchmarks").glob("*.py"), *ROOT.joinpath("core", "evidence").glob("*.py")]
    + [*ROOT.joinpath("core", "reports").glob("*.py"), *ROOT.joinpath("core", "cli").glob("*_text.py")]
    + [*ROOT.joinpath("core", "formats", "onnx").glob("graph_*.py")]
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("typed") / "b"
    make_bundle(root)
    return root


def _crashes(report) -> list[Finding]:
    return [f for f in report.findings if f.rule == "MG100"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(wrong_values()))
def test_every_check_survives_every_value_of_every_wrong_kind(template, kind):
    value = wrong_values()[kind]
    clean = full_manifest()
    failures = []
    for path in places(clean):
        data = copy.deepcopy(clean)
        replace(data, path, copy.deepcopy(value))
        edit_manifest(template, lambda m, data=data: (m.clear(), m.update(data)))
        report = validate(template)
        crashes = _crashes(report)
        if crashes:
            failures.append((path, [f.message for f in crashes]))
    assert failures == []


@pytest.mark.parametrize("path,value,expected", [
    (("provenance", "seed"), "1234", "integer"),
    (("lifecycle",), {"deprecation": {"after": 20270101}}, "string"),
    (("targets", 0, "memory_mb"), "lots", "number"),
    (("license",), ["MIT"], "string"),
    (("provenance", "datasets", 0, "license"), 5, "string"),
])
def test_a_wrong_type_is_named_with_its_field_line_and_expected_type(template, path, value, expected):
    data = full_manifest()
    replace(data, path, value)
    edit_manifest(template, lambda m: (m.clear(), m.update(data)))
    report = validate(template)
    assert _crashes(report) == []
    typed = [f for f in report.findings if f.rule == "MG103" and expected in f.message]
    assert typed, [f.message for f in report.findings if f.rule == "MG103"]
    assert all(f.location.line for f in typed)


CARD = "---\nmodel_name: {name}\nversion: {version}\nlicense: {license}\n---\n# Model card\n"


@pytest.mark.parametrize("kind", sorted(wrong_values()))
@pytest.mark.parametrize("key", ["model_name", "version", "license"])
def test_card_front_matter_of_every_wrong_kind_is_one_finding(template, kind, key):
    import json

    card = {"name": '"tiny-classifier"', "version": '"1.0.0"', "license": "Apache-2.0"}
    card[{"model_name": "name"}.get(key, key)] = json.dumps(wrong_values()[kind])
    data = full_manifest()
    edit_manifest(template, lambda m: (m.clear(), m.update(data)))
    (template / "MODEL_CARD.md").write_text(CARD.format(**card), encoding="utf-8")
    report = validate(template)
    assert _crashes(report) == []
    rule = "MG506" if key == "license" else "MG507"
    about = [f for f in report.findings if f.rule == rule]
    assert len(about) == 1 and f"gives {key}" in about[0].message and about[0].location.line


def _properties(schema: dict, prefix: str = "") -> set[str]:
    """Dotted paths of the properties of the schema's object sections, two levels deep."""
    found = set()
    for key, spec in schema.get("properties", {}).items():
        found.add(prefix + key)
        if not prefix and spec.get("type") == "object":
            found |= _properties(spec, f"{key}.")
    return found


def test_the_sweep_covers_every_part_of_the_standard():
    data = full_manifest()
    given = {".".join(str(step) for step in path) for path in places(data) if len(path) <= 2}
    assert _properties(json_schema("bundle.schema.json")) <= given


def test_the_scan_finds_raw_reads():
    source = "\n".join([
        "x = ctx.manifest.get('license')",
        "y = ctx.manifest['name']",
        "z = (ctx.manifest or {}).get('benchmarks')",
        "w = champion.manifest.get('name')",
        "v = section(ctx.manifest, 'artifacts', list)",
        "u = card.front_matter['license']",
        "t = front.get('version')",
        "s = ctx.gates.get('metrics')",
        "r = policy.stage(stage)['approvals']",
        "ok = ctx.typed.license",
        "fine = card.front.value('license')",
    ])
    assert [number for number, _ in raw_reads(source)] == [1, 2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("source", TYPED_READERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_checks_and_renderers_read_no_raw_manifest(source):
    assert raw_reads(source.read_text(encoding="utf-8")) == []


def test_stage_gates_are_typed_and_frozen():
    from modelgate.core.policy.document import StageGates, load_policy

    policy = load_policy()
    for stage in ("draft", "candidate", "staging", "production", "deprecated", "archived"):
        gates = policy.gates(stage)
        assert isinstance(gates, StageGates)
        with pytest.raises(dataclasses.FrozenInstanceError):
            gates.require_lock = True
        assert all(isinstance(field, str) for field in gates.provenance)
        assert all(isinstance(gate.metric, str) for gate in gates.metrics)
        if gates.regression is not None:
            with pytest.raises(TypeError):
                gates.regression["default"] = {}


@pytest.mark.parametrize("value", list(wrong_values().values()), ids=sorted(wrong_values()))
@pytest.mark.parametrize("key", ["require_lock", "provenance", "metrics", "regression", "approvals",
                                 "signature"])
def test_stage_gates_of_any_shape_read_as_typed_gates(key, value):
    from modelgate.core.policy.document import stage_gates

    gates = stage_gates({key: copy.deepcopy(value)})
    assert isinstance(gates.require_lock, bool) and isinstance(gates.approvals.count, int)
    assert all(isinstance(f, str) for f in gates.provenance) and all(isinstance(r, str) for r in gates.signature.roles)
