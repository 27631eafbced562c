"""The demo workspace's models: synthetic data, honest fitting, ONNX graphs, measured metrics.

Every model is built from scratch with numpy and onnx: the data is synthetic and
seeded, the weights are fit on a training split, and the metrics are measured by
running the saved ONNX file in onnxruntime on a held-out split. Weights are
rounded to a 2**-12 grid before export so that tiny floating-point differences
between machines do not change the bytes. numpy, onnx and onnxruntime are
imported inside the functions so that importing this module costs nothing.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

OPSET = 19
IR_VERSION = 9
GRID = 4096.0

CREDIT_FEATURES = (
    "income", "debt_to_income", "credit_history_months", "open_accounts", "late_payments_12m",
    "utilisation", "age_years", "employment_years", "loan_amount", "loan_term_months",
    "inquiries_6m", "savings_ratio",
)
DEFECT_CLASSES = ("ok", "scratch", "dent", "stain")
INTENTS = ("billing", "password-reset", "shipping-delay", "refund", "account-locked",
           "bug-report", "feature-request", "cancellation")
VOCAB, SEQ, EMBED = 3000, 16, 64


@dataclass(frozen=True)
class Built:
    """What one model build wrote and measured."""

    artifacts: dict[str, str]                    # variant -> path relative to the bundle
    metrics: dict[str, dict[str, float]]         # variant -> metric -> value
    datasets: dict[str, str] = field(default_factory=dict)   # dataset role -> sha256 of its bytes
    hyperparameters: dict = field(default_factory=dict)


def _frozen(*arrays):
    """Mark cached data read-only, so no caller can change what the next caller gets."""
    for array in arrays:
        array.flags.writeable = False
    return arrays


def clear_caches() -> None:
    """Drop the synthetic data kept while a demo is built (tens of megabytes)."""
    for function in (credit_data, defect_images, tickets):
        function.cache_clear()


def _settle(array):
    import numpy as np
    return (np.round(np.asarray(array, dtype=np.float64) * GRID) / GRID).astype(np.float32)


def _digest(*arrays) -> str:
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(array.tobytes())
    return sha.hexdigest()


def _model(name: str, doc: str, nodes, inputs, outputs, weights: dict, metadata: dict):
    from onnx import helper, numpy_helper

    from modelgate.core import __version__
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc,
                              producer_name="modelgate-demo", producer_version=__version__)
    model.ir_version = IR_VERSION
    helper.set_model_props(model, metadata)
    return model


def _node(op: str, inputs: list[str], output: str, **attributes):
    from onnx import helper
    return helper.make_node(op, inputs, [output], name=output, **attributes)


def _tensor(name: str, dtype: str, shape: list):
    from onnx import TensorProto, helper
    return helper.make_tensor_value_info(name, getattr(TensorProto, dtype), shape)


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic 8-bit quantization with onnxruntime's offline tool (per-channel uint8 for Conv)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    model = onnx.load(source)
    has_conv = any(node.op_type == "Conv" for node in model.graph.node)
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)         # it advises pre-processing, which these graphs need not
    try:
        quantize_dynamic(model, target, per_channel=has_conv,
                         weight_type=QuantType.QUInt8 if has_conv else QuantType.QInt8)
    finally:
        logging.disable(previous)
    onnx.checker.check_model(str(target), full_check=True)


def _export(folder: Path, name: str, model, *, int8: bool) -> dict[str, Path]:
    """Check and write the fp32 model, and its int8 variant when asked."""
    import onnx
    onnx.checker.check_model(model, full_check=True)
    paths = {"fp32": folder / "model" / f"{name}.onnx"}
    paths["fp32"].parent.mkdir(parents=True, exist_ok=True)
    paths["fp32"].write_bytes(model.SerializeToString())
    if int8:
        paths["int8"] = folder / "model" / f"{name}.int8.onnx"
        quantize_int8(paths["fp32"], paths["int8"])
    return paths


def session(model):
    """A single-threaded CPU session (deterministic); ``model`` is a path or a ModelProto."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    source = model if isinstance(model, (str, Path)) else model.SerializeToString()
    return ort.InferenceSession(str(source) if isinstance(source, Path) else source, options,
                                providers=["CPUExecutionProvider"])


def run(model, feeds: dict):
    return session(model).run(None, feeds)[0]


# ---- credit-risk: a two-layer MLP on 12 standardised application features -----------------

@functools.lru_cache(maxsize=8)
def credit_data(seed: int, n: int, *, zero_column: str | None = None):
    """Synthetic loan applications: features [n, 12] float32 and default labels [n] int64.

    ``zero_column`` reproduces an extract in which one feature column arrived as zeros.
    """
    import numpy as np
    rng = np.random.default_rng(seed)
    mixing = np.eye(12) + 0.25 * np.random.default_rng(7).normal(size=(12, 12))
    x = rng.normal(size=(n, 12)) @ mixing.T
    x = (x - x.mean(0)) / x.std(0)
    true_w = np.array([-0.9, 1.1, -0.6, 0.2, 1.4, 0.9, -0.3, -0.5, 0.6, 0.3, 0.7, -0.8])
    logit = 1.6 * (x @ true_w) + 1.2 * np.maximum(x[:, 4] - 0.5, 0) - 0.8 * x[:, 0] * x[:, 5] - 1.0
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    if zero_column is not None:
        x[:, CREDIT_FEATURES.index(zero_column)] = 0.0
    return _frozen(x.astype(np.float32), y)


def _fit_mlp(x, y, *, hidden: int, epochs: int, lr: float, l2: float, seed: int, batch: int = 200):
    """Mini-batch Adam on softmax cross-entropy; float64 weights [W1, B1, W2, B2].

    Small batches also keep every product below the size at which BLAS starts threads,
    which on a busy machine cost far more than they save.
    """
    import numpy as np
    rng = np.random.default_rng(seed)
    x = x.astype(np.float64)
    params = [rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], hidden)), np.zeros(hidden),
              rng.normal(0, np.sqrt(1 / hidden), (hidden, 2)), np.zeros(2)]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    onehot, step = np.eye(2)[y], 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            xb, w1, b1, w2, b2 = x[rows], *params
            h_pre = xb @ w1 + b1
            h = np.maximum(h_pre, 0)
            z = h @ w2 + b2
            p = np.exp(z - z.max(1, keepdims=True))
            dz = (p / p.sum(1, keepdims=True) - onehot[rows]) / len(rows)
            dh = (dz @ w2.T) * (h_pre > 0)
            grads = [xb.T @ dh + l2 * w1, dh.sum(0), h.T @ dz + l2 * w2, dz.sum(0)]
            step += 1
            for param, grad, (m, v) in zip(params, grads, moments):
                m[:] = 0.9 * m + 0.1 * grad
                v[:] = 0.999 * v + 0.001 * grad * grad
                param -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return params


def credit_graph(name: str, version: str, params):
    weights = dict(zip(("W1", "B1", "W2", "B2"), (_settle(p) for p in params)))
    nodes = [_node("MatMul", ["features", "W1"], "dense1"), _node("Add", ["dense1", "B1"], "dense1_bias"),
             _node("Relu", ["dense1_bias"], "relu1"), _node("MatMul", ["relu1", "W2"], "dense2"),
             _node("Add", ["dense2", "B2"], "dense2_bias"),
             _node("Softmax", ["dense2_bias"], "probabilities", axis=-1)]
    return _model(name, "Probability of default (class 1) from 12 standardised features.", nodes,
                  [_tensor("features", "FLOAT", ["batch", 12])], [_tensor("probabilities", "FLOAT", ["batch", 2])],
                  weights, {"name": name, "version": version, "features": ",".join(CREDIT_FEATURES)})


def classification_metrics(scores, y) -> dict[str, float]:
    """accuracy, roc_auc (rank statistic, ties averaged) and f1 of class 1 from [n, 2] scores."""
    import numpy as np
    pred = scores.argmax(1)
    positive = scores[:, 1].astype(np.float64)
    order = positive.argsort(kind="stable")
    _, first, counts = np.unique(positive[order], return_index=True, return_counts=True)
    ranks = np.empty(len(positive))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    auc = (ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    f1 = 2 * int(((pred == 1) & (y == 1)).sum()) / max(1, int((pred == 1).sum()) + n_pos)
    return {"accuracy": round(float((pred == y).mean()), 4), "roc_auc": round(float(auc), 4),
            "f1": round(float(f1), 4)}


def build_credit_risk(folder: Path, name: str, version: str, recipe: dict) -> Built:
    """Fit, export and evaluate one credit-risk version into ``folder``."""
    x, y = credit_data(recipe["data_seed"], recipe["rows"], zero_column=recipe.get("zero_column"))
    x_test, y_test = credit_data(9001, 3000)          # the held-out split every version is scored on
    params = _fit_mlp(x, y, hidden=recipe["hidden"], epochs=recipe["epochs"], lr=recipe["lr"],
                      l2=recipe["l2"], seed=recipe["seed"])
    paths = _export(folder, name, credit_graph(name, version, params), int8=False)
    return Built({"fp32": f"model/{paths['fp32'].name}"},
                 {"fp32": classification_metrics(run(paths["fp32"], {"features": x_test}), y_test)},
                 {"train": _digest(x, y), "test": _digest(x_test, y_test)},
                 {"hidden_units": recipe["hidden"], "optimizer": "adam", "learning_rate": recipe["lr"],
                  "epochs": recipe["epochs"], "batch_size": 200, "l2": recipe["l2"], "train_rows": recipe["rows"]})


# ---- defect-detector: a small conv net on 64x64 RGB crops of a metal surface ---------------

@functools.lru_cache(maxsize=8)
def defect_images(seed: int, per_class: int):
    """Synthetic surface crops: [n, 3, 64, 64] float32 in [0, 1] and labels [n] int64."""
    import numpy as np
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float64)
    labels = np.repeat(np.arange(len(DEFECT_CLASSES)), per_class)
    images = np.empty((len(labels), 3, 64, 64), dtype=np.float32)
    for i, label in enumerate(labels):
        base = rng.uniform(0.5, 0.58)
        img = base * np.array([1.0, 0.98, 0.95])[:, None, None] + rng.normal(0, 0.03, (1, 64, 64))
        cy, cx = rng.uniform(14, 50, 2)
        if label == 1:      # scratch: a thin bright line
            angle, length = rng.uniform(0, np.pi), rng.uniform(16, 44)
            along = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
            across = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
            img = img + rng.uniform(0.12, 0.3) * ((np.abs(across) < 1.2) & (np.abs(along) < length / 2))
        elif label in (2, 3):   # dent: a dark blob; stain: a brownish blob
            blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rng.uniform(4, 9) ** 2))
            shift = np.array([-1.0, -1.0, -1.0]) if label == 2 else np.array([0.5, 0.0, -0.8])
            img = img + rng.uniform(0.1, 0.25) * shift[:, None, None] * blob
        images[i] = np.clip(img, 0.0, 1.0)
    return _frozen(images, labels.astype(np.int64))


def _defect_stem(seed: int, dark_threshold: float):
    """Fixed conv filters: edges, dark, bright and red-blue colour, then a mixing layer."""
    import numpy as np
    rng = np.random.default_rng(seed)
    lum = np.ones(3)[:, None, None] / 3.0
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 4.0
    diagonal = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]) / 4.0
    centre = np.zeros((3, 3))
    centre[1, 1] = 1.0
    w1 = np.stack([lum * sobel, -lum * sobel, lum * sobel.T, -lum * sobel.T, lum * diagonal,
                   -lum * centre, lum * centre, np.array([1.0, 0.0, -1.0])[:, None, None] * centre])
    b1 = np.array([-0.05, -0.05, -0.05, -0.05, -0.05, dark_threshold, -0.66, -0.07])
    mix = rng.normal(0, 0.3, (8, 8, 3, 3))
    w2 = np.concatenate([4.0 * np.eye(8)[:, :, None, None] * centre,
                         mix - mix.mean(axis=(1, 2, 3), keepdims=True)])
    return {"conv1.W": w1, "conv1.B": b1, "conv2.W": w2, "conv2.B": np.zeros(16)}


def defect_graph(name: str, version: str, weights: dict):
    """The conv net; without ``fc.W``/``fc.B`` it stops at the pooled [batch, 16] features."""
    head = "fc.W" in weights
    conv = {"pads": [1, 1, 1, 1], "kernel_shape": [3, 3]}
    nodes = [_node("Conv", ["image", "conv1.W", "conv1.B"], "conv1", **conv), _node("Relu", ["conv1"], "relu1"),
             _node("MaxPool", ["relu1"], "pool1", kernel_shape=[2, 2], strides=[2, 2]),
             _node("Conv", ["pool1", "conv2.W", "conv2.B"], "conv2", **conv), _node("Relu", ["conv2"], "relu2"),
             _node("GlobalAveragePool", ["relu2"], "pool2"),
             _node("Flatten", ["pool2"], "flatten" if head else "features", axis=1)]
    if head:
        nodes.append(_node("Gemm", ["flatten", "fc.W", "fc.B"], "logits"))
    output = _tensor("logits", "FLOAT", ["batch", 4]) if head else _tensor("features", "FLOAT", ["batch", 16])
    return _model(name, "Surface defect class logits for a 64x64 RGB crop scaled to [0, 1].", nodes,
                  [_tensor("image", "FLOAT", ["batch", 3, 64, 64])], [output],
                  {k: _settle(v) for k, v in weights.items()},
                  {"name": name, "version": version, "classes": ",".join(DEFECT_CLASSES)})


def _fit_softmax(features, y, *, classes: int, steps: int, lr: float, l2: float):
    """Softmax regression on standardised features, folded back into raw-feature weights."""
    import numpy as np
    mean, std = features.mean(0), features.std(0) + 1e-6
    z = (features - mean) / std
    w, b = np.zeros((z.shape[1], classes)), np.zeros(classes)
    target = np.eye(classes)[y]
    for _ in range(steps):
        logits = z @ w + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        error = p / p.sum(1, keepdims=True) - target
        w -= lr * (z.T @ error / len(z) + l2 * w)
        b -= lr * error.mean(0)
    return w / std[:, None], b - (mean / std) @ w


def build_defect_detector(folder: Path, name: str, version: str, recipe: dict) -> Built:
    """Fix the conv stem, fit the head on its features, export fp32 and int8, evaluate both."""
    x, y = defect_images(recipe["data_seed"], recipe["per_class"])
    x_test, y_test = defect_images(9002, 100)
    weights = _defect_stem(recipe["seed"], recipe["dark_threshold"])
    features = run(defect_graph(name, version, weights), {"image": x}).astype("float64")
    weights["fc.W"], weights["fc.B"] = _fit_softmax(features, y, classes=len(DEFECT_CLASSES),
                                                    steps=recipe["steps"], lr=recipe["lr"], l2=recipe["l2"])
    paths = _export(folder, name, defect_graph(name, version, weights), int8=True)
    metrics = {variant: {"accuracy": round(float((run(path, {"image": x_test}).argmax(1) == y_test).mean()), 4)}
               for variant, path in paths.items()}
    return Built({v: f"model/{p.name}" for v, p in paths.items()}, metrics,
                 {"train": _digest(x, y), "test": _digest(x_test, y_test)},
                 {"stem": "fixed filter bank", "dark_threshold": recipe["dark_threshold"],
                  "head": "softmax regression", "learning_rate": recipe["lr"], "steps": recipe["steps"],
                  "l2": recipe["l2"], "images_per_class": recipe["per_class"],
                  "quantization": "onnxruntime dynamic, per-channel uint8 weights"})


# ---- support-embedder: mean-pooled token embeddings, projected and L2-normalised -----------

@functools.lru_cache(maxsize=8)
def tickets(seed: int, per_intent: int):
    """Synthetic support tickets: token ids [n, 16] int64 and intent labels [n] int64.

    Ids 0-999 are common words (Zipf-like); 1000 + 40 * k .. + 39 are intent k's keywords.
    A ticket holds two to four of its own keywords and one keyword of a related intent.
    """
    import numpy as np
    rng = np.random.default_rng(seed)
    common = 1.0 / (np.arange(1000) + 10.0)
    labels = np.repeat(np.arange(len(INTENTS)), per_intent)
    tokens = rng.choice(1000, size=(len(labels), SEQ), p=common / common.sum())
    for i, label in enumerate(labels):
        own = int(rng.integers(2, 5))
        slots = rng.permutation(SEQ)[:own + 1]
        related = (label + 1 - 2 * (label % 2)) if rng.random() < 0.5 else rng.integers(0, len(INTENTS))
        tokens[i, slots[:own]] = 1000 + 40 * label + rng.integers(0, 40, own)
        tokens[i, slots[own]] = 1000 + 40 * related + rng.integers(0, 40)
    return _frozen(tokens.astype(np.int64), labels.astype(np.int64))


def _fit_embedder(tokens, labels, *, dim: int, idf: bool, ridge: float, seed: int):
    """Token vectors = smoothed intent profiles (optionally idf-weighted); projection by ridge."""
    import numpy as np
    rng = np.random.default_rng(seed)
    k = len(INTENTS)
    prototypes = np.linalg.qr(rng.normal(size=(dim, k)))[0].T          # [k, dim], orthonormal
    counts = np.zeros((VOCAB, k))
    np.add.at(counts, (tokens.ravel(), np.repeat(labels, SEQ)), 1.0)
    profile = (counts + 0.5) / (counts.sum(1, keepdims=True) + 0.5 * k)
    weight = np.log(tokens.size / (1.0 + counts.sum(1))) if idf else np.ones(VOCAB)
    table = (profile - 1.0 / k) @ prototypes * np.maximum(weight, 0.1)[:, None]
    table += rng.normal(0, 0.01, table.shape)
    pooled = table[tokens].mean(1)
    targets = rng.normal(size=(k, EMBED))[labels]
    projection = np.linalg.solve(pooled.T @ pooled + ridge * np.eye(dim), pooled.T @ targets)
    return _settle(table), _settle(projection)


def embedder_graph(name: str, version: str, table, projection):
    import numpy as np
    nodes = [_node("Gather", ["embeddings", "token_ids"], "lookup", axis=0),
             _node("ReduceMean", ["lookup", "axes"], "mean_pool", keepdims=0),
             _node("MatMul", ["mean_pool", "projection"], "project"),
             _node("LpNormalization", ["project"], "embedding", axis=-1, p=2)]
    return _model(name, "Unit-length 64-d embedding of a tokenised support ticket.", nodes,
                  [_tensor("token_ids", "INT64", ["batch", "seq"])], [_tensor("embedding", "FLOAT", ["batch", EMBED])],
                  {"embeddings": table, "axes": np.array([1], dtype=np.int64), "projection": projection},
                  {"name": name, "version": version, "vocabulary_size": str(VOCAB)})


def retrieval_metrics(train_emb, train_y, test_emb, test_y) -> dict[str, float]:
    """Nearest-centroid intent accuracy and precision@5 of cosine retrieval among test tickets."""
    import numpy as np
    centroids = np.stack([train_emb[train_y == k].mean(0) for k in range(len(INTENTS))])
    accuracy = float(((test_emb @ centroids.T).argmax(1) == test_y).mean())
    similarity = test_emb @ test_emb.T
    np.fill_diagonal(similarity, -np.inf)
    top5 = np.argsort(-similarity, axis=1, kind="stable")[:, :5]
    return {"accuracy": round(accuracy, 4),
            "precision_at_5": round(float((test_y[top5] == test_y[:, None]).mean()), 4)}


def build_support_embedder(folder: Path, name: str, version: str, recipe: dict) -> Built:
    """Fit the token table and projection, export fp32 and int8, evaluate both."""
    import numpy as np
    parts = [tickets(seed, count) for seed, count in recipe["corpora"]]
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    x_test, y_test = tickets(9003, 100)
    table, projection = _fit_embedder(x, y, dim=recipe["dim"], idf=recipe["idf"],
                                      ridge=recipe["ridge"], seed=recipe["seed"])
    paths = _export(folder, name, embedder_graph(name, version, table, projection), int8=True)
    metrics = {variant: retrieval_metrics(run(path, {"token_ids": x}), y, run(path, {"token_ids": x_test}), y_test)
               for variant, path in paths.items()}
    return Built({v: f"model/{p.name}" for v, p in paths.items()}, metrics,
                 {f"train{i}": _digest(*p) for i, p in enumerate(parts)} | {"test": _digest(x_test, y_test)},
                 {"token_dim": recipe["dim"], "output_dim": EMBED, "pooling": "mean", "idf_weighting": recipe["idf"],
                  "ridge": recipe["ridge"], "vocabulary_size": VOCAB,
                  "quantization": "onnxruntime dynamic, int8 weights"})
