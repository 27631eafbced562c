"""Bytes hashed per promotion: each file of the bundle read and hashed once.

A bundle (a real ONNX model with external-data weights, ``--size-mib`` MiB, default
16) is imported into a fresh SQLite registry, approved by a reviewer, and promoted
from draft to candidate, the step that validates the stored bundle. Every hashing
entry point of :mod:`modelgate.core.bundle.digests` is wrapped with a meter that
records which file was hashed and how many bytes, so the count covers the import
check, the validation, the stored-copy gate and everything else along the way.

Goal: bytes hashed / bundle bytes is exactly 1.0 for the import and for the
promotion, each file read once (:class:`Exactly`; fewer would mean a check was
skipped, more that a file was hashed twice).
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, scratch_folder

NAME = "promotion"
DESCRIPTION = "bytes hashed per import and per promotion, over the bundle's bytes (exactly 1.0x)"
DEFAULT_MIB = 16


@dataclass(frozen=True)
class Exactly(Goal):
    """``ratio == limit``: a count, not a time, so anything else is wrong both ways."""

    def status(self, ratio: float | None) -> str:
        if ratio is None:
            return "n/a"
        return "PASS" if ratio == self.limit else "FAIL"

    def describe(self) -> str:
        text = f"== {self.limit:.2f}x"
        return f"{text} ({self.label})" if self.label else text


class HashMeter:
    """Which files were hashed and how many bytes, by base name of the file read."""

    def __init__(self) -> None:
        self.reads: Counter[str] = Counter()
        self.nbytes = 0

    def record(self, path: Path) -> None:
        path = Path(path)
        self.reads[path.name] += 1
        self.nbytes += path.stat().st_size


@contextmanager
def metering():
    """Wrap the hashing entry points (``sha256_file`` and ``copy_hashed``) with a :class:`HashMeter`."""
    from modelgate.core.bundle import digests
    from modelgate.core.store import folder as store

    meter = HashMeter()
    real_file, real_copy = digests.sha256_file, digests.copy_hashed

    def sha256_file(path, **kwargs):
        meter.record(path)
        return real_file(path, **kwargs)

    def copy_hashed(source, destination, **kwargs):
        meter.record(source)
        return real_copy(source, destination, **kwargs)

    digests.sha256_file, digests.copy_hashed, store.copy_hashed = sha256_file, copy_hashed, copy_hashed
    try:
        yield meter
    finally:
        digests.sha256_file, digests.copy_hashed, store.copy_hashed = real_file, real_copy, real_copy


def bundle_files(root: Path) -> dict[str, int]:
    """``{base name: size}`` of the files a digest covers (all but ``signatures/``)."""
    return {p.name: p.stat().st_size for p in root.rglob("*")
            if p.is_file() and "signatures" not in p.relative_to(root).parts}


@dataclass(frozen=True)
class Measured:
    """One metered step: files and bytes of the bundle, files and bytes hashed, time taken."""

    files: dict[str, int]
    reads: Counter
    nbytes: int
    seconds: float

    @property
    def ratio(self) -> float:
        return self.nbytes / sum(self.files.values())


def import_and_promote(folder: Path, bundle: Path) -> tuple[Measured, Measured]:
    """Import ``bundle`` into a new registry in ``folder`` and promote it to candidate, each
    step metered. Base names of the bundle's files must be distinct."""
    from modelgate.core.policy.document import load_policy
    from modelgate.core.registry import init_registry, open_registry, workflow

    files = bundle_files(bundle)
    assert len(files) == sum(1 for p in bundle.rglob("*") if p.is_file()
                             and "signatures" not in p.relative_to(bundle).parts), "base names must differ"
    url, store = f"sqlite:///{folder / 'registry.db'}", folder / "store"
    with init_registry(url=url, user="admin", store=store) as admin:
        admin.add_user(name="ada", roles=["submitter"])
        admin.add_user(name="bob", roles=["reviewer", "approver"])
    with open_registry(url=url, user="ada", store=store) as ada, metering() as meter:
        started = time.perf_counter()
        imported = ada.import_bundle(path=bundle)
        imported_step = Measured(files, meter.reads, meter.nbytes, time.perf_counter() - started)
    with open_registry(url=url, user="bob", store=store) as bob:
        workflow.review(bob, name=imported.name, version=imported.version, decision="approve",
                        comment="benchmark")
        with metering() as meter:
            started = time.perf_counter()
            moved = workflow.promote(bob, name=imported.name, version=imported.version, to_stage="candidate",
                                     policy=load_policy(None), reason="benchmark")
            promoted_step = Measured(files, meter.reads, meter.nbytes, time.perf_counter() - started)
    if not moved.moved:
        raise RuntimeError("the benchmark bundle should reach candidate")
    return imported_step, promoted_step


def run(args) -> list[Result]:
    from tests.bench.validation import _big_bundle

    total = (args.size_mib or DEFAULT_MIB) * MIB
    results = []
    with scratch_folder("modelgate-bench-promotion-") as folder:
        print(f"   writing a bundle with {total // MIB} MiB of external-data weights ...", flush=True)
        bundle = _big_bundle(folder, total)
        size = sum(bundle_files(bundle).values())
        for _ in range(max(1, args.repeat)):
            run_folder = folder / f"run-{len(results)}"
            run_folder.mkdir()
            steps = import_and_promote(run_folder, bundle)
            for case, step in zip(("import (copy into the store)", "promote draft -> candidate"), steps):
                twice = sorted(name for name, count in step.reads.items() if count > 1)
                print(f"   {case}: {step.nbytes:,} bytes hashed of {size:,} ({step.ratio:.2f}x)"
                      + (f"; read more than once: {', '.join(twice)}" if twice else ""), flush=True)
                results.append(Result(NAME, case, [step.seconds], nbytes=size, ratio=step.ratio,
                                      goals=(Exactly(1.0, "bytes hashed / bundle bytes"),)))
    return _best(results)


def _best(results: list[Result]) -> list[Result]:
    """One result per case: every run's time, the worst ratio (a count: runs agree or it is wrong)."""
    merged: dict[str, Result] = {}
    for result in results:
        known = merged.get(result.case)
        if known is None:
            merged[result.case] = result
            continue
        known.runs.extend(result.runs)
        if abs(result.ratio - 1.0) > abs(known.ratio - 1.0):
            known.ratio = result.ratio
    return list(merged.values())
