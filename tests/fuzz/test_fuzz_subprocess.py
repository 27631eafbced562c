"""A few fuzzed bundles through the installed ``modelgate`` script, under a memory cap and a hard deadline.

In-process runs are fast but share this process's memory and cannot be killed; these show
the same contract holds for the command as CI runs it: exit 0, 1 or 2, a message and no
traceback on stderr, within the deadline and the address-space cap.
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz import _harness
from tests.fuzz import _strategies as s

pytestmark = pytest.mark.slow  # fuzzing runs many generated inputs per test

EXAMPLES = 3


@pytest.mark.slow
def test_fuzzed_bundles_through_the_console_script(fuzz_workdir):
    template = _harness.template_bundle(fuzz_workdir)
    documents = st.one_of(
        st.tuples(st.just("bundle-yaml"), s.yaml_text(s.mutated(s.from_schema(s.schema("bundle.schema.json"))))),
        st.tuples(st.just("onnx"), s.onnx_bytes()),
        st.tuples(st.just("benchmark"), s.benchmark_file()),
        st.tuples(st.just("model-card"), s.model_card()),
    )

    # No shrinking: each step is a few processes; the failing input is printed as drawn.
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(documents)
    def check(case):
        doc_type, data = case
        root = _harness.fresh_copy(template, fuzz_workdir / "sub")
        (root / _harness.PLACES[doc_type]).write_bytes(data)
        verdict = _harness.Verdict()
        for argv in (["validate", str(root), "--format", "json"], ["inspect", str(root), "--json"],
                     ["lock", str(root)]):
            run = _harness.run_subprocess(argv)
            _harness.judge_run(run, verdict)
            assert "Traceback" not in run.stderr, run.stderr[-2000:]
            if run.code == 2:  # could not read the input: one message says why
                assert run.stderr.strip(), f"{argv[0]} exited 2 without a message"
        assert not verdict.unknown(), "\n".join(verdict.unknown())

    check()


@pytest.mark.slow
def test_the_memory_cap_and_deadline_hold_a_runaway_child(fuzz_workdir):
    """The bounds themselves work: a child that grabs memory without end is stopped, not the machine."""
    import subprocess
    import sys

    hog = "x = []\nwhile True: x.append(bytearray(64 * 1024 * 1024))"
    done = subprocess.run([sys.executable, "-c", hog], capture_output=True, timeout=_harness.DEADLINE_S,
                          preexec_fn=_harness._cap_memory)
    assert done.returncode != 0 and b"MemoryError" in done.stderr
