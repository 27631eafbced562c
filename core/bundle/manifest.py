"""Loading ``bundle.yaml``: bounded, UTF-8 only, safe YAML, then the JSON Schema.

:func:`load_manifest` never raises on a bad manifest: every problem becomes a
finding (MG101 missing, MG102 unreadable, MG103 schema), and ``data`` is
``None`` when nothing usable could be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from modelgate.core import settings
from modelgate.core.bundle import safeyaml
from modelgate.core.bundle.reader import MANIFEST, Bundle
from modelgate.core.errors import BundleError, ManifestError
from modelgate.core.findings import Finding, Severity
from modelgate.core.bundle.manifest_types import Manifest, typed_manifest
from modelgate.core.rules import rule
from modelgate.core.bundle.schema import validate

MANIFEST_MISSING = rule(
    "MG101", title="bundle.yaml is missing", severity=Severity.ERROR,
    rationale="""The manifest is what makes a folder a bundle: it names the model, its version,
    license, artifacts and interface. Without it nothing else can be checked.""",
    fix="""Add a bundle.yaml at the top of the bundle; `modelgate init NAME` writes a starter one.""",
)
MANIFEST_UNREADABLE = rule(
    "MG102", title="bundle.yaml cannot be read", severity=Severity.ERROR,
    rationale="""A manifest must be small UTF-8 YAML with unique keys. Other encodings, duplicate
    keys (where YAML silently keeps the last one) and alias bombs are refused so that what a
    reviewer reads is exactly what the tools read.""",
    fix="""Save bundle.yaml as UTF-8, remove duplicate keys and YAML aliases, and keep it a
    mapping of the keys in the bundle standard.""",
)
MANIFEST_SCHEMA = rule(
    "MG103", title="bundle.yaml does not follow the bundle standard", severity=Severity.ERROR,
    rationale="""The manifest is checked against the JSON Schema of the bundle standard v1.
    Unknown keys are errors so that a typo (`licence`, `sha265`) never hides a missing fact.""",
    fix="""Correct the key or value named in the message; resources/BUNDLE_SPEC.md lists every
    key with an example.""",
)


@dataclass(frozen=True)
class ManifestResult:
    """The manifest as parsed (``None`` when unreadable) and what was wrong with it."""

    data: dict | None
    findings: tuple[Finding, ...]
    #: Where each value sits in the text (``None`` when unreadable): findings get their lines.
    document: safeyaml.Document | None = None

    @property
    def valid(self) -> bool:
        return self.data is not None and not any(f.severity is Severity.ERROR for f in self.findings)

    @cached_property
    def typed(self) -> Manifest:
        """The manifest as typed objects; values of the wrong type (MG103) read as ``None``."""
        return typed_manifest(self.data)

    def require(self) -> dict:
        """The parsed manifest, or :class:`ManifestError` explaining why there is none."""
        if self.data is None:
            first = self.findings[0]
            raise ManifestError(first.message, hint=first.hint, rule=first.rule)
        return self.data


def section(data: dict | None, key: str, kind: type):
    """``data[key]`` when it has the expected type, else an empty one.

    A malformed manifest is reported once, as MG103; everything that reads it
    afterwards sees well-typed values and never crashes on ``artifacts: 5``.
    """
    value = (data or {}).get(key)
    return value if isinstance(value, kind) else kind()


def entries(data: dict | None, key: str) -> list[dict]:
    """The mappings of a list section such as ``artifacts`` or ``targets``, skipping others."""
    return [item for item in section(data, key, list) if isinstance(item, dict)]


def _problem(which, message: str, *, line: int | None = None, hint: str | None = None) -> ManifestResult:
    return ManifestResult(None, (which.finding(message, file=MANIFEST, line=line, hint=hint),))


def parse_manifest_text(data: bytes) -> ManifestResult:
    """Parse and schema-check manifest bytes."""
    limit = settings.get(settings.MAX_MANIFEST_BYTES)
    if len(data) > limit:
        return _problem(MANIFEST_UNREADABLE, f"bundle.yaml is larger than {limit} bytes",
                        hint="A manifest is a few kilobytes; raise MODELGATE_MAX_MANIFEST_BYTES if yours is genuine.")
    try:
        text = safeyaml.decode_utf8(data, what="bundle.yaml")
        document = safeyaml.load_document(text)
        parsed = document.data
    except safeyaml.YamlProblem as problem:
        message = problem.message if problem.message.startswith("bundle.yaml") else f"bundle.yaml: {problem.message}"
        return _problem(MANIFEST_UNREADABLE, message, line=problem.line,
                        hint="Save the manifest as UTF-8 YAML with unique keys and no aliases.")
    if not isinstance(parsed, dict):
        type_name = type(parsed).__name__
        article = "an" if type_name[0] in "aeiou" else "a"
        kind = "empty" if parsed is None else f"{article} {type_name}, not a mapping"
        return _problem(MANIFEST_UNREADABLE, f"bundle.yaml is {kind}",
                        hint="Start from `modelgate init NAME` to see the expected keys.")
    findings = validate(parsed, schema_name="bundle.schema.json", rule=MANIFEST_SCHEMA.id, file=MANIFEST,
                        document=document)
    return ManifestResult(parsed, tuple(findings), document)


def load_manifest(bundle: Bundle) -> ManifestResult:
    """Read and check ``bundle.yaml`` of an opened bundle."""
    if MANIFEST not in bundle.files() and (bundle.root / MANIFEST).is_dir():
        return _problem(MANIFEST_MISSING, "bundle.yaml is a folder, not a file",
                        hint="The manifest is a YAML file at the top of the bundle.")
    if MANIFEST not in bundle.files():
        return _problem(MANIFEST_MISSING, "the bundle has no bundle.yaml",
                        hint="Every bundle has a manifest at its top; `modelgate init NAME` writes one.")
    limit = settings.get(settings.MAX_MANIFEST_BYTES)
    try:
        data = bundle.read_bytes(MANIFEST, limit=limit)
    except BundleError as error:
        return _problem(MANIFEST_UNREADABLE, error.message, hint=error.hint)
    except OSError as error:
        return _problem(MANIFEST_UNREADABLE, f"bundle.yaml could not be read: {error.strerror}")
    return parse_manifest_text(data)
