"""Benchmark result files: loading, and which direction is better for a metric."""

from __future__ import annotations

import math
from dataclasses import dataclass

from modelgate.core import settings
from modelgate.core.bundle import strictjson
from modelgate.core.bundle.reader import Bundle
from modelgate.core.errors import BundleError
from modelgate.core.bundle.manifest_types import Manifest, typed_manifest
from modelgate.core.bundle.schema import validate

_LOWER_IS_BETTER = ("latency", "loss", "error", "perplexity", "mae", "mse", "rmse", "wer", "cer")

# Quantities that cannot be below zero: a time, an amount of memory or storage, a count, a rate.
_PHYSICAL_WORDS = frozenset(("latency", "time", "duration", "memory", "size", "bytes", "count",
                             "throughput", "qps", "rps", "fps", "params", "parameters"))
_PHYSICAL_UNITS = frozenset(("ms", "s", "us", "ns", "seconds", "bytes", "b", "kb", "mb", "gb",
                             "kib", "mib", "gib", "items/s", "tokens/s", "qps", "rps", "fps"))


def has_physical_floor(metric: str, unit: str | None) -> bool:
    """Whether a metric measures a quantity that cannot be negative (time, memory, size, count).

    Known by its unit, by a word of its name (``latency_p95_ms``, ``peak_memory``) or by
    the unit its name ends in (``load_s``, ``model_mb``).
    """
    words = metric.lower().replace("-", "_").split("_")
    return ((unit or "").strip().lower() in _PHYSICAL_UNITS
            or any(word in _PHYSICAL_WORDS for word in words)
            or (len(words) > 1 and words[-1] in _PHYSICAL_UNITS))


def lower_is_better_by_name(metric: str) -> bool:
    """The default direction when a result does not say: latency, loss, errors go down."""
    name = metric.lower()
    return name.endswith(("_ms", "_s", "_seconds", "_bytes", "_mb")) or any(
        word in name.replace("-", "_").split("_") for word in _LOWER_IS_BETTER)


class MetricKey:
    """Naming shared by results and comparisons: needs dataset, split, metric and target."""

    dataset: str
    split: str
    metric: str
    target: str | None

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        """What identifies a result when comparing a challenger with its champion."""
        return (self.dataset, self.split, self.metric, self.target)

    @property
    def label(self) -> str:
        return f"{self.metric} on {self.dataset}/{self.split}" + (f" ({self.target})" if self.target else "")


@dataclass(frozen=True)
class Result(MetricKey):
    """One benchmark result, with where it came from."""

    file: str
    index: int
    dataset: str
    split: str
    metric: str
    value: float
    target: str | None
    higher_is_better: bool
    unit: str | None



@dataclass(frozen=True)
class BenchmarkProblem:
    file: str
    message: str
    path: str | None = None
    hint: str | None = None
    line: int | None = None


def load_results(bundle: Bundle, manifest: dict | Manifest) -> tuple[list[Result], list[BenchmarkProblem]]:
    """Read every file listed in ``benchmarks``; problems are returned, never raised.

    ``manifest`` is the typed manifest, or a parsed one that is read through it: a
    malformed ``benchmarks`` (an MG103 schema finding already) lists no file.
    """
    results: list[Result] = []
    problems: list[BenchmarkProblem] = []
    files = set(bundle.files())
    limit = settings.get(settings.MAX_JSON_BYTES)
    typed = manifest if isinstance(manifest, Manifest) else typed_manifest(manifest)
    for name in typed.benchmarks:
        if name not in files:
            problems.append(BenchmarkProblem(name, f"benchmark file {name} is listed but missing",
                                             hint="Add the file or remove it from `benchmarks`."))
            continue
        try:
            raw = bundle.read_bytes(name, limit=limit)
            data = strictjson.load_bytes(raw, what=name)
        except (BundleError, strictjson.JsonProblem) as exc:
            problems.append(BenchmarkProblem(name, f"{name} is not readable JSON: {exc.message}",
                                             line=getattr(exc, "line", None)))
            continue
        schema_findings = validate(data, schema_name="benchmark.schema.json", rule="MG601", file=name,
                                   document=strictjson.ValueLines(raw.decode("utf-8-sig")))
        if schema_findings:
            for finding in schema_findings:
                problems.append(BenchmarkProblem(name, finding.message, finding.location.path, finding.hint,
                                                 finding.location.line))
            continue
        for index, item in enumerate(data["results"]):
            try:
                value = float(item["value"])
            except OverflowError:  # an integer beyond the float range
                value = math.inf
            if not math.isfinite(value):
                problems.append(BenchmarkProblem(name, f"results[{index}].value is not a finite number",
                                                 f"results[{index}].value"))
                continue
            if value < 0 and has_physical_floor(item["metric"], item.get("unit")):
                problems.append(BenchmarkProblem(
                    name, f"results[{index}].value is {value:g}, but {item['metric']} cannot be negative",
                    f"results[{index}].value", hint="A time, memory, size or count is 0 or more."))
                continue
            higher = item.get("higher_is_better")
            if higher is None:
                higher = not lower_is_better_by_name(item["metric"])
            results.append(Result(name, index, item["dataset"], item["split"], item["metric"], value,
                                  item.get("target"), bool(higher), item.get("unit")))
    return results, problems
