"""Hostile inputs: peak memory and wall time of `modelgate validate --stage staging` on bombs.

Each case runs the real command in a fresh process on a bundle (or archive) built here,
while a sampler sums the resident size of the whole process tree (the CLI and the bounded
model process) every 10 ms. The bombs: a model whose constant folding allocates 2 GiB, one
whose run-time shape does, a Loop with a 2^62 trip count, a tar whose GNU long-name header
is 1 GB, and a zip that inflates 3 GiB of zeros. A benign bundle runs beside them.

Goals: every bomb is refused within 30 s and under 1 GB peak resident size (Linux: the
sampler reads /proc).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tests.attacks._bombs import MODELGATE, measure
from tests.bench.common import Goal, Result, Seconds, Unavailable, scratch_folder

NAME = "hostile"
DESCRIPTION = "`modelgate validate --stage staging` on model and archive bombs: peak RSS and wall time"
RSS_LIMIT = 1024**3
TIME_LIMIT_S = 30.0


@dataclass(frozen=True)
class PeakRss(Goal):
    """``peak resident size of the process tree <= limit`` bytes."""

    def check(self, result: Result) -> str:
        return "PASS" if result.extra.get("peak_rss", 0) <= self.limit else "FAIL"

    def describe(self) -> str:
        return f"<= {self.limit / 1024**3:g} GiB peak RSS"


def _cases(folder: Path) -> dict[str, Path]:
    from tests.attacks._bombs import MODEL_BOMBS, long_name_tar, zip_bomb
    from tests.factory import make_bundle, tiny_model

    cases = {"benign tiny model": make_bundle(folder / "benign", model=tiny_model)}
    for index, (label, build) in enumerate(MODEL_BOMBS.items()):
        cases[label] = make_bundle(folder / f"bomb{index}", model=build)
    cases["tar 1 GB long-name header"] = long_name_tar(folder / "longname.tar")
    cases["zip bomb 3 GiB"] = zip_bomb(folder / "bomb.zip")
    return cases


def run(args) -> list[Result]:
    if not sys.platform.startswith("linux"):
        raise Unavailable("the process-tree sampler reads /proc (Linux)")
    results = []
    with scratch_folder("hostile") as folder:
        for label, target in _cases(folder).items():
            runs, peaks, notes = [], [], ""
            for _ in range(max(1, min(args.repeat, 2))):
                elapsed, peak, code, output = measure([*MODELGATE, "validate", str(target), "--stage", "staging"])
                runs.append(elapsed)
                peaks.append(peak)
                lines = [line for line in output.splitlines() if line.strip()]
                last = lines[-1] if lines else ""
                notes = f"exit {code}, peak {max(peaks) / 1024**2:,.0f} MiB: {last[:150]}"
                print(f"   {label}: {elapsed:.2f} s, peak {peak / 1024**2:,.0f} MiB, exit {code}", flush=True)
            goals = (Seconds(TIME_LIMIT_S), PeakRss(RSS_LIMIT))
            results.append(Result(NAME, label, runs, goals=goals, note=notes,
                                  extra={"peak_rss": max(peaks)}))
    return results
