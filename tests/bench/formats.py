"""Model formats: header reads of multi-GiB safetensors and GGUF files, and large pickle scans.

The safetensors and GGUF files are sparse: their headers declare 4 GiB and 64 GiB of tensors
and the file is extended to that length without writing the bytes, so the benchmark shows
that a header read costs the same whatever the weights behind it.

The pickle scans compare ModelGate (one pass of its opcode walk; picklescan judges the
imports found) with picklescan run alone on the same file, interleaved in the same run:
a 1 GiB protocol 4 state dict of numpy arrays (large ``BINBYTES`` payloads, which the walk
skips by seeking), a 1 GiB torch.save-style zip (stored storages beside ``data.pkl``) and a
pickle of nothing but small opcodes (the slowest case per byte for any walker; picklescan
keeps each of its opcodes in memory, so it is 1/256 of the size). Each file is generated in
a scratch folder and removed afterwards.

Goals: each header read under 0.1 s; each scan at >= 0.8x picklescan's speed, i.e. at most
1.25x its time. Peak memory of our scan (tracemalloc) is printed beside it.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, Seconds, best_of, interleaved, scratch_folder

NAME = "formats"
DESCRIPTION = "header reads of 4 and 64 GiB safetensors/GGUF files; 1 GiB pickle scans against picklescan alone"
#: The tensor pickle and the torch.save zip (``--size-mib`` changes it).
DEFAULT_SIZE_MIB = 1024
#: The dense pickle is this much smaller: picklescan keeps every opcode of it in memory.
DENSE_SHARE = 256
TENSOR_BYTES = 4 * MIB
#: What the sparse headers declare: the read must cost the same for both.
DECLARED = (4 * 1024**3, 64 * 1024**3)


def _sparse_safetensors(path: Path, declared: int) -> Path:
    count = 64
    each = declared // count
    header = {f"layer.{i}.weight": {"dtype": "F32", "shape": [each // 4],
                                    "data_offsets": [i * each, (i + 1) * each]} for i in range(count)}
    raw = json.dumps(header).encode()
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(raw)) + raw)
    os.truncate(path, 8 + len(raw) + declared)
    return path


def _sparse_gguf(path: Path, declared: int) -> Path:
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(4096)
    count = 64
    each = declared // count
    for index in range(count):
        writer.add_tensor_info(f"blk.{index}.weight", [each // 2], np.dtype(np.float16), each)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    start = -(-path.stat().st_size // 32) * 32
    os.truncate(path, start + declared)
    return path


def _dense_pickle(path: Path, size: int) -> Path:
    """A pickle that is nothing but small opcodes: the slowest case for any walker, per byte."""
    chunk = b"(" + b"K\x01" * 4000 + b"e"
    with open(path, "wb") as stream:
        stream.write(b"\x80\x04]")
        for _ in range(max(1, size // len(chunk))):
            stream.write(chunk)
        stream.write(b".")
    return path


def _tensor_pickle(path: Path, size: int) -> Path:
    """A protocol 4 state dict of numpy arrays (``BINBYTES`` payloads), as ``pickle.dump`` writes it.

    Each array is a broadcast view of one number, so writing it holds one array's bytes at a time.
    """
    import pickle

    import numpy as np

    count = max(1, size // TENSOR_BYTES)
    state = {f"layers.{i}.weight": np.broadcast_to(np.float32(i), (TENSOR_BYTES // 4,)) for i in range(count)}
    with open(path, "wb") as stream:
        pickle.dump(state, stream, protocol=4)
    return path


def _torch_zip(path: Path, size: int) -> Path:
    """A torch.save-style zip: ``archive/data.pkl`` naming one stored member per storage."""
    import zipfile

    from tests.core.formats._writers import torch_zip_bytes

    count = max(1, size // TENSOR_BYTES)
    small = zipfile.ZipFile(io.BytesIO(torch_zip_bytes(shapes={f"layers.{i}.weight": (1,) for i in range(count)})))
    block = bytes(MIB)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", small.read("archive/data.pkl"))
        for index in range(count):
            with archive.open(f"archive/data/{index}", "w", force_zip64=True) as member:
                for _ in range(TENSOR_BYTES // MIB):
                    member.write(block)
        archive.writestr("archive/version", "3\n")
    return path


def _peak(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _scan_cases(folder: Path, size: int, repeat: int) -> list[Result]:
    """Each pickle form scanned by picklescan alone and by ModelGate, interleaved in the same run."""
    from picklescan.scanner import scan_file_path

    from modelgate.core.formats import registry

    fmt = registry.by_name("pytorch")
    results = []
    for label, build, nbytes in (("tensor pickle", _tensor_pickle, size), ("torch.save zip", _torch_zip, size),
                                 ("dense pickle", _dense_pickle, max(MIB, size // DENSE_SHARE))):
        path = build(folder / f"{label.replace(' ', '-')}.{'pt' if 'zip' in label else 'pkl'}", nbytes)
        mib = path.stat().st_size / MIB
        print(f"   {label}: scanning {mib:,.0f} MiB ...", flush=True)
        timed = interleaved({"ref": lambda: scan_file_path(str(path)),
                             "ours": lambda: fmt.read(path=path, label=path.name)}, repeat=repeat)
        facts = timed["ours"][1]
        assert not facts.findings and timed["ref"][1].infected_files == 0, facts.findings
        peak = _peak(lambda: fmt.read(path=path, label=path.name))
        reference = f"picklescan alone, {label}"
        results.append(Result(NAME, reference, timed["ref"][0], nbytes=path.stat().st_size))
        results.append(Result(NAME, f"modelgate, {label}", timed["ours"][0], nbytes=path.stat().st_size,
                              reference=reference, goals=(Goal(1.25, ">= 0.8x picklescan's speed"),),
                              note=f"{mib:,.0f} MiB; peak traced memory {peak / MIB:.1f} MiB",
                              extra={"peak": peak}))
        path.unlink()
    return results


def run(args) -> list[Result]:
    from modelgate.core.formats import registry

    repeat = getattr(args, "repeat", 3)
    size = (args.size_mib or DEFAULT_SIZE_MIB) * MIB
    results = []
    with scratch_folder(NAME) as folder:
        for declared in DECLARED:
            for kind, build in (("safetensors", _sparse_safetensors), ("gguf", _sparse_gguf)):
                path = build(folder / f"model.{kind}", declared)
                fmt = registry.by_name(kind)
                fmt.read(path=path, label=path.name)  # once untimed: importing the reader is no header read
                runs, facts = best_of(lambda: fmt.read(path=path, label=path.name), repeat=repeat)
                assert facts.findings == () and facts.tensor_bytes == declared, facts.findings
                results.append(Result(NAME, f"{kind} header, {declared // 1024**3} GiB declared", runs,
                                      goals=(Seconds(0.1, "header read"),)))
                path.unlink()
        results.extend(_scan_cases(folder, size, repeat))
    return results
