"""Model formats: header reads of multi-GiB safetensors and GGUF files, and a large pickle scan.

The safetensors and GGUF files are sparse: their headers declare 4 GiB of tensors and the
file is extended to that length without writing the bytes, so the benchmark measures what a
header read costs regardless of the weights behind it. The pickle is a stream of small
opcodes (the slow case for a scanner; a real checkpoint's bulk is in storages, not in its
pickle), scanned by ModelGate (its opcode walk plus picklescan) and by picklescan alone, the
reference.

Goals: each header read under 0.1 s; the pickle scan at >= 0.8x the reference's speed, i.e.
at most 1.25x its time. Peak memory (tracemalloc) is reported: the opcode walk needs constant
memory, picklescan about 50 bytes per byte of pickle, which is why it reads streams up to
8 MiB only (core/formats/pickle/scan.py).
"""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, Seconds, best_of, scratch_folder

NAME = "formats"
DESCRIPTION = "header reads of 4 GiB safetensors/GGUF files, and a pickle scan against picklescan alone"
DEFAULT_SIZE_MIB = 64
DECLARED = 4 * 1024**3


def _sparse_safetensors(path: Path) -> Path:
    count = 64
    each = DECLARED // count
    header = {f"layer.{i}.weight": {"dtype": "F32", "shape": [each // 4],
                                    "data_offsets": [i * each, (i + 1) * each]} for i in range(count)}
    raw = json.dumps(header).encode()
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(raw)) + raw)
    os.truncate(path, 8 + len(raw) + DECLARED)
    return path


def _sparse_gguf(path: Path) -> Path:
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(4096)
    count = 64
    each = DECLARED // count
    for index in range(count):
        writer.add_tensor_info(f"blk.{index}.weight", [each // 2], np.dtype(np.float16), each)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    start = -(-path.stat().st_size // 32) * 32
    os.truncate(path, start + DECLARED)
    return path


def _pickle(path: Path, size: int) -> Path:
    chunk = b"(" + b"K\x01" * 4000 + b"e"
    with open(path, "wb") as stream:
        stream.write(b"\x80\x04]")
        for _ in range(max(1, size // len(chunk))):
            stream.write(chunk)
        stream.write(b".")
    return path


def _peak(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(args) -> list[Result]:
    from picklescan.scanner import scan_file_path

    from modelgate.core.formats import registry

    repeat = getattr(args, "repeat", 3)
    size = (args.size_mib or DEFAULT_SIZE_MIB) * MIB
    results = []
    with scratch_folder(NAME) as folder:
        for kind, build in (("safetensors", _sparse_safetensors), ("gguf", _sparse_gguf)):
            path = build(folder / f"model.{kind}")
            fmt = registry.by_name(kind)
            runs, facts = best_of(lambda: fmt.read(path=path, label=path.name), repeat=repeat)
            assert facts.findings == () and facts.tensor_bytes == DECLARED, facts.findings
            results.append(Result(NAME, f"{kind} header, 4 GiB declared", runs,
                                  goals=(Seconds(0.1, "header read"),)))
        path = _pickle(folder / "model.pkl", size)
        fmt = registry.by_name("pytorch")
        print(f"   scanning a {path.stat().st_size // MIB} MiB pickle of small opcodes ...", flush=True)
        ref_runs, _ = best_of(lambda: scan_file_path(str(path)), repeat=repeat)
        our_runs, facts = best_of(lambda: fmt.read(path=path, label=path.name), repeat=repeat)
        peak = _peak(lambda: fmt.read(path=path, label=path.name))
        nbytes = path.stat().st_size
        results.append(Result(NAME, "picklescan alone", ref_runs, nbytes=nbytes))
        results.append(Result(NAME, "modelgate pickle scan", our_runs, nbytes=nbytes, reference="picklescan alone",
                              goals=(Goal(1.25, ">= 0.8x the reference's speed"),),
                              note=f"peak traced memory {peak / MIB:.1f} MiB", extra={"peak": peak}))
    return results
