"""Builders of hostile models and archives, written at test time with onnx and the standard library.

Each model keeps the tiny classifier's interface (features[batch, 4] -> probabilities[batch, 2])
so a bundle built with :func:`tests.factory.make_bundle` passes every other check, and the
only thing wrong with it is the resource its graph asks for.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

from tests.hostile import _Zeros

#: `modelgate` as a fresh process of this interpreter (the console script, without its wrapper).
MODELGATE = [sys.executable, "-c", "from modelgate.core.cli.main import entry; entry()"]

#: 2 GiB of float32: the size each memory bomb asks for.
BOMB_ELEMENTS = 512 * 1024**2


def _save(path: Path, nodes, initializers=()) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, "bomb",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
        initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="modelgate-tests")
    model.ir_version = 9
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def _head(total: str):
    """Nodes that turn the scalar ``total`` into probabilities[batch, 2] beside the features."""
    import numpy as np
    from onnx import helper, numpy_helper

    return ([helper.make_node("Slice", ["features", "start", "stop", "axis"], ["pair"]),
             helper.make_node("Add", ["pair", total], ["probabilities"])],
            [numpy_helper.from_array(np.array([0], np.int64), "start"),
             numpy_helper.from_array(np.array([2], np.int64), "stop"),
             numpy_helper.from_array(np.array([1], np.int64), "axis")])


def constant_folding_bomb(path: Path, *, elements: int = BOMB_ELEMENTS) -> None:
    """ConstantOfShape of a constant shape: onnxruntime folds it while creating the session."""
    import numpy as np
    from onnx import helper, numpy_helper

    head, tail = _head("total")
    _save(path, [helper.make_node("ConstantOfShape", ["shape"], ["block"]),
                 helper.make_node("ReduceSum", ["block"], ["total"], keepdims=0), *head],
          [numpy_helper.from_array(np.array([elements // 1024, 1024], np.int64), "shape"), *tail])
    # ConstantOfShape's default value is a float32 zero; the fold is elements * 4 bytes.


def runtime_shape_bomb(path: Path, *, elements: int = BOMB_ELEMENTS) -> None:
    """A shape computed from the input's run-time shape, so only inference allocates it."""
    import numpy as np
    from onnx import helper, numpy_helper

    head, tail = _head("total")
    _save(path, [helper.make_node("Shape", ["features"], ["dims"]),            # [batch, 4]
                 helper.make_node("Mul", ["dims", "scale"], ["shape"]),        # [batch*N/4, 4]
                 helper.make_node("ConstantOfShape", ["shape"], ["block"]),
                 helper.make_node("ReduceSum", ["block"], ["total"], keepdims=0), *head],
          [numpy_helper.from_array(np.array([elements // 4, 1], np.int64), "scale"), *tail])


def endless_loop(path: Path, *, trips: int = 2**62) -> None:
    """A Loop whose trip count is 2^62: it would run for ever."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    body = helper.make_graph(
        [helper.make_node("Add", ["v_in", "one"], ["v_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [])],
        initializer=[numpy_helper.from_array(np.array(1, np.float32), "one")])
    head, tail = _head("total")
    _save(path, [helper.make_node("Loop", ["trips", "", "zero"], ["total"], body=body), *head],
          [numpy_helper.from_array(np.array(trips, np.int64), "trips"),
           numpy_helper.from_array(np.array(0, np.float32), "zero"), *tail])


MODEL_BOMBS = {
    "constant-folding 2 GiB": constant_folding_bomb,
    "run-time shape 2 GiB": runtime_shape_bomb,
    "2^62 Loop": endless_loop,
}


# ----------------------------------------------------------------------------- archives

def long_name_tar(path: Path, *, header_bytes: int = 1024**3, kind: bytes = tarfile.GNUTYPE_LONGNAME) -> Path:
    """A tar whose first header is a GNU long-name (or PAX, ``kind=b"x"``) record of
    ``header_bytes`` bytes: tarfile would read the whole record into memory."""
    with open(path, "wb") as out:
        info = tarfile.TarInfo("././@LongLink")
        info.type, info.size = kind, header_bytes
        out.write(info.tobuf(format=tarfile.GNU_FORMAT))
        out.seek(header_bytes + (-header_bytes) % tarfile.BLOCKSIZE, io.SEEK_CUR)  # a sparse hole
        member = tarfile.TarInfo("bundle.yaml")
        out.write(member.tobuf(format=tarfile.GNU_FORMAT))
        out.write(bytes(tarfile.BLOCKSIZE * 2))
    return path


def zip_bomb(path: Path, *, member_bytes: int = 3 * 1024**3, members: int = 1) -> Path:
    """A zip of ``members`` files of zeros, ``member_bytes`` each once inflated (about 1000:1)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for index in range(members):
            with archive.open(f"model/blob{index}.bin", "w", force_zip64=True) as out:
                source = _Zeros(member_bytes)
                while chunk := source.read(4 * 1024**2):
                    out.write(chunk)
    return path


# ----------------------------------------------------------------------------- measuring

def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(p) for p in handle.read().split())
    except OSError:
        pass
    return found


def _tree_rss(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
        stack.extend(_children(current))
    return total


def measure(argv: list[str], *, env: dict | None = None) -> tuple[float, int, int, str]:
    """``(wall seconds, peak resident bytes of the whole process tree, exit code, output)`` of
    one command; the tree (the CLI and the model process) is sampled every 10 ms (Linux)."""
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return elapsed, peak, process.returncode, output
