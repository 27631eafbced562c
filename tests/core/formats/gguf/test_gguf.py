"""GGUF: facts from its metadata, cross-checked against the manifest."""

from __future__ import annotations

from modelgate.core.bundle.manifest_types import typed_manifest
from modelgate.core.formats import registry
from modelgate.core.formats.rules import METADATA_MISMATCH, SHARDS
from modelgate.core.findings import Severity
from tests.core.formats import _writers


def test_gguf_facts_come_from_its_metadata(tmp_path):
    path = _writers.write_gguf(tmp_path / "m.gguf")
    fmt = registry.by_name("gguf")
    facts = fmt.read(path=path, label="model/m.gguf")
    assert facts.meta("general.architecture") == "llama"
    assert facts.meta("llama.context_length") == "256"
    assert facts.meta("tokenizer.ggml.model") == "llama"
    assert {t.name: (t.dtype, t.shape) for t in facts.tensors} == {
        "token_embd.weight": ("F16", (16, 8)), "output_norm.weight": ("F32", (8,))}
    starter = fmt.starter(path=path, facts=facts)
    assert (starter.variant, starter.license) == ("f16", "apache-2.0")


def test_gguf_metadata_is_cross_checked_against_the_manifest(tmp_path):
    fmt = registry.by_name("gguf")
    facts = fmt.read(path=_writers.write_gguf(tmp_path / "m.gguf", name="Other Model", license_id="mit"),
                     label="model/m.gguf")
    manifest = typed_manifest({"name": "tiny-llama", "license": "Apache-2.0"})
    found = list(fmt.cross_check(facts=facts, manifest=manifest))
    assert [(f.rule, f.severity, f.location.path) for f in found] == [
        (METADATA_MISMATCH.id, Severity.ERROR, "license"), (METADATA_MISMATCH.id, Severity.WARNING, "name")]
    same = fmt.read(path=_writers.write_gguf(tmp_path / "n.gguf", name="Tiny Llama"), label="n")
    assert list(fmt.cross_check(facts=same, manifest=manifest)) == []
