"""The manifest as typed, frozen objects: what checks and renderers read instead of raw YAML.

The JSON Schema reports every value of the wrong type as an MG103 finding with
its line. :func:`typed_manifest` then takes each value only when it has the
type the bundle standard gives it; any other value (a list where a variant
belongs, a number where a digest belongs, ``shape: 5``) becomes ``None`` or an
empty tuple, so nothing downstream can trip over it a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _mappings(value) -> list[tuple[int, dict]]:
    """The mappings of a list, with their index in it (other items are left out)."""
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _text_indices(value) -> tuple[int, ...]:
    return tuple(i for i, item in enumerate(value) if isinstance(item, str)) if isinstance(value, list) else ()


def _texts(value) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Artifact:
    """One entry of ``artifacts``; ``index`` is its place in the list, for manifest paths."""

    index: int
    path: str | None
    format: str | None
    variant: str | None
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class Tensor:
    """One interface input or output; ``shape`` is ``None`` when absent or not a list of dims.

    ``index`` is its place in the manifest's list, for manifest paths.
    """

    index: int
    name: str | None
    dtype: str | None
    shape: tuple[int | str, ...] | None
    description: str | None

    def as_dict(self) -> dict:
        """The keys that were given, as plain data (the form ``inspect --json`` prints)."""
        data = {"name": self.name, "dtype": self.dtype,
                "shape": list(self.shape) if self.shape is not None else None,
                "description": self.description}
        return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class Interface:
    version: str | None
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    #: The sections (``inputs``, ``outputs``) given as lists, even empty ones: an empty list
    #: declares "none", an absent one declares nothing.
    listed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    index: int
    name: str | None
    runtime: str | None
    runtime_version: str | None
    max_opset: int | None
    device: str | None
    artifact: str | None
    memory_mb: float | int | None
    latency_p95_ms: float | int | None

    def as_dict(self) -> dict:
        data = {"name": self.name, "runtime": self.runtime, "runtime_version": self.runtime_version,
                "max_opset": self.max_opset, "device": self.device, "artifact": self.artifact,
                "memory_mb": self.memory_mb, "latency_p95_ms": self.latency_p95_ms}
        return {key: value for key, value in data.items() if value is not None}


def _present(**values) -> dict:
    """The given values that are not ``None``: the keys a manifest gave, as plain data."""
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Owner:
    name: str | None
    email: str | None

    def as_dict(self) -> dict:
        return _present(name=self.name, email=self.email)


@dataclass(frozen=True)
class Dependency:
    name: str | None
    version: str | None
    sha256: str | None

    def as_dict(self) -> dict:
        return _present(name=self.name, version=self.version, sha256=self.sha256)


@dataclass(frozen=True)
class Dataset:
    """One entry of ``provenance.datasets``; ``index`` is its place in the list."""

    index: int
    name: str | None
    version: str | None
    uri: str | None
    sha256: str | None
    license: str | None


@dataclass(frozen=True)
class Provenance:
    repository: str | None
    commit: str | None
    training_run: str | None
    framework_name: str | None
    framework_version: str | None
    seed: int | None
    datasets: tuple[str, ...]  # dataset names
    parent: str | None
    created_at: str | None
    dataset_entries: tuple[Dataset, ...]
    hyperparameters: MappingProxyType  # free-form, read only for presence

    def framework(self) -> dict | None:
        """``{name, version}`` as given, or ``None`` when the manifest names no framework."""
        given = _present(name=self.framework_name, version=self.framework_version)
        return given or None


@dataclass(frozen=True)
class Lifecycle:
    deprecation_after: str | None
    replacement: str | None
    planned: bool  # lifecycle.deprecation is given as a mapping

    def as_dict(self) -> dict:
        deprecation = _present(after=self.deprecation_after, replacement=self.replacement)
        return {"deprecation": deprecation} if deprecation else {}


@dataclass(frozen=True)
class Manifest:
    """The typed manifest: every field holds the standard's type or ``None``/empty."""

    name: str | None
    version: str | None
    description: str | None
    license: str | None
    license_files: tuple[str, ...]
    tags: tuple[str, ...]
    artifacts: tuple[Artifact, ...]
    interface: Interface
    targets: tuple[Target, ...]
    benchmarks: tuple[str, ...]
    files: MappingProxyType  # relative path -> sha256, string entries only
    #: Whether ``files`` is given as a mapping: the bundle is locked (or was, if stale).
    files_given: bool
    owners: tuple[Owner, ...]
    dependencies: tuple[Dependency, ...]
    provenance: Provenance
    lifecycle: Lifecycle
    #: Dotted paths of the keys the manifest gives, whatever their values' types
    #: (``"provenance.seed"``, ``"lifecycle.deprecation.after"``). A key that is given but
    #: reads as ``None`` or empty here had the wrong type, which MG103 already reports.
    given: MappingProxyType  # dotted path -> the value as shown in messages
    #: For ``license_files``, ``tags`` and ``benchmarks``: each kept string's place in the list.
    text_indices: MappingProxyType
    #: Top-level keys given as lists, with how many items each holds (of any type).
    list_lengths: MappingProxyType

    def indexed(self, key: str) -> tuple[tuple[int, str], ...]:
        """``(place in the manifest's list, text)`` for the strings of list field ``key``."""
        return tuple(zip(self.text_indices.get(key, ()), getattr(self, key)))

    def is_list(self, key: str) -> bool:
        """Whether top-level ``key`` is given as a list (of items of any type)."""
        return key in self.list_lengths

    def has(self, path: str) -> bool:
        """Whether the manifest gives the key at dotted ``path`` (any type)."""
        return path in self.given

    def shown(self, path: str) -> str:
        """The value given at ``path`` as a message shows it (``repr``, shortened), or ``""``."""
        return self.given.get(path, "")

    def mistyped(self, path: str, value) -> bool:
        """Whether the key at ``path`` is given but its typed ``value`` is ``None``: a wrong type."""
        return value is None and path in self.given

    def artifact_variants(self) -> frozenset[str]:
        return frozenset(a.variant for a in self.artifacts if a.variant is not None)


def _dim(value) -> int | str | None:
    return value if isinstance(value, str) or _integer(value) is not None else None


def _tensor(index: int, data: dict) -> Tensor:
    shape = data.get("shape")
    dims = tuple(_dim(d) for d in shape) if isinstance(shape, list) else None
    return Tensor(index=index, name=_text(data.get("name")), dtype=_text(data.get("dtype")),
                  shape=dims if dims is not None and None not in dims else None,
                  description=_text(data.get("description")))


def _provenance(data: dict) -> Provenance:
    source, framework = _mapping(data.get("source")), _mapping(data.get("framework"))
    return Provenance(
        repository=_text(source.get("repository")), commit=_text(source.get("commit")),
        training_run=_text(data.get("training_run")),
        framework_name=_text(framework.get("name")), framework_version=_text(framework.get("version")),
        seed=_integer(data.get("seed")),
        datasets=tuple(name for _, d in _mappings(data.get("datasets"))
                       if (name := _text(d.get("name"))) is not None),
        parent=_text(data.get("parent")), created_at=_text(data.get("created_at")),
        dataset_entries=tuple(
            Dataset(index=i, name=_text(d.get("name")), version=_text(d.get("version")),
                    uri=_text(d.get("uri")), sha256=_text(d.get("sha256")),
                    license=_text(d.get("license")))
            for i, d in _mappings(data.get("datasets"))),
        hyperparameters=MappingProxyType(dict(_mapping(data.get("hyperparameters")))))


#: The mapping sections whose keys :attr:`Manifest.given` records, by dotted path.
_SECTIONS = ("interface", "provenance", "provenance.source", "provenance.framework",
             "lifecycle", "lifecycle.deprecation")


#: Longest ``repr`` of a given value kept for messages; longer ones are cut with "...".
_SHOWN = 80


def _shown(value) -> str:
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)} item(s)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return "a very large integer"  # repr of a huge int is slow and unreadable
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def _given(data: dict) -> MappingProxyType:
    paths = {key: _shown(value) for key, value in data.items() if isinstance(key, str)}
    for section in _SECTIONS:
        node = data
        for part in section.split("."):
            node = _mapping(node.get(part))
        paths.update((f"{section}.{key}", _shown(value)) for key, value in node.items()
                     if isinstance(key, str))
    return MappingProxyType(paths)


def typed_manifest(data: dict | None) -> Manifest:
    """The typed view of a parsed manifest (``None`` gives an empty one)."""
    data = _mapping(data)
    interface = _mapping(data.get("interface"))
    deprecation = _mapping(_mapping(data.get("lifecycle")).get("deprecation"))
    files = {key: value for key, value in _mapping(data.get("files")).items()
             if isinstance(key, str) and isinstance(value, str)}
    return Manifest(
        name=_text(data.get("name")), version=_text(data.get("version")),
        description=_text(data.get("description")), license=_text(data.get("license")),
        license_files=_texts(data.get("license_files")), tags=_texts(data.get("tags")),
        artifacts=tuple(
            Artifact(index=i, path=_text(a.get("path")), format=_text(a.get("format")),
                     variant=_text(a.get("variant")), sha256=_text(a.get("sha256")),
                     size=_integer(a.get("size")))
            for i, a in _mappings(data.get("artifacts"))),
        interface=Interface(
            version=_text(interface.get("version")),
            inputs=tuple(_tensor(i, t) for i, t in _mappings(interface.get("inputs"))),
            outputs=tuple(_tensor(i, t) for i, t in _mappings(interface.get("outputs"))),
            listed=tuple(k for k in ("inputs", "outputs") if isinstance(interface.get(k), list))),
        targets=tuple(
            Target(index=i, name=_text(t.get("name")), runtime=_text(t.get("runtime")),
                   runtime_version=_text(t.get("runtime_version")), max_opset=_integer(t.get("max_opset")),
                   device=_text(t.get("device")), artifact=_text(t.get("artifact")),
                   memory_mb=_number(t.get("memory_mb")), latency_p95_ms=_number(t.get("latency_p95_ms")))
            for i, t in _mappings(data.get("targets"))),
        benchmarks=_texts(data.get("benchmarks")),
        files=MappingProxyType(files), files_given=isinstance(data.get("files"), dict),
        owners=tuple(Owner(name=_text(o.get("name")), email=_text(o.get("email")))
                     for _, o in _mappings(data.get("owners"))),
        dependencies=tuple(Dependency(name=_text(d.get("name")), version=_text(d.get("version")),
                                      sha256=_text(d.get("sha256")))
                           for _, d in _mappings(data.get("dependencies"))),
        provenance=_provenance(_mapping(data.get("provenance"))),
        lifecycle=Lifecycle(deprecation_after=_text(deprecation.get("after")),
                            replacement=_text(deprecation.get("replacement")),
                            planned=isinstance(_mapping(data.get("lifecycle")).get("deprecation"), dict)),
        given=_given(data),
        list_lengths=MappingProxyType({key: len(value) for key, value in data.items()
                                       if isinstance(key, str) and isinstance(value, list)}),
        text_indices=MappingProxyType({key: _text_indices(data.get(key))
                                       for key in ("license_files", "tags", "benchmarks")}),
    )
