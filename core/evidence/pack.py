"""The evidence pack: everything an auditor's report says about one version, as plain values.

:func:`modelgate.core.evidence.collect` fills it from the registry; the HTML and PDF
renderers only lay it out, so both formats always say the same thing. Datetimes are
timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from modelgate.core.benchmarks.rows import BenchmarkRow
from modelgate.core.registry.audit import AuditEvent
from modelgate.core.registry.records import PromotionInfo, ReviewInfo

#: Finding severities, most serious first: the order findings are grouped in.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Artifact:
    """One artifact the manifest lists; ``size`` is the stored file's, ``None`` when it is absent."""

    path: str
    format: str | None
    variant: str | None
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class ManifestSummary:
    """What the stored ``bundle.yaml`` says, in brief; ``problem`` when it could not be read."""

    name: str | None = None
    version: str | None = None
    description: str | None = None
    owners: tuple[str, ...] = ()
    license: str | None = None
    tags: tuple[str, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    #: (label, value) pairs of the provenance that were filled in, in the bundle standard's order.
    provenance: tuple[tuple[str, str], ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class StoredCopy:
    """The stored bundle re-hashed now: ``problem`` says why it no longer matches its digest."""

    digest: str
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class FindingEntry:
    """One finding of a recorded validation run."""

    rule: str
    severity: str
    message: str
    location: str
    hint: str | None = None
    #: What the version's waiver of this rule says when the report is made: waived (until when,
    #: by whom, why), or expired and no longer counting; ``None`` when no waiver names the rule.
    waiver: str | None = None


@dataclass(frozen=True)
class ValidationEvidence:
    """The latest recorded validation run for one stage and what it found."""

    stage: str
    policy_name: str | None
    policy_digest: str
    #: Whether the run used the policy the registry holds now.
    current_policy: bool
    #: ``name@version`` of the production version the metrics were compared with, if any.
    champion: str | None
    passed: bool
    actor: str
    created_at: datetime
    findings: tuple[FindingEntry, ...] = ()
    #: How many earlier runs for the same stage this one supersedes.
    earlier_runs: int = 0

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def grouped(self) -> list[tuple[str, tuple[FindingEntry, ...]]]:
        """``(severity, findings)`` for each severity present, errors first."""
        groups = [(s, tuple(f for f in self.findings if f.severity == s)) for s in SEVERITIES]
        others = tuple(f for f in self.findings if f.severity not in SEVERITIES)
        return [(s, found) for s, found in groups + [("other", others)] if found]


@dataclass(frozen=True)
class SignatureEvidence:
    """One recorded release signature and how its key stands now.

    ``key_state`` is ``trusted``, ``revoked`` or ``unknown`` (the registry no longer lists
    the key); ``covers_version`` says whether the digest signed is the version's digest.
    """

    signer: str
    fingerprint: str
    bundle_digest: str
    covers_version: bool
    verified: bool
    created_at: datetime
    key_state: str
    key_name: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


@dataclass(frozen=True)
class PolicyEvidence:
    """The policy the registry's gates use now; ``set_by`` is ``None`` for the default policy."""

    name: str
    digest: str
    set_by: str | None
    set_at: datetime | None


@dataclass(frozen=True)
class ChainEvidence:
    """The whole audit chain verified while the report was made.

    ``head`` is ``(seq, hash)`` of the last event checked, which an auditor can later hand
    to ``modelgate audit verify --expect-head``; ``first_broken`` and ``reason`` say where
    and why the chain breaks.
    """

    ok: bool
    checked: int
    head: tuple[int, str] | None = None
    first_broken: int | None = None
    reason: str | None = None

    @property
    def verdict(self) -> str:
        """One line, as ``modelgate audit verify`` says it."""
        if self.ok:
            return f"audit chain intact: {self.checked} events"
        return f"audit chain BROKEN at event {self.first_broken}: {self.reason}"


@dataclass(frozen=True)
class BenchmarkEvidence:
    """The bundle's benchmark results judged for ``stage`` under the policy in force, beside
    the champion's (``champion`` is its ``name@version``, ``None`` without one)."""

    stage: str
    policy_name: str
    champion: str | None
    rows: tuple[BenchmarkRow, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidencePack:
    """Everything the auditor report of ``name@version`` says."""

    name: str
    version: str
    stage: str
    submitter: str
    imported_at: datetime
    generated_at: datetime
    tool_version: str
    registry: str
    generated_by: str
    stored: StoredCopy
    manifest: ManifestSummary
    policy: PolicyEvidence
    chain: ChainEvidence
    benchmarks: BenchmarkEvidence
    validations: tuple[ValidationEvidence, ...] = ()
    reviews: tuple[ReviewInfo, ...] = ()
    signatures: tuple[SignatureEvidence, ...] = ()
    promotions: tuple[PromotionInfo, ...] = ()
    events: tuple[AuditEvent, ...] = field(default_factory=tuple)

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def digest(self) -> str:
        """The version's bundle digest, as recorded at import."""
        return self.stored.digest
