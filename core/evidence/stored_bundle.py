"""What the report reads from stored bundles: the manifest summary and the benchmark results."""

from __future__ import annotations

from pathlib import Path

from modelgate.core.benchmarks.rows import benchmark_rows
from modelgate.core.benchmarks.results import load_results
from modelgate.core.errors import ModelGateError
from modelgate.core.evidence.pack import Artifact, BenchmarkEvidence, ManifestSummary
from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.bundle.manifest_types import typed_manifest
from modelgate.core.policy.document import Policy

#: Provenance keys of :func:`modelgate.core.bundle.summary.summarise`, with the labels the report uses.
PROVENANCE = (("repository", "Source repository"), ("commit", "Source commit"),
              ("training_run", "Training run"), ("framework", "Framework"), ("seed", "Seed"),
              ("datasets", "Datasets"), ("parent", "Parent version"), ("created_at", "Created"))


def _text(value) -> str | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _owner(owner: dict) -> str:
    name, email = owner.get("name"), owner.get("email")
    return f"{name} <{email}>" if name and email else str(name or email or "?")


def manifest_summary(summary: dict) -> ManifestSummary:
    """The report's manifest summary from :func:`~modelgate.core.bundle.summary.summarise`'s output."""
    artifacts = tuple(Artifact(str(a.get("path")), a.get("format"), a.get("variant"), a.get("sha256"),
                               a.get("size")) for a in summary.get("artifacts", ()))
    provenance = summary.get("provenance") or {}
    filled = tuple((label, text) for key, label in PROVENANCE
                   if (text := _text(provenance.get(key))) is not None)
    return ManifestSummary(
        name=summary.get("name"), version=summary.get("version"), description=_text(summary.get("description")),
        owners=tuple(_owner(o) for o in summary.get("owners", ())), license=_text(summary.get("license")),
        tags=tuple(summary.get("tags", ())), artifacts=artifacts, provenance=filled)


def _results(path: Path):
    from modelgate.core.bundle.reader import open_bundle

    with open_bundle(path) as bundle:
        manifest = load_manifest(bundle).require()
        return manifest, *load_results(bundle, manifest)


def read_stored(*, path: Path, policy: Policy, stage: str,
                champion: tuple[str, Path] | None) -> tuple[ManifestSummary, BenchmarkEvidence]:
    """Read the stored bundle at ``path`` (and the ``(label, folder)`` of the champion) without
    hashing it again: the caller has just checked its digest. A bundle that cannot be read
    gives a summary and benchmarks that say why, never an exception."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.bundle.summary import summarise

    label = champion[0] if champion else None
    try:
        with open_bundle(path) as bundle:
            summary = summarise(bundle, verify=False)
            manifest = load_manifest(bundle).require()
            results, problems = load_results(bundle, manifest)
    except ModelGateError as error:
        why = f"the stored bundle cannot be read: {error.message}"
        return (ManifestSummary(problem=why),
                BenchmarkEvidence(stage, policy.name, label, problems=(why,)))
    notes = [p.message for p in problems]
    champion_results = ()
    if champion is not None:
        try:
            _, champion_results, _ = _results(champion[1])
        except ModelGateError as error:
            notes.append(f"the champion {label} cannot be read: {error.message}")
    rows = benchmark_rows(results=results, champion_results=champion_results, policy=policy, stage=stage,
                          targets=typed_manifest(manifest).targets)
    return manifest_summary(summary), BenchmarkEvidence(stage, policy.name, label, tuple(rows), tuple(notes))
