"""Fuzzing: a fresh working folder per document type and a summary of the known failure classes met."""

from __future__ import annotations

import pytest


@pytest.fixture
def fuzz_workdir(tmp_path_factory):
    """A working folder for one fuzzed document type (the template bundle is built there once)."""
    return tmp_path_factory.mktemp("fuzz")


def pytest_terminal_summary(terminalreporter):
    from tests.fuzz import _runner

    if _runner.TRIED:
        tried = ", ".join(f"{doc} {count}" for doc, count in sorted(_runner.TRIED.items()))
        terminalreporter.write_line(f"fuzz: inputs tried per document type: {tried}")
    for (doc_type, name), problem in sorted(_runner.KNOWN_SEEN.items()):
        terminalreporter.write_line(f"fuzz: known class {name} met in {doc_type}: {problem[:200]}")
