"""Bundle folders: what the reader refuses, and digests, integrity and locking."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from modelgate.core.bundle import digests as digests_module
from modelgate.core.bundle.reader import open_bundle
from modelgate.core.bundle.digests import CHUNK, hash_files, sha256_file
from modelgate.core.errors import BundleError, ManifestError, OperationCancelled, UnsafeBundleError
from modelgate.core.bundle.manifest_types import typed_manifest
from modelgate.core.bundle.integrity import LockState, check_integrity
from modelgate.core.bundle.lock import lock_bundle
from modelgate.core.bundle.manifest import load_manifest, parse_manifest_text
from modelgate.core.progress import Progress
from tests import hostile
from tests.hostile import MIB


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_in_thread(path: Path, *, timeout: float = 5.0):
    """Open (and read the manifest of) ``path`` in a thread; fail instead of hanging.

    Returns the exception raised, or ``None`` when the bundle opened.
    """
    outcome: dict = {}

    def run():
        try:
            with open_bundle(path) as bundle:
                load_manifest(bundle)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "opening the bundle blocked: a FIFO was opened"
    return outcome.get("error")


# --------------------------------------------------------------------------- folders


def test_a_valid_folder_opens(minimal_bundle):
    root = minimal_bundle(extra={"signatures/release.sig": b"sig", "benchmarks/r.json": b"{}"})
    with open_bundle(root) as bundle:
        assert not bundle.is_archive
        assert bundle.root == root
        assert bundle.files() == ["LICENSE", "MODEL_CARD.md", "benchmarks/r.json", "bundle.yaml",
                                  "model/m.onnx", "signatures/release.sig"]
        assert bundle.content_files() == ["LICENSE", "MODEL_CARD.md", "benchmarks/r.json", "model/m.onnx"]
        assert load_manifest(bundle).valid
    assert root.exists()  # closing a folder bundle never deletes it


def test_symlink_to_a_file_inside_is_accepted(minimal_bundle):
    root = minimal_bundle()
    (root / "model" / "alias.onnx").symlink_to("m.onnx")
    with open_bundle(root) as bundle:
        assert "model/alias.onnx" in bundle.files()


@pytest.mark.parametrize("target", ["outside", "absolute"])
def test_symlink_leaving_the_bundle_is_refused(tmp_path, minimal_bundle, target):
    root = minimal_bundle()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    link = root / "model" / "weights.onnx"
    link.symlink_to(secret if target == "absolute" else Path("..") / ".." / "secret.txt")
    with pytest.raises(UnsafeBundleError, match="link that leaves the bundle") as info:
        open_bundle(root)
    assert info.value.rule == "MG121"


def test_manifest_symlinked_from_outside_is_refused(tmp_path, minimal_bundle):
    root = minimal_bundle()
    real = tmp_path / "elsewhere.yaml"
    real.write_text((root / "bundle.yaml").read_text())
    (root / "bundle.yaml").unlink()
    (root / "bundle.yaml").symlink_to(real)
    with pytest.raises(UnsafeBundleError, match="leaves the bundle"):
        open_bundle(root)


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_symlink_to_a_folder_is_refused(tmp_path, minimal_bundle, where):
    root = minimal_bundle()
    if where == "inside":
        (root / "weights").symlink_to("model", target_is_directory=True)
    else:
        (tmp_path / "dir").mkdir()
        (root / "weights").symlink_to(tmp_path / "dir", target_is_directory=True)
    with pytest.raises(UnsafeBundleError, match="link to a folder") as info:
        open_bundle(root)
    assert info.value.rule == "MG121"


def test_dangling_symlink_is_refused(minimal_bundle):
    root = minimal_bundle()
    (root / "model" / "gone.onnx").symlink_to("nothing-here.onnx")
    with pytest.raises(UnsafeBundleError, match="link"):
        open_bundle(root)


@pytest.mark.parametrize("name", ["model/pipe", "bundle.yaml", "MODEL_CARD.md"])
def test_fifo_is_refused_without_being_opened(minimal_bundle, name):
    root = minimal_bundle()
    (root / name).unlink(missing_ok=True)
    os.mkfifo(root / name)
    error = open_in_thread(root)
    assert isinstance(error, UnsafeBundleError), error
    assert "FIFO" in str(error)
    assert error.rule == "MG121"


def test_socket_is_refused(minimal_bundle, tmp_path):
    root = minimal_bundle()
    path = root / "model" / "s"
    if len(str(path)) > 100:
        pytest.skip("temporary path too long for a Unix socket")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        error = open_in_thread(root)
    finally:
        server.close()
    assert isinstance(error, UnsafeBundleError), error


@pytest.mark.parametrize("relative", ["../x", "model/../../x", "..", "/etc/passwd", "C:/x", "C:\\x",
                                      "..\\x", "model\\..\\..\\x"])
def test_resolve_refuses_paths_outside(minimal_bundle, relative):
    with open_bundle(minimal_bundle()) as bundle:
        with pytest.raises(UnsafeBundleError, match="not inside the bundle") as info:
            bundle.resolve(relative)
        assert info.value.rule == "MG110"
        with pytest.raises(UnsafeBundleError):
            bundle.read_bytes(relative, limit=1024)


def test_resolve_refuses_a_path_through_a_link_that_leads_outside(tmp_path, minimal_bundle):
    root = minimal_bundle()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    with open_bundle(root) as bundle:
        # Planted after the bundle was scanned, as a racing attacker would.
        (root / "model" / "sneaky").symlink_to(outside, target_is_directory=True)
        (root / "leak.txt").symlink_to(outside / "secret.txt")
        for relative in ("model/sneaky/secret.txt", "leak.txt"):
            with pytest.raises(UnsafeBundleError, match="leads outside the bundle"):
                bundle.resolve(relative)
            with pytest.raises(UnsafeBundleError):
                bundle.read_bytes(relative, limit=1024)


def test_resolve_and_read_bytes_inside(minimal_bundle):
    root = minimal_bundle()
    with open_bundle(root) as bundle:
        assert bundle.resolve("model/m.onnx").resolve() == (root / "model" / "m.onnx").resolve()
        assert bundle.read_bytes("LICENSE", limit=1024).startswith(b"Apache License")
        with pytest.raises(BundleError, match="larger than 10 bytes"):
            bundle.read_bytes("LICENSE", limit=10)


# --------------------------------------------------------------------------- digests


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    """Files of awkward sizes around the chunk size, with their expected digests."""
    sizes = [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 17]
    folder = tmp_path_factory.mktemp("data")
    block = os.urandom(2 * CHUNK + 17)
    files = {}
    for i, size in enumerate(sizes):
        path = folder / f"f{i}.bin"
        data = bytes([i]) + block[1:size] if size else b""
        path.write_bytes(data)
        files[f"f{i}.bin"] = (path, sha(data))
    return files


@pytest.mark.parametrize("workers", [1, 2, 4, None])
def test_hash_files_matches_hashlib(data_files, workers):
    result = hash_files(((name, path) for name, (path, _) in data_files.items()), workers=workers)
    assert result == {name: digest for name, (_, digest) in data_files.items()}


def test_sha256_file_matches_hashlib(data_files):
    for path, digest in data_files.values():
        assert sha256_file(path) == digest


def test_hash_files_progress_reaches_the_total(data_files):
    calls = []
    progress = Progress(callback=lambda label, done, total: calls.append((label, done, total)))
    hash_files(((n, p) for n, (p, _) in data_files.items()), progress=progress, workers=2)
    total = sum(p.stat().st_size for p, _ in data_files.values())
    assert calls[0] == ("hashing", 0, total)
    assert calls[-1][1] == total and progress.done == total
    assert [done for _, done, _ in calls] == sorted(done for _, done, _ in calls)


@pytest.mark.parametrize("workers", [1, 2])
def test_hash_files_cancel_stops_promptly(tmp_path, workers):
    files = []
    block = os.urandom(CHUNK)
    for i in range(4):
        path = tmp_path / f"big{i}.bin"
        path.write_bytes(block * 3 + bytes([i]))
        files.append((path.name, path))
    total = sum(path.stat().st_size for _, path in files)

    def callback(label, done, total_):
        if done > 0:
            progress.cancel()

    progress = Progress(callback=callback)
    started = time.process_time()  # every thread's processor time, whatever else the machine runs
    with pytest.raises(OperationCancelled):
        hash_files(files, progress=progress, workers=workers)
    assert time.process_time() - started < 2.0
    # At most one more chunk per worker after the one that asked to cancel.
    assert progress.done <= 2 * workers * CHUNK < total


def test_hash_files_missing_file_is_a_bundle_error(tmp_path):
    present = tmp_path / "present.bin"
    present.write_bytes(b"x")
    with pytest.raises(BundleError, match="gone.bin"):
        hash_files([("present.bin", present), ("gone.bin", tmp_path / "gone.bin")])


def test_hash_workers_setting(monkeypatch):
    monkeypatch.setenv("MODELGATE_HASH_WORKERS", "3")
    assert digests_module.worker_count() == 3
    monkeypatch.setenv("MODELGATE_HASH_WORKERS", "0")
    assert digests_module.worker_count() == (os.cpu_count() or 1)


# --------------------------------------------------------------------------- integrity


def integrity(root: Path):
    with open_bundle(root) as bundle:
        result = load_manifest(bundle)
        result.require()
        return check_integrity(bundle, result.typed)


def test_unlocked_without_files(minimal_bundle):
    report = integrity(minimal_bundle())
    assert report.state is LockState.UNLOCKED
    assert set(report.digests) == {"LICENSE", "MODEL_CARD.md", "model/m.onnx"}


def test_locked_after_lock_bundle(minimal_bundle):
    root = minimal_bundle(extra={"signatures/a.sig": b"s"})
    lock_bundle(root)
    report = integrity(root)
    assert report.state is LockState.LOCKED
    assert report.mismatched == report.missing == report.unlisted == report.artifact_problems == ()
    # Signatures and the manifest itself are never covered by digests.
    (root / "signatures" / "b.sig").write_bytes(b"later signature")
    with open(root / "bundle.yaml", "a", encoding="utf-8") as handle:
        handle.write("# a comment added after locking\n")
    assert integrity(root).state is LockState.LOCKED


def test_stale_after_one_flipped_byte(minimal_bundle):
    root = minimal_bundle()
    lock_bundle(root)
    model = root / "model" / "m.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    report = integrity(root)
    assert report.state is LockState.STALE
    assert report.mismatched == ("model/m.onnx",)
    assert [(i, key) for i, key, _ in report.artifact_problems] == [(0, "sha256")]


def test_stale_after_adding_a_file(minimal_bundle):
    root = minimal_bundle()
    lock_bundle(root)
    (root / "benchmarks").mkdir()
    (root / "benchmarks" / "new.json").write_text("{}")
    report = integrity(root)
    assert report.state is LockState.STALE
    assert report.unlisted == ("benchmarks/new.json",)


def test_stale_after_removing_a_file(minimal_bundle):
    root = minimal_bundle()
    lock_bundle(root)
    (root / "LICENSE").unlink()
    report = integrity(root)
    assert report.state is LockState.STALE
    assert report.missing == ("LICENSE",)


def test_stale_when_the_artifact_size_is_wrong(minimal_bundle):
    root = minimal_bundle()
    lock_bundle(root)
    data = yaml.safe_load((root / "bundle.yaml").read_text())
    data["artifacts"][0]["size"] += 1
    (root / "bundle.yaml").write_text(yaml.safe_dump(data))
    report = integrity(root)
    assert report.state is LockState.STALE
    assert [(i, key) for i, key, _ in report.artifact_problems] == [(0, "size")]


def test_integrity_with_a_non_string_artifact_path(minimal_bundle):
    # The schema reports the wrong type; the integrity check must not crash on it.
    root = minimal_bundle()
    with open_bundle(root) as bundle:
        manifest = load_manifest(bundle).data
        manifest["artifacts"][0]["path"] = ["model", "m.onnx"]
        report = check_integrity(bundle, typed_manifest(manifest))
    assert report.state is LockState.UNLOCKED


# --------------------------------------------------------------------------- lock


def test_lock_writes_artifact_digests_sizes_and_files(minimal_bundle):
    root = minimal_bundle(extra={"signatures/a.sig": b"s", "benchmarks/r.json": b'{"results": []}'})
    result = lock_bundle(root)
    data = parse_manifest_text((root / "bundle.yaml").read_bytes())
    assert data.valid, data.findings
    manifest = data.data
    model = (root / "model" / "m.onnx").read_bytes()
    assert manifest["artifacts"][0]["sha256"] == sha(model)
    assert manifest["artifacts"][0]["size"] == len(model)
    expected = {rel: sha((root / rel).read_bytes())
                for rel in ("LICENSE", "MODEL_CARD.md", "benchmarks/r.json", "model/m.onnx")}
    assert manifest["files"] == expected
    assert result.files == 4
    assert result.bytes == sum((root / rel).stat().st_size for rel in expected)
    # Everything that was there before is still there.
    assert manifest["name"] == "tiny-model" and manifest["interface"]["inputs"][0]["name"] == "x"
    assert lock_bundle(root).changed == ()  # locking twice changes nothing


def test_lock_leaves_no_temporary_files(minimal_bundle):
    root = minimal_bundle()
    before = sorted(p.name for p in root.iterdir())
    lock_bundle(root)
    assert sorted(p.name for p in root.iterdir()) == before


def test_lock_is_atomic_when_the_write_fails(minimal_bundle, monkeypatch):
    root = minimal_bundle()
    original = (root / "bundle.yaml").read_bytes()
    before = sorted(p.name for p in root.iterdir())

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(BundleError, match="No space left on device"):
        lock_bundle(root)
    assert (root / "bundle.yaml").read_bytes() == original
    assert sorted(p.name for p in root.iterdir()) == before


def test_lock_refuses_an_archive(tmp_path, minimal_bundle):
    archive = hostile.write_archive(tmp_path / "b.zip", hostile.bundle_entries(minimal_bundle()))
    with pytest.raises(BundleError, match="not a folder") as info:
        lock_bundle(archive)
    assert "archive" in (info.value.hint or "")


def test_lock_refuses_a_missing_artifact(minimal_bundle, minimal_manifest):
    root = minimal_bundle(manifest=minimal_manifest.replace("model/m.onnx", "model/missing.onnx"))
    original = (root / "bundle.yaml").read_bytes()
    with pytest.raises(BundleError, match="'model/missing.onnx' is listed in bundle.yaml but not in the bundle") as info:
        lock_bundle(root)
    assert info.value.rule == "MG105"
    assert (root / "bundle.yaml").read_bytes() == original


def test_lock_refuses_an_unreadable_manifest(minimal_bundle):
    root = minimal_bundle(manifest="name: [unclosed\n")
    with pytest.raises(ManifestError) as info:
        lock_bundle(root)
    assert info.value.rule == "MG102"


def test_lock_with_a_non_string_artifact_path_is_a_clear_error(minimal_bundle, minimal_manifest):
    root = minimal_bundle(manifest=minimal_manifest.replace("path: model/m.onnx", "path: [model, m.onnx]"))
    with pytest.raises(BundleError):
        lock_bundle(root)


def test_lock_refuses_a_bundle_with_an_escaping_link(tmp_path, minimal_bundle):
    root = minimal_bundle()
    (tmp_path / "secret").write_text("s")
    (root / "LICENSE-extra").symlink_to(tmp_path / "secret")
    original = (root / "bundle.yaml").read_bytes()
    with pytest.raises(UnsafeBundleError):
        lock_bundle(root)
    assert (root / "bundle.yaml").read_bytes() == original


def test_lock_hashes_a_larger_bundle_correctly(minimal_bundle):
    root = minimal_bundle(model_size=3 * CHUNK + 5,
                          extra={f"model/part{i}.bin": os.urandom(MIB + i) for i in range(3)})
    lock_bundle(root)
    files = yaml.safe_load((root / "bundle.yaml").read_text())["files"]
    for rel, digest in files.items():
        assert digest == sha((root / rel).read_bytes())
