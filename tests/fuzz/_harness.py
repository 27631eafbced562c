"""Run one fuzzed input through ModelGate's real entry points and judge the outcome.

Every command is run through ``main(argv)`` in this process (fast) and judged by the
contract ModelGate promises for any input: an exit code in {0, 1, 2}, never
``internal error`` on stderr, never an MG100 "a check could not run" finding in the
JSON report, an answer within :data:`DEADLINE_S` and no jump of the process's peak
memory beyond :data:`MEMORY_GROWTH_MIB`.

Every failure fails the run, except one of :data:`KNOWN_CLASSES` (empty: none is
tolerated).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import resource
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from modelgate.core.cli import main as cli_main
from modelgate.core.cli.main import main

# Building the argument parser costs more than most commands on a small bundle; it holds
# no per-call state (each parse makes a new namespace), so fuzzing builds it once.
_parser = cli_main.build_parser()
cli_main.build_parser = lambda: _parser

#: Seconds one command may take on one fuzzed input (in-process; generous for a shared 2-core box).
DEADLINE_S = float(os.environ.get("MODELGATE_FUZZ_DEADLINE", "30"))
#: How far the process's peak resident memory may rise above its level when fuzzing began.
MEMORY_GROWTH_MIB = int(os.environ.get("MODELGATE_FUZZ_MEMORY_MIB", "768"))

CORPUS = Path(__file__).parent / "corpus"

#: Document types: corpus folder name -> file suffix of a saved case.
DOC_TYPES = {
    "bundle-yaml": ".yaml",
    "policy": ".yaml",
    "benchmark": ".json",
    "model-card": ".md",
    "onnx": ".onnx",
    "license": ".txt",
    "archive-zip": ".zip",
    "archive-tar": ".tar",
    "archive-tgz": ".tar.gz",
}

#: Failure classes the run tolerates, by name, each recognised by what ModelGate printed or
#: reported for it (never by the input). Empty: every class once listed here (huge YAML and
#: JSON numbers, self-referential aliases, mixed-type ``files:`` keys, mistyped variants,
#: digests and shapes, non-UTF-8 ONNX names) is answered now, so any failure fails the run.
#: A class goes here only while its fix is under way, and leaves with the fix.
KNOWN_CLASSES: dict[str, re.Pattern] = {}

@dataclass(frozen=True)
class Run:
    """One command's result."""

    argv: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Verdict:
    """What went wrong on one input (empty lists: nothing)."""

    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def known(self) -> dict[str, str]:
        """Each problem that belongs to a known reader/typing class, by class name."""
        found = {}
        for problem in self.problems:
            name = known_class(problem)
            if name:
                found[problem] = name
        return found

    def unknown(self) -> list[str]:
        known = self.known()
        return [p for p in self.problems if p not in known]

    def signature(self) -> str:
        """A short stable label of the failure kind, to save one case per kind."""
        labels = sorted({_label(p) for p in self.problems})
        return ";".join(labels)


def _label(problem: str) -> str:
    match = re.search(r"internal error: (\w+)", problem) or re.search(r"MG100 .*?(\w+ failed: \w+)", problem)
    if match:
        return match.group(1)
    return problem.split(":", 1)[0]


def known_class(problem: str) -> str | None:
    """The name of the known reader/typing class ``problem`` belongs to, else ``None``."""
    if not ("internal error" in problem or "MG100" in problem):
        return None
    for name, pattern in KNOWN_CLASSES.items():
        if pattern.search(problem):
            return name
    return None


_baseline_rss: int | None = None


def _peak_rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def run_cli(argv: list[str]) -> Run:
    """``modelgate ARGV`` in this process, with its output captured."""
    out, err = io.StringIO(), io.StringIO()
    begin = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse on a usage error
            code = exit_.code if isinstance(exit_.code, int) else 2
    return Run(tuple(argv), code, out.getvalue(), err.getvalue(), time.perf_counter() - begin)


#: Address-space cap of a command run in a child process: a hostile input must not exhaust the machine.
SUBPROCESS_MEMORY_MIB = int(os.environ.get("MODELGATE_FUZZ_SUBPROCESS_MIB", "4096"))


def _cap_memory() -> None:
    limit = SUBPROCESS_MEMORY_MIB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_subprocess(argv: list[str]) -> Run:
    """``modelgate ARGV`` as the installed console script, under a memory cap and a hard deadline."""
    import subprocess
    import sys

    script = Path(sys.executable).with_name("modelgate")
    begin = time.perf_counter()
    try:
        done = subprocess.run([str(script), *argv], capture_output=True, text=True, errors="replace",
                              timeout=DEADLINE_S, preexec_fn=_cap_memory, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as expired:
        return Run(tuple(argv), -9, "", f"killed after the {DEADLINE_S:g} s deadline: {expired}",
                   time.perf_counter() - begin)
    return Run(tuple(argv), done.returncode, done.stdout, done.stderr, time.perf_counter() - begin)


def judge_run(run: Run, verdict: Verdict) -> None:
    """Add to ``verdict`` every way ``run`` broke the contract."""
    global _baseline_rss
    command = " ".join(run.argv[:1] + run.argv[2:3] if run.argv[0] == "policy" else run.argv[:1])
    verdict.runs.append(run)
    if run.code not in (0, 1, 2):
        verdict.problems.append(f"exit code {run.code} from {command}: {run.stderr.strip()[:300]}")
    if "internal error" in run.stderr:
        verdict.problems.append(f"{command}: {run.stderr.strip().splitlines()[0][:400]}")
    if "Traceback (most recent call last)" in run.stderr:
        verdict.problems.append(f"traceback from {command}: {run.stderr[-400:]}")
    if run.seconds > DEADLINE_S:
        verdict.problems.append(f"slow: {command} took {run.seconds:.1f} s (deadline {DEADLINE_S:g} s)")
    if "--format" in run.argv and "json" in run.argv and run.code in (0, 1):
        try:
            report = strict_json(run.stdout)
        except ValueError as error:
            verdict.problems.append(f"{command}: the JSON report does not parse: {error}")
        else:
            for finding in report.get("findings", []):
                if finding.get("rule") == "MG100":
                    verdict.problems.append(f"MG100 from {command}: {finding.get('message', '')[:400]}")
    if run.argv[0] == "inspect" and "--json" in run.argv and run.code in (0, 1):
        try:
            strict_json(run.stdout)
        except ValueError as error:
            verdict.problems.append(f"inspect --json: the output is not JSON: {error}")
    peak = _peak_rss_mib()
    if _baseline_rss is None:
        _baseline_rss = peak
    elif peak - _baseline_rss > MEMORY_GROWTH_MIB:
        verdict.problems.append(f"memory: peak RSS rose to {peak} MiB, {peak - _baseline_rss} MiB above "
                                f"where fuzzing began (bound {MEMORY_GROWTH_MIB} MiB)")
        _baseline_rss = peak  # report one input once, not every later one


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def strict_json(text: str):
    """Parse JSON as strict parsers (jq, browsers, code-scanning services) do: no NaN or Infinity."""
    return json.loads(text, parse_constant=_refuse_constant)


def _judge_reports(folder: Path, verdict: Verdict) -> None:
    """The SARIF report must be JSON and the JUnit report XML that parsers accept."""
    import xml.etree.ElementTree as ET

    sarif, junit = folder / "sarif", folder / "junit"
    if sarif.exists():
        try:
            strict_json(sarif.read_text(encoding="utf-8"))
        except ValueError as error:
            verdict.problems.append(f"report: the SARIF report is not JSON: {error}")
    if junit.exists():
        try:
            ET.fromstring(junit.read_bytes())
        except ET.ParseError as error:
            verdict.problems.append(f"report: the JUnit report is not well-formed XML: {error}")
    for path in (sarif, junit, folder / "markdown"):
        path.unlink(missing_ok=True)


def exercise_bundle(target: Path, *, policy: Path | None = None, champion: Path | None = None,
                    lock: bool = True, verdict: Verdict | None = None) -> Verdict:
    """validate (JSON, plus SARIF, JUnit and Markdown reports, then text), inspect (text and JSON)
    and, for a folder, lock then validate again."""
    verdict = verdict if verdict is not None else Verdict()
    options = ["--policy", str(policy)] if policy is not None else []
    if champion is not None:
        options += ["--champion", str(champion)]
    reports = target.parent / "reports"
    judge_run(run_cli(["validate", str(target), "--format", "json", "--stage", "production", *options,
                       *[f"--report={kind}:{reports / kind}" for kind in ("sarif", "junit", "markdown")]]),
              verdict)
    _judge_reports(reports, verdict)
    judge_run(run_cli(["inspect", str(target)]), verdict)
    judge_run(run_cli(["inspect", str(target), "--json"]), verdict)
    if lock and target.is_dir():
        judge_run(run_cli(["lock", str(target)]), verdict)
        judge_run(run_cli(["validate", str(target), "--format", "text", "--stage", "staging", *options]),
                  verdict)
    return verdict


# ------------------------------------------------------------------ the bundle every input lands in

_template: Path | None = None


def template_bundle(folder: Path) -> Path:
    """A clean, locked bundle (built once per process) that fuzzed documents are dropped into."""
    global _template
    if _template is None or not _template.exists():
        from tests.factory import make_bundle

        _template = make_bundle(folder / "fuzz-template")
    return _template


def fresh_copy(template: Path, workdir: Path) -> Path:
    """A throw-away copy of the template bundle inside ``workdir`` (emptied first)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    return Path(shutil.copytree(template, workdir / "bundle"))


#: Where each document type is placed in a bundle.
PLACES = {
    "bundle-yaml": "bundle.yaml",
    "benchmark": "benchmarks/results.json",
    "model-card": "MODEL_CARD.md",
    "onnx": "model/model.onnx",
    "license": "LICENSE",
}


def exercise_document(doc_type: str, data: bytes, *, template: Path, workdir: Path) -> Verdict:
    """Run one document of ``doc_type`` (a key of :data:`DOC_TYPES`) through every entry point."""
    root = fresh_copy(template, workdir)
    if doc_type == "policy":
        path = workdir / "policy.yaml"
        path.write_bytes(data)
        verdict = Verdict()
        judge_run(run_cli(["policy", "check", str(path)]), verdict)
        judge_run(run_cli(["validate", str(root), "--policy", str(path), "--format", "json"]), verdict)
        judge_run(run_cli(["validate", str(root), "--policy", str(path), "--format", "text",
                           "--stage", "candidate", "--champion", str(template)]), verdict)
        return verdict
    if doc_type.startswith("archive-"):
        path = workdir / ("input" + DOC_TYPES[doc_type])
        path.write_bytes(data)
        verdict = exercise_bundle(path, lock=False)
        judge_run(run_cli(["lock", str(path)]), verdict)  # an archive is refused, never crashed on
        return verdict
    place = root / PLACES[doc_type]
    place.write_bytes(data)
    if doc_type == "benchmark":
        # Compared with a champion both ways: the fuzzed results as the candidate and as the champion.
        verdict = exercise_bundle(root, champion=template)
        judge_run(run_cli(["validate", str(template), "--champion", str(root), "--format", "json"]), verdict)
        return verdict
    if doc_type == "onnx":
        # Relock first so the model checks judge the mutated graph rather than stop at the digest.
        verdict = Verdict()
        judge_run(run_cli(["lock", str(root)]), verdict)
        return exercise_bundle(root, verdict=verdict)
    return exercise_bundle(root)


# ------------------------------------------------------------------ corpus

def save_case(doc_type: str, data: bytes) -> Path:
    """Keep a failing input as ``corpus/<doc_type>/<sha256 prefix><suffix>`` (content-addressed)."""
    folder = CORPUS / doc_type
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest()[:16] + DOC_TYPES[doc_type])
    if not path.exists():
        path.write_bytes(data)
    return path


def corpus_cases() -> list[tuple[str, Path]]:
    """Every saved case, as (document type, path)."""
    cases = []
    for doc_type in DOC_TYPES:
        folder = CORPUS / doc_type
        if folder.is_dir():
            cases.extend((doc_type, path) for path in sorted(folder.iterdir()) if path.is_file())
    return cases
