"""Run benchmarks and print their results with ratios against reference tools.

    python -m tests.bench                 every benchmark
    python -m tests.bench hashing         only the named ones
    python -m tests.bench --size-mib 64   a quick, smaller run
    python -m tests.bench --list          what exists

Exit status: 0 every goal held, 1 at least one goal failed, 2 a benchmark
could not run here (missing reference tool) or the call was wrong.

To add a benchmark, write ``tests/bench/NAME.py`` with ``NAME``,
``DESCRIPTION`` and ``run(args) -> list[Result]`` and add its name below.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tests.bench.common import Unavailable, compare, table

#: Benchmark modules in this package, run in this order by default.
BENCHMARKS = [
    "hashing",
    "validation",
    "registry",
    "promotion",
    "signing",
    "gui",
    "hostile",
    "oci",
    "formats",
    "conformance",
]


def _load(name: str):
    return importlib.import_module(f"tests.bench.{name}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.bench", description="Run ModelGate's benchmarks.")
    p.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    p.add_argument("--size-mib", type=int, default=None, metavar="N",
                   help="data size in MiB for benchmarks that generate data (each has its own default)")
    p.add_argument("--count", type=int, default=None, metavar="N",
                   help="models for benchmarks that wrap a corpus (conformance: default 30)")
    p.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per case; the best counts (default 3)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        for name in BENCHMARKS:
            print(f"{name:12} {_load(name).DESCRIPTION}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    if args.size_mib is not None and args.size_mib < 1:
        print("--size-mib must be at least 1", file=sys.stderr)
        return 2
    if args.count is not None and args.count < 1:
        print("--count must be at least 1", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2

    results = []
    unavailable = []
    for name in args.names or BENCHMARKS:
        module = _load(name)
        print(f"== {name}: {module.DESCRIPTION}", flush=True)
        try:
            results.extend(module.run(args))
        except Unavailable as why:
            print(f"   cannot run: {why}", file=sys.stderr, flush=True)
            unavailable.append(name)
    if results:
        print()
        print(table(compare(results)))
    if unavailable:
        print(f"\nnot run: {', '.join(unavailable)}", file=sys.stderr)
        return 2
    failed = [f"{r.bench}/{r.case}" for r in results if r.failed]
    if failed:
        print(f"\ngoal not met: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
