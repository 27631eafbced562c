"""Replay every saved fuzzing case: each once broke ModelGate's contract and must not again.

Every case must be answered: no class of failure is tolerated (see ``_harness.KNOWN_CLASSES``).
"""

from __future__ import annotations

import pytest

from tests.fuzz import _harness

pytestmark = pytest.mark.slow  # fuzzing runs many generated inputs per test

CASES = _harness.corpus_cases()


@pytest.mark.parametrize("doc_type, path", CASES, ids=[f"{d}/{p.name}" for d, p in CASES])
def test_saved_case_is_answered(doc_type, path, fuzz_workdir):
    template = _harness.template_bundle(fuzz_workdir)
    verdict = _harness.exercise_document(doc_type, path.read_bytes(), template=template,
                                         workdir=fuzz_workdir / "case")
    unknown = verdict.unknown()
    assert not unknown, "\n".join(unknown)
    assert {run.code for run in verdict.runs} <= {0, 1, 2}


def test_every_corpus_folder_is_a_known_document_type():
    folders = {p.name for p in _harness.CORPUS.iterdir() if p.is_dir()} if _harness.CORPUS.is_dir() else set()
    assert folders <= set(_harness.DOC_TYPES), folders - set(_harness.DOC_TYPES)
