"""The ONNX project's conformance models, wrapped honestly, raise no false error.

Each case is wrapped as a user would (``init --model``, which also takes the
``test_data_set_*`` folders beside the model as samples), locked and validated at
draft. The only error allowed is a true one: an operator the installed onnxruntime
does not implement, in onnxruntime's own words.
"""

from __future__ import annotations

import pytest

from tests.conformance import corpus


def true_error(rule: str, message: str) -> bool:
    """An error that is right about an honest model: the installed runtime lacks the operator."""
    return rule == "MG306" and "no implementation of" in message


def false_errors(outcomes) -> list[str]:
    return [f"{o.case}: {rule} {message}" for o in outcomes for rule, message in o.errors
            if not (o.wrapped and true_error(rule, message))]


def test_shipped_models_wrap_and_raise_no_false_error(capsys):
    # Sequences, strings (and the locale onnxruntime may lack here), Expand with a shape input,
    # a training graph, and models converted from PyTorch.
    models = corpus.models()
    sample = [m for m in models if m.parts[-3] == "simple"] + \
        [m for m in models if m.parts[-3] == "pytorch-operator"][:8]
    outcomes = corpus.run_all(sample)
    with capsys.disabled():
        print("\n" + corpus.summary(outcomes))
    assert len(outcomes) == len(sample) >= 30
    assert all(o.wrapped for o in outcomes)
    assert false_errors(outcomes) == []


@pytest.mark.slow
def test_every_conformance_model_wraps_and_raises_no_false_error(tmp_path_factory, capsys):
    node_root = corpus.write_node_cases(tmp_path_factory.mktemp("onnx-cases"))
    outcomes = corpus.run_all(corpus.models(corpus.shipped_root(), node_root))
    with capsys.disabled():
        print("\n" + corpus.summary(outcomes))
    assert len(outcomes) > 1000
    assert [o.case for o in outcomes if not o.wrapped] == []
    assert false_errors(outcomes) == []
