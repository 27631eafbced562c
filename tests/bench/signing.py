"""Signing: `modelgate sign` and `modelgate verify` against the stock `model_signing` command.

A locked bundle whose ONNX model keeps 1 GiB of weights as external data (the
validation benchmark's bundle) is written to a scratch folder and read once so
the page cache is warm. Every case is a whole process, started the way a user
starts it, so start-up (imports) counts as much as hashing. In the same run,
round-robin and best of N:

* ``model_signing sign key BUNDLE --ignore-paths BUNDLE/signatures``, the
  reference, with its own unencrypted EC P-256 key (its ``--password`` option
  is broken) and its signature outside the bundle;
* ``modelgate sign BUNDLE --key bench.key``, which writes
  ``signatures/bench.sig`` (the passphrase from ``MODELGATE_KEY_PASSPHRASE``);
* ``model_signing verify key`` of the reference signature;
* ``modelgate verify BUNDLE --trust bench.pub`` of ours.

Both tools write the same kind of signature (a model-signing Sigstore bundle
over every file's SHA-256), and ours is checked once with the stock verifier,
so the two do the same work. Ours hashes the files in parallel (one thread per
core) while model-signing is still being imported; the reference imports first,
then hashes. Nearly all of this bundle's bytes are in one file, so what ours
can gain here is the import hidden behind the hashing. Goals (time ratio ours /
reference): at most 1.0x for signing and for verifying.

The project's bytecode is compiled first, as an installed package has it.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, Unavailable, busy_warning, cpu_count, interleaved, scratch_folder, warm

NAME = "signing"
DESCRIPTION = "`modelgate sign`/`verify` of a 1 GiB bundle vs `model_signing sign`/`verify key` (whole processes)"
DEFAULT_SIZE_MIB = 1024
ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "bench-passphrase"
SIGNER = "bench"


def _command(name: str) -> str:
    script = Path(sys.executable).parent / name
    if not script.exists():
        raise Unavailable(f"`{name}` is not installed next to {sys.executable}")
    return str(script)


def _reference_keys(folder: Path) -> tuple[Path, Path]:
    """An unencrypted EC P-256 key pair (PKCS#8 PEM) for the `model_signing` command."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "reference.key", folder / "reference.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def _runner(command: list[str], env: dict[str, str]):
    """A function that runs ``command`` and raises with its output unless it exits 0."""
    def run() -> None:
        done = subprocess.run(command, capture_output=True, env=env)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-800:]
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{output}")
    return run


def run(args) -> list[Result]:
    compileall.compile_dir(str(ROOT / "core"), quiet=1)
    modelgate, model_signing = _command("modelgate"), _command("model_signing")
    repeat = getattr(args, "repeat", 3)
    total = (args.size_mib or DEFAULT_SIZE_MIB) * MIB
    cores = cpu_count()
    env = dict(os.environ, MODELGATE_KEY_PASSPHRASE=PASSPHRASE)

    from modelgate.core.bundle.digests import worker_count
    from tests.bench.validation import _big_bundle

    with scratch_folder(NAME) as folder:
        free = shutil.disk_usage(folder).free
        if free < total + 256 * MIB:
            raise Unavailable(f"needs {total // MIB} MiB in {folder.parent}, only {free // MIB} MiB free")
        print(f"   writing a bundle with {total // MIB} MiB of external-data weights ...", flush=True)
        bundle = _big_bundle(folder, total)
        files = [path for path in sorted(bundle.rglob("*")) if path.is_file()]
        size = sum(path.stat().st_size for path in files)
        largest = max(path.stat().st_size for path in files)
        keys = folder / "keys"
        subprocess.run([modelgate, "keys", "generate", "--name", SIGNER, "--out", str(keys)],
                       check=True, capture_output=True, env=env)
        our_key, our_pub = keys / f"{SIGNER}.key", keys / f"{SIGNER}.pub"
        ref_key, ref_pub = _reference_keys(folder / "reference-keys")
        ref_sig = folder / "reference.sig"  # outside the bundle: neither tool sees the other's
        our_sig = bundle / "signatures" / f"{SIGNER}.sig"
        # The command resolves a relative --ignore-paths against the working folder, not the model's.
        ignore = ("--ignore-paths", str(bundle / "signatures"))

        cases = {
            "ref sign": _runner([model_signing, "sign", "key", str(bundle), "--private_key", str(ref_key),
                                 "--signature", str(ref_sig), *ignore], env),
            "ours sign": _runner([modelgate, "sign", str(bundle), "--key", str(our_key), "--signer", SIGNER], env),
            "ref verify": _runner([model_signing, "verify", "key", str(bundle), "--signature", str(ref_sig),
                                   "--public_key", str(ref_pub), *ignore], env),
            "ours verify": _runner([modelgate, "verify", str(bundle), "--trust", str(our_pub)], env),
        }
        warm(files)
        for case in cases.values():  # every command works on this bundle before anything is timed
            case()
        # Ours is a stock model-signing signature: the reference verifier accepts it, so both do the same work.
        _runner([model_signing, "verify", "key", str(bundle), "--signature", str(our_sig),
                 "--public_key", str(our_pub), *ignore], env)()

        print(f"   {cores} core(s); {worker_count()} hashing worker(s); best of {repeat}", flush=True)
        if warning := busy_warning(cores):
            print(f"   {warning}", flush=True)
        measured = interleaved(cases, repeat=repeat)

    ref_sign, ref_verify = "model_signing sign key", "model_signing verify key"
    return [
        Result(NAME, ref_sign, measured["ref sign"][0], size,
               note=f"bundle of {len(files)} files, {size / MIB:,.0f} MiB (largest {largest / MIB:,.0f} MiB); "
                    f"{cores} core(s), {worker_count()} hashing worker(s) in modelgate"),
        Result(NAME, "modelgate sign (whole process)", measured["ours sign"][0], size, reference=ref_sign,
               goals=(Goal(1.0, "parallel hashing"),)),
        Result(NAME, ref_verify, measured["ref verify"][0], size),
        Result(NAME, "modelgate verify (whole process)", measured["ours verify"][0], size, reference=ref_verify,
               goals=(Goal(1.0, "parallel hashing"),)),
    ]
