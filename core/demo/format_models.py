"""The demo's model files in formats other than ONNX, each written by its format's own library.

A small LLM-style checkpoint saved with ``safetensors``, the same weights quantised to
q8_0 and written with gguf's ``GGUFWriter``, and a mobile classifier built with the
``tflite`` schema package's flatbuffer builders (the poisoned PyTorch checkpoint is in
:mod:`.torch_zip`). Weights come from fixed seeds, so every build writes the same bytes.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

#: The tiny decoder's dimensions: q8_0 packs blocks of 32 values, so every row is a multiple of 32.
LLM = {"vocab": 64, "dim": 32, "ffn": 64, "layers": 2, "heads": 4, "context": 256}
#: The mobile classifier: 40 audio features in, one of four keywords out.
KEYWORDS = ("silence", "start", "stop", "help")
FEATURES, HIDDEN = 40, 16


def _llm_weights(seed: int) -> "OrderedDict[str, object]":
    """Hugging Face Llama names and shapes, small random weights (the demo does not generate text)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    vocab, dim, ffn = LLM["vocab"], LLM["dim"], LLM["ffn"]

    def matrix(rows: int, cols: int):
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    weights = OrderedDict([("model.embed_tokens.weight", matrix(vocab, dim))])
    for layer in range(LLM["layers"]):
        prefix = f"model.layers.{layer}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            weights[f"{prefix}self_attn.{name}.weight"] = matrix(dim, dim)
        weights[f"{prefix}mlp.gate_proj.weight"] = matrix(ffn, dim)
        weights[f"{prefix}mlp.up_proj.weight"] = matrix(ffn, dim)
        weights[f"{prefix}mlp.down_proj.weight"] = matrix(dim, ffn)
        weights[f"{prefix}input_layernorm.weight"] = np.ones(dim, np.float32)
        weights[f"{prefix}post_attention_layernorm.weight"] = np.ones(dim, np.float32)
    weights["model.norm.weight"] = np.ones(dim, np.float32)
    weights["lm_head.weight"] = matrix(vocab, dim)
    return weights


def write_llm_safetensors(path: Path, *, seed: int) -> dict:
    """Save the decoder's weights as fp16 with ``safetensors``; returns its hyperparameters."""
    import numpy as np
    from safetensors.numpy import save_file

    tensors = {name: array.astype(np.float16) for name, array in _llm_weights(seed).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})
    return dict(LLM, dtype="float16")


#: Hugging Face Llama tensor names and the names llama.cpp's converter gives them.
_GGUF_NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
               "lm_head.weight": "output.weight", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
               "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate",
               "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
               "post_attention_layernorm": "ffn_norm"}


def _gguf_name(name: str) -> str:
    if name in _GGUF_NAMES:
        return _GGUF_NAMES[name]
    _model, _layers, layer, rest = name.split(".", 3)
    part = rest.removesuffix(".weight")
    return f"blk.{layer}.{_GGUF_NAMES[part]}.weight"


def write_llm_gguf(path: Path, *, seed: int, name: str, license_id: str) -> dict:
    """The same decoder quantised to q8_0 (norms stay f32, as llama.cpp keeps them) with
    ``GGUFWriter``, with the metadata and vocabulary llama.cpp needs; returns its hyperparameters."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_license(license_id)
    writer.add_context_length(LLM["context"])
    writer.add_embedding_length(LLM["dim"])
    writer.add_feed_forward_length(LLM["ffn"])
    writer.add_block_count(LLM["layers"])
    writer.add_head_count(LLM["heads"])
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_tokenizer_model("llama")
    tokens = ["<unk>", "<s>", "</s>", *(f"<tok{index}>" for index in range(3, LLM["vocab"]))]
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
                           + [gguf.TokenType.NORMAL] * (len(tokens) - 3))
    for hf_name, array in _llm_weights(seed).items():
        if array.ndim == 1:
            writer.add_tensor(_gguf_name(hf_name), array)
        else:
            quantised = gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(_gguf_name(hf_name), quantised, raw_shape=quantised.shape,
                              raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dict(LLM, quantisation="q8_0")


def flatbuffer_vector(builder, values, prepend) -> int:
    """A flatbuffer vector of ``values`` (bytes, ints or table offsets), as the schema needs them."""
    builder.StartVector(4 if prepend != builder.PrependUint8 else 1, len(values), 4)
    for value in reversed(values):
        prepend(value)
    return builder.EndVector()


def _mobile_weights(seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    return ((rng.standard_normal((HIDDEN, FEATURES)) / np.sqrt(FEATURES)).astype(np.float32),
            np.zeros(HIDDEN, np.float32),
            (rng.standard_normal((len(KEYWORDS), HIDDEN)) / np.sqrt(HIDDEN)).astype(np.float32),
            np.zeros(len(KEYWORDS), np.float32))


def mobile_tflite_bytes(*, seed: int, description: str) -> bytes:
    """A keyword classifier as TFLite: features[batch, 40] -> FULLY_CONNECTED -> RELU ->
    FULLY_CONNECTED -> SOFTMAX -> probabilities[batch, 4], float32, built with the schema package."""
    import flatbuffers
    import tflite

    b = flatbuffers.Builder(4096)
    vector = flatbuffer_vector
    buffers = []
    for array in (None, *_mobile_weights(seed)):            # buffer 0 is the schema's empty sentinel
        data = vector(b, list(array.tobytes()), b.PrependUint8) if array is not None else None
        tflite.BufferStart(b)
        if data is not None:
            tflite.BufferAddData(b, data)
        buffers.append(tflite.BufferEnd(b))

    def tensor(name: str, shape: list[int], buffer: int = 0) -> int:
        label = b.CreateString(name)
        dims = vector(b, shape, b.PrependInt32)
        batched = vector(b, [-1, *shape[1:]], b.PrependInt32) if buffer == 0 else None
        tflite.TensorStart(b)
        tflite.TensorAddName(b, label)
        tflite.TensorAddShape(b, dims)
        if batched is not None:                              # activations take any batch size
            tflite.TensorAddShapeSignature(b, batched)
        tflite.TensorAddType(b, tflite.TensorType.FLOAT32)
        tflite.TensorAddBuffer(b, buffer)
        return tflite.TensorEnd(b)

    keywords = len(KEYWORDS)
    tensors = [tensor("features", [1, FEATURES]), tensor("dense_1/weights", [HIDDEN, FEATURES], 1),
               tensor("dense_1/bias", [HIDDEN], 2), tensor("dense_1/output", [1, HIDDEN]),
               tensor("relu/output", [1, HIDDEN]), tensor("dense_2/weights", [keywords, HIDDEN], 3),
               tensor("dense_2/bias", [keywords], 4), tensor("logits", [1, keywords]),
               tensor("probabilities", [1, keywords])]
    codes_used = (tflite.BuiltinOperator.FULLY_CONNECTED, tflite.BuiltinOperator.RELU,
                  tflite.BuiltinOperator.SOFTMAX)

    def operator(code: int, inputs: list[int], output: int) -> int:
        ins, outs = vector(b, inputs, b.PrependInt32), vector(b, [output], b.PrependInt32)
        options = None
        if codes_used[code] == tflite.BuiltinOperator.SOFTMAX:
            tflite.SoftmaxOptionsStart(b)
            tflite.SoftmaxOptionsAddBeta(b, 1.0)
            options = tflite.SoftmaxOptionsEnd(b)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, code)
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, tflite.BuiltinOptions.SoftmaxOptions)
            tflite.OperatorAddBuiltinOptions(b, options)
        return tflite.OperatorEnd(b)

    operators = [operator(0, [0, 1, 2], 3), operator(1, [3], 4), operator(0, [4, 5, 6], 7), operator(2, [7], 8)]
    codes = []
    for op in codes_used:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddBuiltinCode(b, op)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, op)
        tflite.OperatorCodeAddVersion(b, 1)
        codes.append(tflite.OperatorCodeEnd(b))
    tensor_vector = vector(b, tensors, b.PrependUOffsetTRelative)
    graph_inputs, graph_outputs = vector(b, [0], b.PrependInt32), vector(b, [8], b.PrependInt32)
    operator_vector = vector(b, operators, b.PrependUOffsetTRelative)
    graph_name = b.CreateString("main")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensor_vector)
    tflite.SubGraphAddInputs(b, graph_inputs)
    tflite.SubGraphAddOutputs(b, graph_outputs)
    tflite.SubGraphAddOperators(b, operator_vector)
    tflite.SubGraphAddName(b, graph_name)
    graph = tflite.SubGraphEnd(b)
    code_vector = vector(b, codes, b.PrependUOffsetTRelative)
    graphs = vector(b, [graph], b.PrependUOffsetTRelative)
    buffer_vector = vector(b, buffers, b.PrependUOffsetTRelative)
    text = b.CreateString(description)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, code_vector)
    tflite.ModelAddSubgraphs(b, graphs)
    tflite.ModelAddBuffers(b, buffer_vector)
    tflite.ModelAddDescription(b, text)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def write_mobile_tflite(path: Path, *, seed: int, description: str) -> dict:
    """Write :func:`mobile_tflite_bytes` to ``path``; returns the classifier's hyperparameters."""
    path.write_bytes(mobile_tflite_bytes(seed=seed, description=description))
    return {"features": FEATURES, "hidden": HIDDEN, "classes": len(KEYWORDS), "dtype": "float32"}
