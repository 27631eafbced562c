"""The YAML test suite's cases, valid and invalid, through the safe loader.

tests/data/yaml_test_suite/cases.json holds the ``in.yaml`` (and ``in.json``
where the suite gives one) of every case on the suite's ``data`` branch
(MIT licence, beside it). The loader must answer every one: data, or a
:class:`YamlProblem` with a line; never another exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgate.core.bundle import safeyaml
SUITE = json.loads((Path(__file__).parents[1] / "data" / "yaml_test_suite" / "cases.json")
                   .read_text(encoding="utf-8"))
CASES = SUITE["cases"]


def _documents(text: str) -> list:
    decoder, docs, index = json.JSONDecoder(), [], 0
    text = text.strip()
    while index < len(text):
        value, index = decoder.raw_decode(text, index)
        docs.append(value)
        while index < len(text) and text[index].isspace():
            index += 1
    return docs


def test_the_suite_is_all_there():
    assert len(CASES) > 300 and sum(case["error"] for case in CASES) > 50


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_every_case_is_answered(case):
    try:
        safeyaml.load(case["yaml"])
    except safeyaml.YamlProblem as problem:
        assert problem.message
        assert problem.line is None or problem.line >= 1


def test_invalid_yaml_is_refused_with_a_line():
    refused = with_line = 0
    for case in (c for c in CASES if c["error"]):
        try:
            safeyaml.load(case["yaml"])
        except safeyaml.YamlProblem as problem:
            refused += 1
            with_line += problem.line is not None
    invalid = sum(c["error"] for c in CASES)
    # libyaml accepts a few documents the 1.2 grammar forbids; most are refused, each with a line.
    assert refused >= 0.85 * invalid and with_line == refused


def test_streams_of_several_documents_are_refused():
    streams = [c for c in CASES if not c["error"] and c["json"] and len(_documents(c["json"])) > 1]
    assert streams
    for case in streams:
        with pytest.raises(safeyaml.YamlProblem):
            safeyaml.load(case["yaml"])


def test_yaml_1_1_and_1_2_disagree_only_where_the_bundle_reference_says():
    """Valid one-document cases that load: the suite's JSON (YAML 1.2) and ours mostly agree.

    Where they differ the reason is one the bundle reference names: YAML 1.1
    typing, a tag building a non-JSON value (!!set, !!binary, !!omap), or
    libyaml's reading of whitespace and ``?`` in flow. Text that is quoted is
    read the same by both.
    """
    same = different = 0
    for case in CASES:
        if case["error"] or not case["json"]:
            continue
        docs = _documents(case["json"])
        if len(docs) != 1:
            continue
        try:
            value = safeyaml.load(case["yaml"])
        except safeyaml.YamlProblem:
            continue
        if value == docs[0]:
            same += 1
        else:
            different += 1
    assert same >= 20 * different
