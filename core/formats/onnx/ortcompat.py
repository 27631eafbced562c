"""What each onnxruntime release can load, and what the installed one says about a model.

The release table maps an onnxruntime ``major.minor`` to the ONNX release it is
built with and the limits that follow from it. Sources:

* onnxruntime's "ONNX Runtime compatibility" page (onnxruntime.ai/docs/reference/
  compatibility.html, the "ONNX opset support" table) for releases up to 1.20:
  ONNX release, ai.onnx opset and ai.onnx.ml opset per release.
* onnxruntime refuses a model whose ``ir_version`` is above the ``IR_VERSION`` of
  the ONNX library it was built with (``Model::Model`` in
  onnxruntime/core/graph/model.cc), so the IR limit is that ONNX release's IR
  version (ONNX's docs/Versioning.md, also ``onnx.helper.VERSION_TABLE``). The
  page says IR 8 for 1.15 (and 3 for 0.3), but those are built with ONNX 1.14
  (IR 9) and 1.4 (IR 4); the table follows the code so that no loadable model is
  refused. The ai.onnx.ml limits are the page's: onnxruntime implements a new
  ai.onnx.ml opset later than ONNX defines it (1.11 stays at 2, 1.18 at 4).
* Past 1.20 the page has no rows. 1.21 integrated ONNX 1.17 (onnxruntime PR
  #21897 and #23344, "Register opset 22"); 1.23 pins ONNX 1.18.0 in
  cmake/deps.txt (PR #24945, which the maintainers scheduled for 1.23). Their
  ai.onnx.ml limits are not published, so they are left unknown.

1.22 is left out on purpose: whether it shipped with ONNX 1.17 or a 1.18 release
candidate is not documented. :func:`compare` still answers for it, and for any
release newer than the table, from its neighbours: onnxruntime runs every model
an older release ran (the page's backwards-compatibility promise), so a release
supports at least what the newest older row supports and at most what the oldest
newer row supports. Anything in between "cannot be known".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Limits:
    """The newest versions an onnxruntime release can load."""

    onnx: str
    opset: int
    ir: int
    ml_opset: int | None


#: onnxruntime (major, minor) -> limits.
RELEASES: dict[tuple[int, int], Limits] = {
    (0, 1): Limits("1.3", 8, 3, 1),
    (0, 2): Limits("1.3", 8, 3, 1),
    (0, 3): Limits("1.4", 9, 4, 1),
    (0, 4): Limits("1.5", 10, 5, 1),
    (0, 5): Limits("1.5", 10, 5, 1),
    (1, 0): Limits("1.6", 11, 6, 2),
    (1, 1): Limits("1.6", 11, 6, 2),
    (1, 2): Limits("1.6", 11, 6, 2),
    (1, 3): Limits("1.7", 12, 7, 2),
    (1, 4): Limits("1.7", 12, 7, 2),
    (1, 5): Limits("1.7", 12, 7, 2),
    (1, 6): Limits("1.8", 13, 7, 2),
    (1, 7): Limits("1.8", 13, 7, 2),
    (1, 8): Limits("1.9", 14, 7, 2),
    (1, 9): Limits("1.10", 15, 8, 2),
    (1, 10): Limits("1.10", 15, 8, 2),
    (1, 11): Limits("1.11", 16, 8, 2),
    (1, 12): Limits("1.12", 17, 8, 3),
    (1, 13): Limits("1.12", 17, 8, 3),
    (1, 14): Limits("1.13", 18, 8, 3),
    (1, 15): Limits("1.14", 19, 9, 3),
    (1, 16): Limits("1.14.1", 19, 9, 3),
    (1, 17): Limits("1.15", 20, 9, 4),
    (1, 18): Limits("1.16", 21, 10, 4),
    (1, 19): Limits("1.16.1", 21, 10, 4),
    (1, 20): Limits("1.16.1", 21, 10, 4),
    (1, 21): Limits("1.17", 22, 10, None),
    (1, 23): Limits("1.18", 23, 11, None),
}

#: What a model needs, by Limits field, and how a message names it.
FIELDS = {"opset": "ai.onnx opset", "ir": "IR version", "ml_opset": "ai.onnx.ml opset"}

#: Operator domains every onnxruntime build registers kernels for.
RUNTIME_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "com.microsoft"})

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.\d+)?\s*$")


def parse_version(text) -> tuple[int, int] | None:
    """``(major, minor)`` of ``"1.18"`` or ``"1.18.2"``; ``None`` for anything else."""
    if not isinstance(text, str):
        return None
    match = _VERSION.match(text)
    return (int(match[1]), int(match[2])) if match else None


def show(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass
class Verdict:
    """How a release compares with what a model needs."""

    too_new: list[str] = field(default_factory=list)   # known incompatibilities
    unknown: list[str] = field(default_factory=list)   # needs the table cannot settle


def compare(version: tuple[int, int], needs: dict[str, int | None]) -> Verdict:
    """Compare what a model needs (``FIELDS`` keys -> version) with an onnxruntime release."""
    verdict = Verdict()
    name = f"onnxruntime {show(version)}"
    for key, need in needs.items():
        if need is None:
            continue
        known = sorted((v, getattr(limits, key)) for v, limits in RELEASES.items()
                       if getattr(limits, key) is not None)
        older = [(v, limit) for v, limit in known if v <= version]
        newer = [(v, limit) for v, limit in known if v >= version]
        if older and need <= older[-1][1]:
            continue
        label = FIELDS[key]
        if newer and need > newer[0][1]:
            at, limit = newer[0]
            bound = "" if at == version else f" (no more than {show(at)} does)"
            verdict.too_new.append(f"it needs {label} {need} and {name} loads up to {limit}{bound}")
        else:
            floor = (f" ({show(older[-1][0])} and later are known to load up to {older[-1][1]})"
                     if older else "")
            verdict.unknown.append(f"{label} {need}{floor}")
    return verdict


def model_needs(model) -> dict[str, int | None]:
    """What a loaded ``onnx.ModelProto`` needs of a runtime, by :data:`FIELDS` key."""
    opsets = {entry.domain or "ai.onnx": int(entry.version) for entry in model.opset_import}
    return {"opset": opsets.get("ai.onnx"), "ir": int(model.ir_version) or None,
            "ml_opset": opsets.get("ai.onnx.ml")}


def oldest_release(needs: dict[str, int | None]) -> tuple[int, int] | None:
    """The oldest release in :data:`RELEASES` known to load a model with ``needs``, or the
    installed release when no row settles it (the installed one is then checked for real)."""
    for version in sorted(RELEASES):
        verdict = compare(version, needs)
        if not verdict.too_new and not verdict.unknown:
            return version
    return installed_version()


def _graphs(graph):
    """``graph`` and every subgraph below it (If/Loop/Scan bodies)."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from _graphs(attribute.g)
            for sub in attribute.graphs:
                yield from _graphs(sub)


def external_locations(model) -> set[str]:
    """The ``location`` of every tensor stored outside the model file (relative to it)."""
    tensors = []
    for graph in _graphs(model.graph):
        tensors.extend(graph.initializer)
        tensors.extend(s.values for s in graph.sparse_initializer)
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    tensors.append(attribute.t)
                tensors.extend(attribute.tensors)
    found = set()
    for tensor in tensors:
        if tensor.data_location == 1:  # TensorProto.EXTERNAL
            for entry in tensor.external_data:
                if entry.key == "location" and entry.value:
                    found.add(entry.value)
    return found


def foreign_ops(model) -> dict[str, set[str]]:
    """Operators from domains onnxruntime does not ship, by domain.

    Functions defined inside the model are left out: the runtime expands them.
    """
    local = {(f.domain, f.name) for f in model.functions}
    found: dict[str, set[str]] = {}
    for graph in _graphs(model.graph):
        for node in graph.node:
            if node.domain not in RUNTIME_DOMAINS and (node.domain, node.op_type) not in local:
                found.setdefault(node.domain, set()).add(node.op_type)
    return found


def external_files(bundle, path: str, model) -> tuple[list[str], list[str]]:
    """The model's external-data files that are in the bundle, and the locations that are not.

    Locations are relative to the model file; one that leads outside the bundle is
    listed as missing and never opened.
    """
    from modelgate.core.errors import BundleError

    files = set(bundle.files())
    inside, outside = set(), set()
    for location in external_locations(model):
        relative = (PurePosixPath(path).parent / location).as_posix()
        try:
            bundle.resolve(relative)
        except BundleError:
            outside.add(location)
            continue
        if relative in files:
            inside.add(relative)
        else:
            outside.add(location)
    return sorted(inside), sorted(outside)


def size_text(count: float) -> str:
    """A byte count for messages: bytes, KiB or MiB."""
    if count >= 1024**2:
        return f"{count / 1024**2:,.1f} MiB"
    return f"{count / 1024:,.1f} KiB" if count >= 1024 else f"{int(count)} bytes"


def session_blocker(bundle, path: str, model, limit: int) -> str | None:
    """Why the model should not be loaded into onnxruntime here, or ``None``.

    onnxruntime follows external-data locations itself, so a model whose data is
    missing or outside the bundle is never handed to it.
    """
    inside, outside = external_files(bundle, path, model)
    if outside:
        return f"its external data {', '.join(outside)} is missing or outside the bundle"
    total = bundle.size(path) + sum(bundle.size(name) for name in inside)
    if total > limit:
        return f"it is {size_text(total)}, too large to load for this check"
    return None


def installed_version() -> tuple[int, int] | None:
    """``(major, minor)`` of the onnxruntime installed here, read without importing it."""
    from importlib import metadata

    for name in ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml",
                 "onnxruntime-openvino", "onnxruntime-qnn"):
        try:
            return parse_version(".".join(metadata.version(name).split(".")[:2]))
        except metadata.PackageNotFoundError:
            continue
    return None


def try_session(model_path: Path, *, model_bytes: int | None = None, progress=None) -> str | None:
    """Create a CPU session for the model in the bounded model process; ``None`` when it
    loads, else onnxruntime's message (or which limit stopped it)."""
    from modelgate.core.formats import sandbox
    size = model_bytes if model_bytes is not None else Path(model_path).stat().st_size
    try:
        sandbox.run("session", str(model_path), limits=sandbox.Limits.for_model(model_bytes=size),
                    progress=progress)
    except sandbox.LimitExceeded as breach:
        return f"the session was stopped: {breach.message}"
    except sandbox.ModelFailure as failure:
        return failure.message
    return None


_NO_KERNEL = re.compile(r"Could not find an implementation for ([\w.]+)\((\d+)\) node "
                        r"with name '([^']*)'")
_UNREGISTERED = re.compile(r"([\w.]*):(\w+)\((-?\d+)\) is not a registered function/op")
_NO_SCHEMA = re.compile(r'In Node, \("([^"]*)", (\w+), "([^"]*)", -?\d+\).*?No Op registered for \w+ '
                        r"with domain_version of (\d+)", re.S)
_IR_TOO_NEW = re.compile(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)")
_OPSET_TOO_NEW = re.compile(r"Opset (\d+) is under development.*?Current official support for "
                            r"domain ([\w.]+) is till opset (\d+)", re.S)


@dataclass(frozen=True)
class SessionFailure:
    """Why onnxruntime refused a model: ``kind`` is ``"operator"``, ``"version"`` or ``"other"``."""

    kind: str
    detail: str


#: onnxruntime messages that describe the machine rather than the model: a locale that is not
#: generated here (StringNormalizer), an execution provider that is not installed.
_MACHINE = re.compile(r"locale|Failed to construct locale|provider.*(?:not available|not found)"
                      r"|No space left on device", re.IGNORECASE)


def machine_problem(message: str) -> bool:
    """Whether onnxruntime's ``message`` is about this machine, not about the model."""
    return bool(_MACHINE.search(message))


def explain_failure(message: str) -> SessionFailure:
    """Classify an onnxruntime load error and name the operator or version when there is one."""
    if match := _NO_KERNEL.search(message):
        node = f" (node '{match[3]}')" if match[3] else ""
        return SessionFailure("operator", f"{match[1]} version {match[2]}{node}, for the "
                                          "types it is used with")
    if match := _UNREGISTERED.search(message):
        return SessionFailure("operator", f"{match[2]} from domain {match[1] or 'ai.onnx'}")
    if match := _NO_SCHEMA.search(message):
        node = f" (node '{match[1]}')" if match[1] else ""
        return SessionFailure("operator", f"{match[2]} from domain {match[3] or 'ai.onnx'} "
                                          f"at opset {match[4]}{node}")
    if match := _IR_TOO_NEW.search(message):
        return SessionFailure("version", f"it needs IR version {match[1]} and loads up to {match[2]}")
    if match := _OPSET_TOO_NEW.search(message):
        return SessionFailure("version", f"it needs {match[2]} opset {match[1]} and loads up to "
                                         f"{match[3]}")
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", message.strip())
    return SessionFailure("other", " ".join(text.split())[:300])
