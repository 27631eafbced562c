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
BUNDLE_FORMAT_SAMPLES = "modelgate.bundle/v1.1"


@dataclass(frozen=True)
class StarterResult:
    directory: Path
    files: tuple[str, ...]
    model: str | None
    kept: tuple[str, ...] = ()


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
                   variant: str | None = None, force: bool = False,
                   samples: Path | None = None) -> StarterResult:
    """Write a starter bundle for ``name`` into ``directory``.

    With ``model`` (any format ModelGate reads, recognised by its bytes), the file is
    copied into ``model/`` (with its external data or shards) and the manifest's artifact,
    interface, targets and, where the file says, variant and license are filled from it.
    Without ``variant``, the file's own quantisation or dtype names it (else ``fp32``). For an
    ONNX model the target's runtime version is the oldest onnxruntime that loads it. Sample sets
    (``input_K.pb``/``output_K.pb`` folders in the ONNX test-data layout) come from ``samples``
    (one set, or a folder of sets), else from ``test_data_set_*`` folders beside the model;
    they are copied to ``samples/set_N/`` and declared. ``force``
    allows a non-empty folder but never overwrites a file already there: run
    again with ``--model`` to add a model to a starter bundle without losing edits.
    """
    check_name(name)
    if directory.exists() and not directory.is_dir():
        raise BundleError(f"{directory} is a file, not a folder", hint="Choose another --dir.")
    if directory.exists() and any(directory.iterdir()) and not force:
        raise BundleError(f"{directory} already exists and is not empty",
                          hint="Choose another --dir, or pass --force to add to it "
                               "(files already there are kept).")
    read = _read_model(model) if model is not None else None  # before anything is written
    if samples is not None and model is None:
        raise UsageError("--samples needs --model", hint="Pass the model the samples are for.")
    sets = _sample_sets(samples if samples is not None else model.parent if model else None,
                        explicit=samples is not None)
    owner = _owner()
    values = {"name": name, "date": datetime.date.today().isoformat(),
              "owner": owner, "email": f"{owner}@example.com"}
    template = resources.path(TEMPLATE)
    written, kept = [], []
    try:
        for source in sorted(template.rglob("*")):
            if not source.is_file():
                continue
            relative = source.relative_to(template).as_posix()
            target = directory / relative
            if target.exists():
                kept.append(relative)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            text = source.read_text(encoding="utf-8")
            if source.suffix in (".yaml", ".md", ".json"):
                text = string.Template(text).safe_substitute(values)
            target.write_text(text, encoding="utf-8")
            written.append(relative)
        (directory / "model").mkdir(exist_ok=True)
        model_rel = None
        if model is not None:
            model_rel = _add_model(directory, model, read, variant, fresh="bundle.yaml" in written)
            written.append(model_rel)
            written += _add_samples(directory, sets)
    except OSError as exc:
        raise BundleError(f"cannot write the bundle in {directory}: {exc.strerror or exc}",
                          hint="Choose a folder you can write to.") from None
    return StarterResult(directory, tuple(sorted(written)), model_rel, tuple(kept))


@dataclass(frozen=True)
class _Model:
    """A model file read before anything is written: its format, facts, and ONNX graph if any."""

    format: object
    facts: object
    proto: object | None


def _read_model(model: Path) -> _Model:
    """The model's format and facts, or a clear refusal, before anything is written."""
    from modelgate.core.formats import registry
    from modelgate.core.formats.interface import FormatError

    if not model.exists():
        raise BundleError(f"{model}: no such model file")
    if not model.is_file():
        raise BundleError(f"{model} is not a file", hint="Pass the model file itself.")
    fmt = registry.detect(model) or registry.by_suffix(model)  # by name only to explain a refusal
    if fmt is None:
        raise BundleError(f"{model} is not a model file ModelGate reads",
                          hint="Pass an ONNX, safetensors (or its .index.json), GGUF, TFLite or "
                               "PyTorch/pickle file.")
    if fmt.onnx_checks:
        return _Model(fmt, None, _read_onnx(model))
    try:
        facts = fmt.read(path=model, label=f"model/{model.name}")
    except FormatError as error:
        raise BundleError(f"{model} is not a readable {fmt.title} file: {error.message}") from None
    return _Model(fmt, facts, None)


def _read_onnx(model: Path):
    from modelgate.core.formats.onnx.info import load_header

    try:
        proto = load_header(model)
    except Exception as exc:  # onnx raises DecodeError, ValueError, OSError...
        raise BundleError(f"{model} is not a readable ONNX model ({exc.__class__.__name__})",
                          hint="Export the model to ONNX first, e.g. with torch.onnx.export.") from None
    if not proto.graph.node or not proto.graph.output:
        raise BundleError(f"{model} holds no ONNX graph (no nodes or no outputs)",
                          hint="Export the model to ONNX first, e.g. with torch.onnx.export.")
    return proto


def _spdx(license_id: str | None) -> str | None:
    """The SPDX spelling of a license id a model file declares, when it is one."""
    import json

    if not license_id:
        return None
    known = json.loads(resources.text("spdx-ids.json"))
    entry = known.get(license_id.strip().lower())
    return entry[0] if entry and not entry[1] else None


def _add_model(directory: Path, model: Path, read: _Model, variant: str | None, *, fresh: bool) -> str:
    from modelgate.core.bundle import safeyaml
    from modelgate.core.formats.onnx import ortcompat
    from modelgate.core.bundle.lock import dump_manifest
    from modelgate.core.bundle.manifest import entries
    from modelgate.core.formats.onnx.info import default_opset, graph_interface
    from modelgate.core.outputs import write_atomically

    relative = f"model/{model.name}"
    shutil.copyfile(model, directory / relative)
    starter = None
    if read.proto is not None:
        _copy_external_data(read.proto, model.parent, directory / "model")
    else:
        starter = read.format.starter(path=model, facts=read.facts)
        for extra in starter.extra_files:
            shutil.copyfile(extra, directory / "model" / extra.name)
    variant = variant or (starter.variant if starter else None) or "fp32"
    manifest_path = directory / "bundle.yaml"
    try:
        data = safeyaml.load(manifest_path.read_text(encoding="utf-8"))
    except (safeyaml.YamlProblem, UnicodeDecodeError) as problem:
        raise BundleError(f"{manifest_path} cannot be read ({problem}); the model was copied but not listed",
                          hint="Fix bundle.yaml, then run the command again.") from None
    if not isinstance(data, dict):
        raise BundleError(f"{manifest_path} is not a mapping; the model was copied but not listed")
    others = [a for a in entries(data, "artifacts") if a.get("variant") != variant]
    data["artifacts"] = [*others, {"path": relative, "format": read.format.names[0], "variant": variant}]
    interface = graph_interface(read.proto) if read.proto is not None else starter.interface
    if interface is not None:  # a weights-only file states none; the example stays to be filled in
        data["interface"] = {"version": "1", **interface}
    opset = default_opset(read.proto) if read.proto is not None else None
    # The oldest onnxruntime that loads the model, so the target promises no more than it needs.
    release = ortcompat.oldest_release(ortcompat.model_needs(read.proto)) if read.proto is not None else None
    for target in entries(data, "targets"):
        target["artifact"] = variant
        if read.proto is None:
            target["runtime"] = read.format.runtimes[0]
            target.pop("max_opset", None)
            target.pop("runtime_version", None)
            continue
        current = ortcompat.parse_version(target.get("runtime_version"))
        # A version someone wrote is kept unless the model needs a newer one.
        if release is not None and target.get("runtime") == "onnxruntime" and \
                (fresh or current is None or current < release):
            target["runtime_version"] = ortcompat.show(release)
        current = target.get("max_opset")
        if opset:
            target["max_opset"] = max(current if isinstance(current, int) else 0, opset)
    if starter is not None and _spdx(starter.license):
        data["license"] = _spdx(starter.license)
    if starter is not None and starter.description:
        data["description"] = starter.description
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


def _sample_sets(folder: Path | None, *, explicit: bool) -> list[Path]:
    """The sample-set folders under ``folder``: itself when it holds ``input_0.pb``, else its
    ``test_data_set_*`` (or, when named explicitly, any) sub-folders that do."""
    if folder is None:
        return []
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of sample inputs",
                         hint="Pass a folder holding input_0.pb, or folders of them.")
    if (folder / "input_0.pb").is_file():
        return [folder]
    pattern = "*" if explicit else "test_data_set_*"
    found = sorted(p for p in folder.glob(pattern) if (p / "input_0.pb").is_file())
    if explicit and not found:
        raise UsageError(f"{folder} holds no sample set (no input_0.pb in it or its folders)",
                         hint="A sample set is a folder of input_K.pb (and output_K.pb) files.")
    return found


def _add_samples(directory: Path, sets: list[Path]) -> list[str]:
    """Copy each set's ``input_K.pb``/``output_K.pb`` to ``samples/set_N`` and declare them."""
    if not sets:
        return []
    from modelgate.core.bundle import safeyaml
    from modelgate.core.bundle.lock import dump_manifest
    from modelgate.core.outputs import write_atomically

    written, declared = [], []
    for number, source in enumerate(sets):
        folder = f"samples/set_{number}"
        (directory / folder).mkdir(parents=True, exist_ok=True)
        for file in sorted(source.glob("*.pb")):
            if re.fullmatch(r"(input|output)_\d+\.pb", file.name):
                shutil.copyfile(file, directory / folder / file.name)
                written.append(f"{folder}/{file.name}")
        declared.append(folder)
    manifest_path = directory / "bundle.yaml"
    data = safeyaml.load(manifest_path.read_text(encoding="utf-8"))
    data["bundle_format"] = BUNDLE_FORMAT_SAMPLES  # samples came with v1.1
    data["samples"] = {"sets": declared}
    write_atomically(manifest_path, dump_manifest(data))
    return written
