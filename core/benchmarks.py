"""Benchmark result files: loading, and which direction is better for a metric."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from modelgate.core import settings
from modelgate.core.bundle import Bundle
from modelgate.core.errors import BundleError
from modelgate.core.schema import validate

_LOWER_IS_BETTER = ("latency", "loss", "error", "perplexity", "mae", "mse", "rmse", "wer", "cer")


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


def load_results(bundle: Bundle, manifest: dict) -> tuple[list[Result], list[BenchmarkProblem]]:
    """Read every file listed in ``benchmarks``; problems are returned, never raised."""
    results: list[Result] = []
    problems: list[BenchmarkProblem] = []
    files = set(bundle.files())
    limit = settings.get("max_json_bytes")
    listed = manifest.get("benchmarks")
    if not isinstance(listed, list):  # a malformed value is an MG103 schema finding already
        return results, problems
    for name in listed:
        if not isinstance(name, str):
            continue
        if name not in files:
            problems.append(BenchmarkProblem(name, f"benchmark file {name} is listed but missing",
                                             hint="Add the file or remove it from `benchmarks`."))
            continue
        try:
            raw = bundle.read_bytes(name, limit=limit)
            data = json.loads(raw.decode("utf-8"))
        except (BundleError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            reason = (exc.message if isinstance(exc, BundleError)
                      else "it is nested too deeply" if isinstance(exc, RecursionError)
                      else str(exc) or type(exc).__name__)
            problems.append(BenchmarkProblem(name, f"{name} is not readable JSON: {reason}"))
            continue
        schema_findings = validate(data, schema_name="benchmark.schema.json", rule="MG601", file=name)
        if schema_findings:
            for finding in schema_findings:
                problems.append(BenchmarkProblem(name, finding.message, finding.location.path, finding.hint))
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
            higher = item.get("higher_is_better")
            if higher is None:
                higher = not lower_is_better_by_name(item["metric"])
            results.append(Result(name, index, item["dataset"], item["split"], item["metric"], value,
                                  item.get("target"), bool(higher), item.get("unit")))
    return results, problems
