"""The command line cleans up after itself when CI cancels it (SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from tests.factory import make_bundle


@pytest.mark.slow
def test_sigterm_during_extraction_removes_the_private_folder(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for path in sorted(bundle.rglob("*")):
            if path.is_file():
                zf.write(path, f"b/{path.relative_to(bundle).as_posix()}")
        block = os.urandom(1024 * 1024)
        with zf.open("b/model/padding.bin", "w") as out:  # slow enough to interrupt
            for _ in range(256):
                out.write(block)
    private = tmp_path / "tmp"
    private.mkdir()
    env = {**os.environ, "TMPDIR": str(private)}
    process = subprocess.Popen([sys.executable, "-m", "modelgate.core.cli.main", "validate", str(archive)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not any(private.iterdir()) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "validation finished before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(private.iterdir()) == []
