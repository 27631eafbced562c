"""The facts of a bundle's artifacts, in any format, as plain data for ``inspect``, reports and the app."""

from __future__ import annotations

from modelgate.core.bundle.manifest_types import Manifest
from modelgate.core.bundle.reader import Bundle
from modelgate.core.formats import registry
from modelgate.core.formats.interface import FormatError, ModelFacts
from modelgate.core.formats.rules import FORMAT_MISMATCH, UNREADABLE

#: Tensors listed per artifact; the totals always cover all of them.
MAX_TENSORS = 500


def facts_as_dict(facts: ModelFacts) -> dict:
    """JSON-ready facts: tensors (capped) with totals, metadata, interface, operators, imports."""
    total = facts.tensor_bytes
    return {
        "format": facts.format, "path": facts.path, "size": facts.size,
        "tensor_count": len(facts.tensors), "parameters": facts.parameter_count, "tensor_bytes": total,
        "dtypes": list(facts.dtypes),
        "tensors": [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "bytes": t.nbytes,
                     "share": (t.nbytes or 0) / total if total else None} for t in facts.tensors[:MAX_TENSORS]],
        "metadata": {key: value for key, value in facts.metadata},
        "interface": facts.interface(),
        "operators": [{"name": name, "version": version} for name, version in facts.operators],
        "custom_operators": list(facts.custom_operators),
        "imports": list(facts.imports),
        "files": list(facts.files),
    }


def read_artifact(*, bundle: Bundle, path: str, declared: str | None) -> tuple[ModelFacts | None, list]:
    """Read one artifact by the format its bytes are in; the findings reading gave (never raises
    for a bad file)."""
    file = bundle.resolve(path)
    fmt, wanted = registry.detect(file), registry.by_name(declared)
    findings = []
    if wanted is not None and fmt is not None and fmt is not wanted:
        findings.append(FORMAT_MISMATCH.finding(f"{path} is declared as {declared} but is a {fmt.title} file",
                                                file=path))
    fmt = fmt or wanted  # a file in no known format is read as declared: its reader says what is wrong
    if fmt is None:
        return None, [UNREADABLE.finding(f"{path} is in no format ModelGate reads", file=path)]
    try:
        facts = fmt.read(path=file, label=path)
    except FormatError as error:
        return None, findings + [UNREADABLE.finding(error.message, file=path, hint=error.hint)]
    return facts, findings + list(facts.findings)


def describe(*, bundle: Bundle, manifest: Manifest) -> tuple[list[dict], list]:
    """Every present artifact's facts as plain data, and the findings reading them gave."""
    files, described, findings, seen = set(bundle.files()), [], [], set()
    for artifact in manifest.artifacts:
        if artifact.path is None or artifact.path not in files or artifact.path in seen:
            continue
        seen.add(artifact.path)
        facts, found = read_artifact(bundle=bundle, path=artifact.path, declared=artifact.format)
        findings.extend(found)
        entry = {"path": artifact.path, "variant": artifact.variant, "declared_format": artifact.format,
                 "facts": facts_as_dict(facts) if facts is not None else None,
                 "problems": [f.message for f in found]}
        described.append(entry)
    return described, findings
