"""Conformance models per bundle: single `modelgate validate` runs against one batch run.

N of the ONNX project's conformance models (shipped in the installed onnx wheel, spread
evenly over its list) are wrapped as a user would, `modelgate init NAME --model M`
then `modelgate lock`. Each bundle is then validated

* **single**: one fresh `modelgate validate BUNDLE` process per bundle, the median
  wall time over the bundles (what a CI job with one bundle waits for);
* **batch**: one `modelgate validate B1 ... BN` process; its wall time divided by N
  (modules, the policy and the model process are loaded once).

Goals: single < 1.5 s and batch < 1.0 s per bundle.
"""

from __future__ import annotations

import compileall
import contextlib
import io
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.common import Result, Seconds, busy_warning, cpu_count, scratch_folder

NAME = "conformance"
DESCRIPTION = "median seconds per bundle of ONNX conformance models: single CLI runs vs one batch run"
DEFAULT_COUNT = 30
SINGLE_GOAL_S = 1.5
BATCH_GOAL_S = 1.0
ROOT = Path(__file__).resolve().parents[2]


def spread(items: list, count: int) -> list:
    """``count`` items taken evenly over ``items`` (all of them when there are fewer)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def wrap(models: list[Path], folder: Path) -> list[Path]:
    """Each model wrapped with `modelgate init --model` and locked; models init refuses are left out."""
    from modelgate.core.cli.main import main
    from tests.conformance.corpus import bundle_name

    bundles = []
    for number, model in enumerate(models):
        target = folder / f"{number:03d}-{bundle_name(model)}"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if main(["init", bundle_name(model), "--dir", str(target), "--model", str(model)]) != 0:
                continue
            if main(["lock", str(target)]) != 0:
                continue
        bundles.append(target)
    return bundles


def command() -> list[str]:
    script = Path(sys.executable).parent / "modelgate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "modelgate.core.cli.main"]


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(arguments: list[str], cpu: list) -> float:
    """Wall seconds of one run; the CPU seconds of its command process are appended to ``cpu``
    (the model process it starts is not waited for by this one, so it is not counted)."""
    started, before = time.perf_counter(), _children_cpu()
    done = subprocess.run(arguments, capture_output=True)
    elapsed = time.perf_counter() - started
    cpu.append(_children_cpu() - before)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(arguments[:3])} ... exited {done.returncode}: "
                           f"{done.stderr.decode(errors='replace')[-400:]}")
    return elapsed


def measure(bundles: list[Path], reports: Path, *, repeat: int) -> dict[str, float]:
    """Median wall seconds of a single run per bundle, wall seconds per bundle of the best batch
    run, and the CPU seconds per bundle of each (wall time on a shared machine is what others
    leave over; CPU time is what the run itself costs)."""
    base = [*command(), "validate", "--format", "json"]
    single_cpu: list = []
    batch_cpu: list = []
    singles = [min(_timed([*base, "--output", str(reports / f"{b.name}.json"), str(b)], single_cpu)
                   for _ in range(repeat)) for b in bundles]
    batch = min(_timed([*base, "--output", str(reports / "{name}.json"), *map(str, bundles)], batch_cpu)
                for _ in range(repeat))
    return {"single": statistics.median(singles), "batch": batch / len(bundles),
            "single_cpu": statistics.median(single_cpu), "batch_cpu": min(batch_cpu) / len(bundles)}


def run(args) -> list[Result]:
    from tests.conformance.corpus import models, shipped_root

    compileall.compile_dir(str(ROOT / "core"), quiet=1)
    count = getattr(args, "count", None) or DEFAULT_COUNT
    repeat = min(getattr(args, "repeat", 3), 2)  # N bundles each: the medians are over bundles
    if warning := busy_warning(cpu_count()):
        print(f"   {warning}", flush=True)
    with scratch_folder(NAME) as folder:
        (folder / "bundles").mkdir()
        (folder / "reports").mkdir()
        bundles = wrap(spread(models(shipped_root()), count), folder / "bundles")
        print(f"   {len(bundles)} conformance models wrapped; validating each alone, then all at once ...",
              flush=True)
        subprocess.run([*command(), "validate", str(bundles[0])], capture_output=True)  # warm the caches
        figures = measure(bundles, folder / "reports", repeat=repeat)
    print(f"   single run: median {figures['single']:.3f} s per bundle (goal < {SINGLE_GOAL_S:g} s), "
          f"{figures['single_cpu']:.3f} s CPU; batch: {figures['batch']:.3f} s per bundle "
          f"(goal < {BATCH_GOAL_S:g} s), {figures['batch_cpu']:.3f} s CPU", flush=True)
    return [
        Result(NAME, "modelgate validate BUNDLE (median per bundle)", [figures["single"]],
               goals=(Seconds(SINGLE_GOAL_S, "single run"),),
               note=f"{len(bundles)} bundles; {figures['single_cpu']:.3f} s CPU"),
        Result(NAME, "modelgate validate B1 ... BN (per bundle)", [figures["batch"]],
               goals=(Seconds(BATCH_GOAL_S, "batch"),),
               note=f"{len(bundles)} bundles; {figures['batch_cpu']:.3f} s CPU"),
    ]
