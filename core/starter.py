"""``modelgate init``: write a starter bundle from the shipped template."""

from __future__ import annotations

import datetime
import getpass
import os
import re
import shutil
import string
from dataclasses import dataclass
from pathlib import Path

from modelgate.core import resources
from modelgate.core.errors import BundleError, UsageError

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TEMPLATE = "templates/starter"


@dataclass(frozen=True)
class StarterResult:
    directory: Path
    files: tuple[str, ...]
    model: str | None


def check_name(name: str) -> None:
    """Refuse a bundle name the standard does not allow, saying why."""
    if len(name) > 100 or not NAME_PATTERN.match(name):
        raise UsageError(
            f"{name!r} is not a valid bundle name",
            hint="Use at most 100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )


def _owner() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "owner"


def create_starter(*, name: str, directory: Path, model: Path | None = None,
                   variant: str = "fp32", force: bool = False) -> StarterResult:
    """Write a starter bundle for ``name`` into ``directory``.

    With ``model``, the ONNX file is copied into ``model/`` and the manifest's
    artifact, interface and target opset are filled from its graph.
    """
    check_name(name)
    if directory.exists() and any(directory.iterdir()) and not force:
        raise BundleError(f"{directory} already exists and is not empty",
                          hint="Choose another --dir, or pass --force to write into it.")
    if model is not None and not model.is_file():
        raise BundleError(f"{model}: no such model file")
    owner = _owner()
    values = {"name": name, "date": datetime.date.today().isoformat(),
              "owner": owner, "email": f"{owner}@example.com"}
    template = resources.path(TEMPLATE)
    written = []
    for source in sorted(template.rglob("*")):
        if not source.is_file():
            continue
        relative = source.relative_to(template).as_posix()
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text(encoding="utf-8")
        if source.suffix in (".yaml", ".md", ".json"):
            text = string.Template(text).safe_substitute(values)
        target.write_text(text, encoding="utf-8")
        written.append(relative)
    (directory / "model").mkdir(exist_ok=True)
    model_rel = None
    if model is not None:
        model_rel = _add_model(directory, model, variant)
        written.append(model_rel)
    return StarterResult(directory, tuple(sorted(written)), model_rel)


def _add_model(directory: Path, model: Path, variant: str) -> str:
    from modelgate.core import safeyaml
    from modelgate.core.lock import dump_manifest, write_atomically
    from modelgate.core.onnxinfo import default_opset, graph_interface, load_header

    try:
        proto = load_header(model)
    except Exception as exc:  # onnx raises DecodeError, ValueError, OSError...
        raise BundleError(f"{model} is not a readable ONNX model ({exc.__class__.__name__})",
                          hint="Export the model to ONNX first, e.g. with torch.onnx.export.") from None
    relative = f"model/{model.name}"
    shutil.copyfile(model, directory / relative)
    _copy_external_data(proto, model.parent, directory / "model")
    manifest_path = directory / "bundle.yaml"
    data = safeyaml.load(manifest_path.read_text(encoding="utf-8"))
    data["artifacts"] = [{"path": relative, "format": "onnx", "variant": variant}]
    interface = graph_interface(proto)
    data["interface"] = {"version": "1", **interface}
    opset = default_opset(proto)
    for target in data.get("targets") or []:
        target["artifact"] = variant
        if opset:
            target["max_opset"] = max(int(target.get("max_opset", 0)), opset)
    write_atomically(manifest_path, dump_manifest(data))
    return relative


def _copy_external_data(proto, source_dir: Path, target_dir: Path) -> None:
    """Copy the external-data files a model names, refusing any that leave its folder."""
    locations = set()
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                locations.add(entry.value)
    root = source_dir.resolve()
    for location in sorted(locations):
        source = (source_dir / location).resolve()
        if not source.is_relative_to(root) or os.path.isabs(location):
            raise BundleError(f"the model's external data {location!r} lies outside its folder",
                              hint="Save the model with its external data beside it.")
        target = target_dir / location
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
