"""What a check sees: the bundle, its manifest, the policy and stage, shared lazy data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from modelgate.core.bundle.reader import Bundle
from modelgate.core.bundle.integrity import IntegrityReport, check_integrity
from modelgate.core.bundle.manifest import ManifestResult, load_manifest
from modelgate.core.bundle.manifest_types import Artifact, Manifest
from modelgate.core.policy.document import Policy, StageGates
from modelgate.core.progress import Progress
from modelgate.core.checks.request import RecordedSignatures


@dataclass
class CheckContext:
    """One validation run's inputs. Expensive facts are computed once and shared."""

    bundle: Bundle
    policy: Policy
    stage: str
    progress: Progress = field(default_factory=Progress)
    champion_bundle: Bundle | None = None
    trust: object | None = None  # a signing.trust.TrustStore, for the MG8xx checks
    recorded: RecordedSignatures | None = None  # the registry's record; its signature gate judges them
    _memo: dict = field(default_factory=dict, repr=False)

    @cached_property
    def manifest_result(self) -> ManifestResult:
        return load_manifest(self.bundle)

    @property
    def manifest(self) -> dict | None:
        """The parsed manifest (possibly schema-invalid), or ``None`` when unreadable."""
        return self.manifest_result.data

    @property
    def typed(self) -> Manifest:
        """The manifest as a typed :class:`~modelgate.core.bundle.manifest_types.Manifest`."""
        return self.manifest_result.typed

    @property
    def gates(self) -> StageGates:
        """The policy's gates for the target stage, typed."""
        return self.policy.gates(self.stage)

    @cached_property
    def digests(self) -> dict[str, str]:
        from modelgate.core.bundle.integrity import compute_digests

        return compute_digests(self.bundle, progress=self.progress)

    @cached_property
    def integrity(self) -> IntegrityReport:
        return check_integrity(self.bundle, self.typed, digests=self.digests)

    @cached_property
    def champion(self) -> CheckContext | None:
        """The champion's context (same policy and stage), when one was given."""
        if self.champion_bundle is None:
            return None
        return CheckContext(self.champion_bundle, self.policy, self.stage, self.progress)

    def artifacts(self) -> list[tuple[int, Artifact]]:
        """``(index, artifact)`` for every well-formed artifact whose file is in the bundle."""
        files = set(self.bundle.files())
        return [(artifact.index, artifact) for artifact in self.typed.artifacts
                if artifact.path is not None and artifact.path in files]

    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        """Compute ``factory()`` once per run and share it between checks."""
        if key not in self._memo:
            self._memo[key] = factory()
        return self._memo[key]

    def onnx_header(self, path: str):
        """The ONNX graph of artifact ``path`` without external data, parsed once per run.

        Raises whatever onnx raises for an unreadable file; callers report it.
        """
        from modelgate.core.formats.onnx.info import load_header

        return self.memo(f"onnx-header:{path}", lambda: load_header(self.bundle.resolve(path)))

    def benchmark_results(self):
        """``(results, problems)`` of the bundle's benchmark files, loaded once."""
        from modelgate.core.benchmarks.results import load_results

        return self.memo("benchmarks", lambda: load_results(self.bundle, self.typed))
