"""The ModelPack config fields a bundle's model files hold and ``bundle.yaml`` does not say.

``paramSize`` is the parameter count, the sum of the element counts of the tensors each
format's header read lists (:attr:`~modelgate.core.formats.interface.ModelFacts.parameter_count`);
when a bundle holds several artifacts (variants of one model at different precisions) the
largest count is the model's. ``architecture`` is what a file records, where one does (GGUF's
``general.architecture``). The store cannot read model formats (they are its sibling layer),
so the registry measures and hands the fields to the push and the pull.
"""

from __future__ import annotations

from pathlib import Path

from modelgate.core.errors import ModelGateError
from modelgate.core.formats import registry as formats
from modelgate.core.store import modelpack

#: Metadata keys that name a model's architecture, by the formats that write them.
ARCHITECTURE_KEYS = ("general.architecture",)


def measured_config(folder: Path, manifest: dict) -> dict:
    """``{"paramSize": …, "architecture": …}`` (each only when known) of the bundle in
    ``folder`` whose ``bundle.yaml`` is ``manifest``. An artifact that cannot be read adds
    nothing: validation, not the config, is where an unreadable model is reported."""
    counts: list[int] = []
    architectures: list[str] = []
    for artifact in manifest.get("artifacts") or []:
        if not isinstance(artifact, dict) or not artifact.get("path"):
            continue
        try:
            relative = modelpack.safe_path(str(artifact["path"]), what="an artifact path")
        except ModelGateError:
            continue
        path = Path(folder).joinpath(*relative.split("/"))
        fmt = formats.by_name(str(artifact["format"]) if artifact.get("format") else None)
        if fmt is None or not path.is_file() or path.is_symlink():
            continue
        try:
            facts = fmt.read(path=path, label=relative)
        except ModelGateError:
            continue
        if facts.tensors:
            counts.append(facts.parameter_count)
        architectures.extend(value for key in ARCHITECTURE_KEYS if (value := facts.meta(key)))
    measured = {}
    size = modelpack.param_size(max(counts)) if counts else None
    if size:
        measured["paramSize"] = size
    if architectures:
        measured["architecture"] = ",".join(dict.fromkeys(architectures))
    return measured
