"""Hashing a bundle: ModelGate's SHA-256 against ``openssl dgst -sha256``.

A bundle of eight files of different sizes (1 GiB in total by default) is
written to a scratch folder and read once so the page cache is warm. Then, in
the same run, round-robin and best of N each:

* ``openssl dgst -sha256 f1 f2 ...``: one process hashing the files one after
  another, the sequential reference;
* :func:`modelgate.core.bundle.digests.hash_files` in-process, with the default number
  of threads (one per core) and, for information, with one thread;
* :func:`modelgate.core.bundle.lock.lock_bundle`, what ``modelgate lock`` does, for
  information.

Goals (time ratio ours / openssl): at most 0.6x on two or more cores, and never
slower than openssl (1.0x). The digests of both are compared, so a fast wrong
answer cannot pass.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, Unavailable, busy_warning, cpu_count, interleaved, scratch_folder, warm

NAME = "hashing"
DESCRIPTION = "SHA-256 of a bundle's files: hash_files and lock_bundle vs `openssl dgst -sha256`"
DEFAULT_SIZE_MIB = 1024

#: Shares of the total size taken by the eight files (largest first).
SHARES = (0.25, 0.20, 0.15, 0.12, 0.10, 0.08, 0.06, 0.04)
BLOCK = 64 * MIB

MANIFEST = """\
bundle_format: modelgate.bundle/v1
name: bench-model
version: 1.0.0
license: Apache-2.0
artifacts:
  - path: model/model.onnx
    format: onnx
    variant: fp32
interface:
  inputs:
    - {name: x, dtype: float32, shape: [batch, 4]}
  outputs:
    - {name: y, dtype: float32, shape: [batch, 1]}
"""

_OPENSSL_LINE = re.compile(r"^SHA2?-?256\((?P<path>.*)\)= ?(?P<digest>[0-9a-f]{64})$")


def file_sizes(total: int) -> list[int]:
    sizes = [int(total * share) for share in SHARES]
    sizes[0] += total - sum(sizes)
    return sizes


def make_bundle(folder: Path, total: int) -> list[tuple[str, Path]]:
    """Write the bundle; return its content files as ``(relative name, path)``."""
    import os

    (folder / "model").mkdir()
    (folder / "bundle.yaml").write_text(MANIFEST, encoding="utf-8")
    block = bytearray(os.urandom(min(BLOCK, total)))
    view = memoryview(block)
    files = []
    for index, size in enumerate(file_sizes(total)):
        rel = "model/model.onnx" if index == 0 else f"model/weights-{index}.bin"
        path = folder / rel
        with open(path, "wb") as out:
            left, piece = size, 0
            while left:
                # Vary every block a little, so no two files or blocks are identical.
                block[:16] = index.to_bytes(8, "little") + piece.to_bytes(8, "little")
                n = min(left, len(block))
                out.write(view[:n])
                left -= n
                piece += 1
        files.append((rel, path))
    return files


def openssl_digests(openssl: str, files: list[tuple[str, Path]]) -> dict[str, str]:
    done = subprocess.run([openssl, "dgst", "-sha256", *(str(p) for _, p in files)],
                          check=True, capture_output=True, text=True)
    by_path = {}
    for line in done.stdout.splitlines():
        match = _OPENSSL_LINE.match(line.strip())
        if match:
            by_path[match["path"]] = match["digest"]
    return {rel: by_path.get(str(path), "") for rel, path in files}


def openssl_version(openssl: str) -> str:
    done = subprocess.run([openssl, "version"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown version"


def run(args) -> list[Result]:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise Unavailable("`openssl` is not on PATH; it is the reference this benchmark compares with "
                          "(Debian/Ubuntu: apt-get install openssl)")

    from modelgate.core.bundle.digests import hash_files
    from modelgate.core.bundle.lock import lock_bundle

    total = (args.size_mib or DEFAULT_SIZE_MIB) * MIB
    repeat = getattr(args, "repeat", 3)
    cores = cpu_count()
    with scratch_folder(NAME) as folder:
        free = shutil.disk_usage(folder).free
        if free < total + 256 * MIB:
            raise Unavailable(f"needs {total // MIB} MiB in {folder.parent}, only {free // MIB} MiB free")
        print(f"   writing {total // MIB} MiB in {len(SHARES)} files under {folder} ...", flush=True)
        files = make_bundle(folder, total)
        warm([path for _, path in files])
        print(f"   {cores} core(s); {openssl_version(openssl)}; best of {repeat}", flush=True)
        if warning := busy_warning(cores):
            print(f"   {warning}", flush=True)

        measured = interleaved({
            "openssl": lambda: openssl_digests(openssl, files),
            "parallel": lambda: hash_files(files),
            "one": lambda: hash_files(files, workers=1),
            "lock": lambda: lock_bundle(folder),
        }, repeat=repeat)
        (ref_runs, ref), (par_runs, ours) = measured["openssl"], measured["parallel"]
        (one_runs, ours_one), (lock_runs, _) = measured["one"], measured["lock"]

        if ref != ours or ours != ours_one:
            wrong = sorted(rel for rel in ref if ref[rel] != ours.get(rel) or ours.get(rel) != ours_one.get(rel))
            raise RuntimeError(f"digests differ from openssl for: {', '.join(wrong)}")

    from modelgate.core.bundle.digests import worker_count

    threads = min(worker_count(), len(files))
    two_cores = cores >= 2
    return [
        Result(NAME, "openssl dgst -sha256 (sequential)", ref_runs, total,
               note=f"one process, {len(files)} files one after another"),
        Result(NAME, f"hash_files ({threads} threads)", par_runs, total, reference="openssl dgst -sha256 (sequential)",
               goals=(Goal(0.6, "two cores", applies=two_cores, why_not=f"only {cores} core here"),
                      Goal(1.0, "never slower"))),
        Result(NAME, "hash_files (1 thread)", one_runs, total, reference="openssl dgst -sha256 (sequential)",
               note="for information: one thread against openssl's one process"),
        Result(NAME, "lock_bundle (modelgate lock)", lock_runs, total, reference="openssl dgst -sha256 (sequential)",
               note="for information: open, scan, hash, write bundle.yaml"),
    ]
