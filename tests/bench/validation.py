"""Validation: start-up of the whole `modelgate validate` process, and a 1 GiB bundle.

* **start-up**: `modelgate validate` on a small real bundle (a fresh process,
  every check including the ONNX checker and a smoke inference) against
  `python -c "import onnx, onnxruntime"` in the same run. Start-up is what a
  process imports, so the goal is at most 1.5x the bare imports of the two
  libraries any ONNX validation needs.
* **1 GiB bundle**: `validate_bundle` in-process on a bundle whose model keeps
  1 GiB of weights as ONNX external data, against `hash_files` over the same
  files. Validation must be dominated by hashing: at most 1.2x.

Both cases compile the project's bytecode first, as an installed package has it.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, busy_warning, cpu_count, interleaved, scratch_folder, warm

NAME = "validation"
DESCRIPTION = "`modelgate validate` start-up vs `import onnx, onnxruntime`; 1 GiB bundle vs hashing"
DEFAULT_SIZE_MIB = 1024
ROOT = Path(__file__).resolve().parents[2]


def _embedding_model(folder: Path, total: int) -> None:
    """A Gather embedding whose table (``total`` bytes of float32) lives in external data."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    width = 64
    rows = max(1, total // (4 * width))
    table = np.lib.format.open_memmap(folder / "table.npy", mode="w+", dtype=np.float32, shape=(rows, width))
    table[:] = 0.5
    weight = numpy_helper.from_array(np.asarray(table), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "token_ids"], ["embedding"], axis=0)],
        "bench-embedding",
        [helper.make_tensor_value_info("token_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", "seq", width])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    (folder / "model").mkdir()
    onnx.save_model(model, str(folder / "model" / "embedding.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="embedding.weights", size_threshold=0)
    del table
    (folder / "table.npy").unlink()


def _big_bundle(folder: Path, total: int) -> Path:
    from tests.factory import clean_manifest, make_bundle

    manifest = clean_manifest(name="bench-embedding")
    manifest["artifacts"] = [{"path": "model/embedding.onnx", "format": "onnx", "variant": "fp32"}]
    manifest["interface"] = {
        "version": "1",
        "inputs": [{"name": "token_ids", "dtype": "int64", "shape": ["batch", "seq"]}],
        "outputs": [{"name": "embedding", "dtype": "float32", "shape": ["batch", "seq", 64]}],
    }
    manifest["targets"][0]["memory_mb"] = 4 * total // MIB
    root = folder / "big"
    root.mkdir()
    _embedding_model(root, total)
    return make_bundle(root, manifest=manifest, model=None)


def _startup(folder: Path, repeat: int) -> list[Result]:
    from tests.factory import make_bundle

    bundle = make_bundle(folder / "small")
    script = Path(sys.executable).parent / "modelgate"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "modelgate.core.cli.main"]
    env = dict(os.environ)
    subprocess.run([*command, "validate", str(bundle)], check=True, capture_output=True, env=env)

    def ours():
        done = subprocess.run([*command, "validate", str(bundle)], capture_output=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"modelgate validate failed: {done.stdout.decode()[-500:]}")

    def reference():
        subprocess.run([sys.executable, "-c", "import onnx, onnxruntime"], check=True, env=env)

    measured = interleaved({"ref": reference, "ours": ours}, repeat=max(repeat, 5))
    ref = "python -c 'import onnx, onnxruntime'"
    return [
        Result(NAME, ref, measured["ref"][0], note="the imports any ONNX validation needs"),
        Result(NAME, "modelgate validate (small bundle, whole process)", measured["ours"][0],
               reference=ref, goals=(Goal(1.5, "start-up"),)),
    ]


def _unsigned_production_policy(folder: Path):
    """The default policy without its production signature: the gate CI runs before the release
    officer signs (signature checks are the signing benchmark's business)."""
    import yaml

    from modelgate.core import resources
    from modelgate.core.policy.document import DEFAULT_POLICY, load_policy

    data = yaml.safe_load(resources.path(DEFAULT_POLICY).read_text(encoding="utf-8"))
    data["stages"]["production"].pop("signature", None)
    path = folder / "policy-unsigned-production.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_policy(path)


def _big(folder: Path, total: int, repeat: int) -> list[Result]:
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.bundle.digests import hash_files
    from modelgate.core.checks.engine import validate_bundle
    from modelgate.core.checks.request import ValidationRequest

    print(f"   writing a bundle with {total // MIB} MiB of external-data weights ...", flush=True)
    root = _big_bundle(folder, total)
    policy = _unsigned_production_policy(folder)
    files = [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*")) if p.is_file()]
    warm([path for _, path in files])

    def validate():
        with open_bundle(root) as bundle:
            report = validate_bundle(request=ValidationRequest(bundle=bundle, policy=policy, stage="production"))
        if not report.passed:
            raise RuntimeError("the benchmark bundle should pass: " + report.verdict)
        return report

    validate()  # imports and first-use costs are start-up's business, measured above
    measured = interleaved({"hash": lambda: hash_files(files), "validate": validate}, repeat=repeat)
    timings = dict(measured["validate"][1].timings)
    slowest = max(((k, v) for k, v in timings.items() if k != "hashing"), key=lambda kv: kv[1])
    ref = "hash_files (same files)"
    return [
        Result(NAME, ref, measured["hash"][0], total),
        Result(NAME, "validate_bundle (1 GiB bundle, production, unsigned)", measured["validate"][0], total,
               reference=ref, goals=(Goal(1.2, "dominated by hashing"),),
               note=f"slowest check {slowest[0]} {slowest[1]:.3f} s; hashing inside {timings['hashing']:.3f} s"),
    ]


def run(args) -> list[Result]:
    compileall.compile_dir(str(ROOT / "core"), quiet=1)
    repeat = getattr(args, "repeat", 3)
    total = (args.size_mib or DEFAULT_SIZE_MIB) * MIB
    if warning := busy_warning(cpu_count()):
        print(f"   {warning}", flush=True)
    with scratch_folder(NAME) as folder:
        return _startup(folder, repeat) + _big(folder, total, repeat)
