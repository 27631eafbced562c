"""Drive one document type's property under the quick profile or a timed campaign.

Quick profile (the default, part of every test run): a few derandomised examples per
document type; any failure outside the known reader/typing classes fails the test.

Campaign (``MODELGATE_FUZZ_PROFILE=campaign``, started by ``make fuzz``): the property is
run in rounds until ``MODELGATE_FUZZ_SECONDS`` have passed. Each new kind of failure is
shrunk by Hypothesis, then saved under ``tests/fuzz/corpus/<doc-type>/`` for the quick
profile to replay, and the campaign goes on looking for other kinds. The counts of
inputs tried and failures found are written to ``MODELGATE_FUZZ_STATS`` (a JSON lines
file) for the campaign's summary.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition

from tests.fuzz import _harness

PROFILE = os.environ.get("MODELGATE_FUZZ_PROFILE", "quick")
#: Examples per document type in the quick profile.
QUICK_EXAMPLES = int(os.environ.get("MODELGATE_FUZZ_EXAMPLES", "5"))

#: Known reader/typing failures met in this process: {(doc_type, class name): example problem}.
KNOWN_SEEN: dict[tuple[str, str], str] = {}
#: Inputs tried in this process, per document type.
TRIED: dict[str, int] = {}


class FuzzFailure(AssertionError):
    """An input broke ModelGate's contract."""


class _TimeUp(BaseException):
    """The campaign's slice of time is spent: leave Hypothesis at once, without shrinking."""


def _settings(max_examples: int, *, campaign: bool) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,  # time is judged per command by the harness, with a bound fit for a busy machine
        derandomize=not campaign,
        database=None,
        phases=[Phase.generate, Phase.shrink] if campaign else [Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=campaign,
    )


def fuzz(doc_type: str, strategy, workdir: Path) -> None:
    """Fuzz ``doc_type`` with inputs drawn from ``strategy`` (bytes of one document)."""
    template = _harness.template_bundle(workdir)
    scratch = workdir / f"scratch-{doc_type}"
    if PROFILE == "campaign":
        _campaign(doc_type, strategy, template, scratch)
        return

    @given(strategy)
    def check(data: bytes) -> None:
        TRIED[doc_type] = TRIED.get(doc_type, 0) + 1
        verdict = _harness.exercise_document(doc_type, data, template=template, workdir=scratch)
        for problem, name in verdict.known().items():
            KNOWN_SEEN.setdefault((doc_type, name), problem)
        unknown = verdict.unknown()
        if unknown:
            raise FuzzFailure("\n".join(unknown))

    _settings(QUICK_EXAMPLES, campaign=False)(check)()


def _campaign(doc_type: str, strategy, template: Path, scratch: Path) -> None:
    budget = float(os.environ.get("MODELGATE_FUZZ_SECONDS", "60"))
    stats_path = os.environ.get("MODELGATE_FUZZ_STATS")
    end = time.monotonic() + budget
    saved: set[str] = set()
    counts = {"doc_type": doc_type, "tried": 0, "failing": 0, "known": {}, "saved": []}
    last_failure: dict = {}

    @given(strategy)
    def check(data: bytes) -> None:
        if time.monotonic() > end:
            raise _TimeUp
        counts["tried"] += 1
        verdict = _harness.exercise_document(doc_type, data, template=template, workdir=scratch)
        if not verdict.problems:
            return
        counts["failing"] += 1
        known = verdict.known()
        for name in set(known.values()):
            counts["known"][name] = counts["known"].get(name, 0) + 1
        signature = verdict.signature()
        if signature in saved:
            return
        last_failure.update(data=data, signature=signature, problems=verdict.problems)
        raise FuzzFailure(signature)

    rounds = _settings(200, campaign=True)(check)
    while time.monotonic() < end:
        last_failure.clear()
        try:
            rounds()
        except _TimeUp:
            pass
        except FuzzFailure:
            pass
        except FlakyStrategyDefinition:
            # The generator, not ModelGate: a replay of a mutated document drew differently
            # (a strategy's own randomness). The judge saw every answer; start a fresh round.
            pass
        except Exception as error:  # a shrink that ended in two distinct failures
            # Time running out mid-example makes Hypothesis see a run that drew less than its
            # replay: it calls the strategy flaky. That is the clock, not a finding.
            if not last_failure and time.monotonic() <= end:
                raise FuzzFailure(f"{doc_type}: {error!r}") from error
        if last_failure:
            path = _harness.save_case(doc_type, last_failure["data"])
            saved.add(last_failure["signature"])
            counts["saved"].append({"file": str(path.relative_to(_harness.CORPUS.parent.parent.parent)),
                                    "signature": last_failure["signature"],
                                    "problems": last_failure["problems"][:3]})
    if stats_path:
        with open(stats_path, "a", encoding="utf-8") as stats:
            stats.write(json.dumps(counts) + "\n")
