"""Push and pull of a large bundle to a loopback OCI registry, against `skopeo copy`.

A bundle of ``--size-mib`` (default 1024) MiB is written (one model file holding nearly
all of it), exported once as an OCI image layout with ModelGate's own mapping, and a
CNCF distribution registry (Debian's ``docker-registry``) is started on loopback. Then,
best of N, interleaved, each into a fresh repository or folder:

* ``push`` — ModelGate pushes the bundle folder (a child process: ``push_bundle``);
* ``skopeo push`` — ``skopeo copy oci:LAYOUT:TAG docker://…``, the same blobs; each push
  goes to an empty registry, so both upload every byte;
* ``pull`` — ModelGate pulls it, verifying every digest (a child process: ``pull_bundle``);
* ``skopeo pull`` — ``skopeo copy docker://… oci:DIR:TAG``.

Goal: each of ours within 1.2x of skopeo's time; the peak memory (max RSS) of our child
processes is shown beside it, to show that it does not grow with the bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.bench.common import MIB, Goal, Result, Unavailable, busy_warning, cpu_count, interleaved, scratch_folder

NAME = "oci"
DESCRIPTION = "push/pull of a 1 GiB bundle to a loopback registry, against `skopeo copy`"
DEFAULT_SIZE_MIB = 1024
TAG = "1.0.0"

_CHILD = r"""
import json, sys
from pathlib import Path
from modelgate.core.store.client import OciClient
from modelgate.core.store.oci import pull_bundle, push_bundle
from modelgate.core.store.reference import parse_reference
job = json.loads(sys.argv[1])
if job["do"] == "push":
    client = OciClient(reference=parse_reference(text=job["ref"], need_target=False), insecure=True)
    push_bundle(client=client, folder=Path(job["folder"]), files=job["files"], manifest=job["manifest"],
                bundle_digest=job["digest"], tag=job["tag"])
else:
    client = OciClient(reference=parse_reference(text=job["ref"], need_target=True), insecure=True)
    pull_bundle(client=client, dest=Path(job["dest"]))
import resource
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _bundle(folder: Path, total: int):
    from modelgate.core.bundle.digests import bundle_digest, hash_files
    from modelgate.core.bundle.lock import lock_bundle
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.reader import open_bundle
    from tests.factory import make_bundle

    root = make_bundle(folder / "bundle", lock=False)
    # The real ONNX model stays; its declared external weights make up the size.
    weights = root / "model" / "weights.bin"
    chunk = os.urandom(MIB)
    with open(weights, "wb") as out:
        for _ in range(total // MIB):
            out.write(chunk)
    lock_bundle(root)
    with open_bundle(root) as bundle:
        manifest = load_manifest(bundle).require()
        files = hash_files([(f, root / f) for f in bundle.files()])
    return root, files, manifest, bundle_digest(files)


def run(args) -> list[Result]:
    for tool in ("skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            raise Unavailable(f"`{tool}` is not installed (apt-get install -y docker-registry skopeo)")
    from modelgate.core.store.layout import LayoutStore
    from modelgate.core.store.oci import push_bundle
    from tests.oci_registry import DistributionRegistry

    total = (args.size_mib or DEFAULT_SIZE_MIB) * MIB
    repeat = getattr(args, "repeat", 3)
    with scratch_folder(NAME) as folder:
        if shutil.disk_usage(folder).free < total * (4 + 2 * repeat):
            raise Unavailable(f"needs about {total * (4 + 2 * repeat) // MIB} MiB free in {folder.parent}")
        print(f"   writing a {total // MIB} MiB bundle under {folder} ...", flush=True)
        root, files, manifest, digest = _bundle(folder, total)
        layout = folder / "layout"
        store = LayoutStore(folder=layout)
        store.create()
        push_bundle(client=store, folder=root, files=files, manifest=manifest, bundle_digest=digest, tag=TAG)
        server = DistributionRegistry()
        # Each push goes to a registry of its own: a registry that already holds the blobs lets
        # skopeo mount them from another repository instead of uploading, which is not the case measured.
        empty = [DistributionRegistry() for _ in range(2 * repeat)]
        started = [server, *empty]      # each is stopped (and its storage removed) at the end
        if warning := busy_warning(cpu_count()):
            print(f"   {warning}", flush=True)
        counter = {"n": 0}
        peaks: dict[str, int] = {}

        def child(name: str, job: dict) -> None:
            done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(job)], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
            peaks[name] = max(peaks.get(name, 0), int(done.stdout.split()[-1]))

        def fresh(prefix: str) -> str:
            counter["n"] += 1
            return f"{prefix}{counter['n']}"

        def ours_push():
            child("push", {"do": "push", "ref": f"oci://{empty.pop().host}/bench/{fresh('ours')}", "folder": str(root),
                           "files": files, "manifest": manifest, "digest": digest, "tag": TAG})

        def skopeo_push():
            subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:{TAG}",
                            f"docker://{empty.pop().host}/bench/{fresh('skopeo')}:{TAG}"], check=True)

        def ours_pull():
            dest = folder / fresh("pulled")
            child("pull", {"do": "pull", "ref": f"oci://{server.host}/bench/source:{TAG}", "dest": str(dest)})
            shutil.rmtree(dest)

        def skopeo_pull():
            dest = folder / fresh("skopeo-pulled")
            subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                            f"docker://{server.host}/bench/source:{TAG}", f"oci:{dest}:{TAG}"], check=True)
            shutil.rmtree(dest)

        try:
            subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:{TAG}",
                            f"docker://{server.host}/bench/source:{TAG}"], check=True)
            measured = interleaved({"skopeo push": skopeo_push, "push": ours_push,
                                    "skopeo pull": skopeo_pull, "pull": ours_pull}, repeat=repeat)
        finally:
            for each in started:
                each.stop()
    size = total
    goal = Goal(1.2, "of skopeo copy")
    return [
        Result(NAME, "skopeo push", measured["skopeo push"][0], nbytes=size),
        Result(NAME, "push", measured["push"][0], nbytes=size, reference="skopeo push", goals=(goal,),
               note=f"peak memory of the push process {peaks['push'] // 1024} MiB"),
        Result(NAME, "skopeo pull", measured["skopeo pull"][0], nbytes=size),
        Result(NAME, "pull", measured["pull"][0], nbytes=size, reference="skopeo pull", goals=(goal,),
               note=f"peak memory of the pull process {peaks['pull'] // 1024} MiB (every digest verified)"),
    ]
