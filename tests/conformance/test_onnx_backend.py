"""The ONNX project's conformance models, wrapped honestly, raise no false error.

Each case is wrapped as a user would (``init --model``, which also takes the
``test_data_set_*`` folders beside the model as samples), locked and validated at
draft. The only error allowed is a true one: an operator the installed onnxruntime
does not implement, in onnxruntime's own words.
"""

from __future__ import annotations

import pytest

from tests.conformance import corpus


#: Cases onnxruntime 1.32's CPU kernels refuse, or compute otherwise than the ONNX reference
#: implementation that wrote the expected outputs: true findings about running these models
#: on that runtime, in its own words. Reviewed one by one; a new case needs the same review.
RUNTIME_GAPS = {
    "node/test_attention_4d_diff_heads_mask4d_padded_kv": ("MG214", "Attention: padded kv mask refused"),
    "node/test_attention_4d_with_past_and_present_qk_matmul_bias_3d_mask_causal":
        ("MG217", "masked scores finite where the reference has -inf"),
    "node/test_attention_4d_with_past_and_present_qk_matmul_bias_4d_mask_causal":
        ("MG217", "masked scores finite where the reference has -inf"),
    "node/test_bitcast_scalar_float32_to_int32": ("MG213 MG217", "a scalar comes back with shape [1]"),
    "node/test_scan9_scalar": ("MG213 MG217", "a scalar comes back with shape [1]"),
    "node/test_convinteger_with_padding": ("MG214", "ConvInteger with padding refused"),
    "node/test_einsum_scalar": ("MG214", "Einsum on a scalar refused"),
    "node/test_gru_batchwise": ("MG214", "layout=1 not implemented"),
    "node/test_lstm_batchwise": ("MG214", "layout=1 not implemented"),
    "node/test_simple_rnn_batchwise": ("MG214", "layout=1 not implemented"),
    "node/test_reduce_max_empty_set_bool": ("MG214", "empty bool reduction refused"),
    "node/test_split_to_sequence_1": ("MG214", "SplitToSequence split sizes read otherwise"),
    "node/test_maxunpool_export_with_output_shape": ("MG217", "output_shape placement differs"),
    "node/test_range_float16_type_positive_delta": ("MG213 MG217", "Range returns [N, 1]"),
    "node/test_range_float16_type_positive_delta_expanded": ("MG213 MG217", "Loop scan output [N, 1]"),
    "node/test_range_float_type_positive_delta_expanded": ("MG213 MG217", "Loop scan output [N, 1]"),
    "node/test_range_int32_type_negative_delta_expanded": ("MG213 MG217", "Loop scan output [N, 1]"),
    "node/test_resize_downsample_scales_cubic_align_corners": ("MG217", "align_corners differs"),
    "node/test_resize_downsample_scales_linear_align_corners": ("MG217", "align_corners differs"),
}


def true_error(case: str, rule: str, message: str) -> bool:
    """An error that is right about an honest model: the installed runtime lacks the operator
    (in onnxruntime's words), or is a reviewed gap of the installed runtime."""
    if rule == "MG306" and "no implementation of" in message:
        return True
    return rule in RUNTIME_GAPS.get(case, ("", ""))[0].split()


def false_errors(outcomes) -> list[str]:
    return [f"{o.case}: {rule} {message}" for o in outcomes for rule, message in o.errors
            if not (o.wrapped and true_error(o.case, rule, message))]


@pytest.mark.slow
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
@pytest.mark.campaign
def test_every_conformance_model_wraps_and_raises_no_false_error(tmp_path_factory, capsys):
    node_root = corpus.write_node_cases(tmp_path_factory.mktemp("onnx-cases"))
    outcomes = corpus.run_all(corpus.models(corpus.shipped_root(), node_root))
    with capsys.disabled():
        print("\n" + corpus.summary(outcomes))
    assert len(outcomes) > 1000
    assert [o.case for o in outcomes if not o.wrapped] == []
    assert false_errors(outcomes) == []
