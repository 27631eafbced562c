"""``make fuzz``: a timed fuzzing campaign across every document type, on all cores.

    python -m tests.fuzz.campaign [--minutes 10] [--jobs 2]

The document types' tests are shared out among ``--jobs`` pytest processes; each test
gets an equal slice of the total time and runs its property in rounds until its slice is
spent (see :mod:`tests.fuzz._runner`). New kinds of failure are saved under
tests/fuzz/corpus/<doc-type>/, which the quick profile replays on every test run. The
summary gives the inputs tried and the failures found per document type; the exit code
is 1 when a failure outside the known reader/typing classes was found.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz._harness import known_class

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_TESTS = [
    "test_fuzz_bundle_yaml", "test_fuzz_onnx", "test_fuzz_policy", "test_fuzz_benchmark_json",
    "test_fuzz_model_card", "test_fuzz_zip_archive", "test_fuzz_tar_gz_archive", "test_fuzz_tar_archive",
    "test_fuzz_license_text",
]
MODULE = "tests/fuzz/test_fuzz_documents.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.campaign", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("FUZZ_MINUTES", "10")))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("FUZZ_JOBS", os.cpu_count() or 1)))
    parser.add_argument("--only", action="append", metavar="TEST", choices=DOCUMENT_TESTS,
                        help="fuzz only this document type's test (repeat for several)")
    args = parser.parse_args(argv)
    tests = args.only or DOCUMENT_TESTS
    jobs = max(1, min(args.jobs, len(tests)))
    groups = [tests[i::jobs] for i in range(jobs)]
    per_test = args.minutes * 60 / max(len(group) for group in groups)
    stats = Path(tempfile.mkdtemp(prefix="modelgate-fuzz-")) / "stats.jsonl"
    env = {**os.environ, "MODELGATE_FUZZ_PROFILE": "campaign", "MODELGATE_FUZZ_SECONDS": f"{per_test:.0f}",
           "MODELGATE_FUZZ_STATS": str(stats)}
    print(f"fuzzing {len(tests)} document types for {args.minutes:g} min on {jobs} process(es), "
          f"{per_test:.0f} s each", flush=True)
    began = time.monotonic()
    processes = [subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   *[f"{MODULE}::{name}" for name in group]], cwd=ROOT, env=env)
                 for group in groups]
    codes = [process.wait() for process in processes]
    print(f"\ncampaign finished in {(time.monotonic() - began) / 60:.1f} min")
    return _summary(stats, codes)


def _summary(stats: Path, codes: list[int]) -> int:
    rows = [json.loads(line) for line in stats.read_text().splitlines()] if stats.exists() else []
    new = 0
    print(f"{'document type':<14} {'inputs':>7} {'failing':>8}  known classes")
    for row in sorted(rows, key=lambda r: r["doc_type"]):
        known = ", ".join(f"{name} x{count}" for name, count in sorted(row["known"].items())) or "-"
        print(f"{row['doc_type']:<14} {row['tried']:>7} {row['failing']:>8}  {known}")
    for row in rows:
        for case in row["saved"]:
            classes = {known_class(problem) for problem in case["problems"]}
            tag = "known " + ", ".join(sorted(c for c in classes if c)) if None not in classes else "NEW"
            new += tag == "NEW"
            print(f"  saved {case['file']} [{tag}]: {case['problems'][0][:160]}")
    print(f"total inputs: {sum(r['tried'] for r in rows)}; new failure kinds saved: {new}")
    return 1 if new or any(codes) else 0


if __name__ == "__main__":
    sys.exit(main())
