"""A real, throw-away CNCF distribution registry (Debian's ``docker-registry``) for tests.

:class:`DistributionRegistry` writes a config with its storage in a temporary folder,
starts ``docker-registry serve`` on a free loopback port, waits until ``/v2/`` answers and
removes everything on :meth:`~DistributionRegistry.stop`. With ``htpasswd`` it requires
HTTP basic authentication. Distribution 2.8 has no referrers API, so what it holds
exercises the referrers-tag fallback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

INSTALL_COMMAND = "apt-get install -y docker-registry skopeo"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bcrypt(password: str) -> str:
    import warnings

    with warnings.catch_warnings():  # deprecated, but present up to 3.12: bcrypt via the system's libcrypt
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    # The registry checks the hash on every request; bcrypt's lowest cost (2^4 rounds) keeps a
    # push of many layers to milliseconds instead of a quarter second per request.
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


class DistributionRegistry:
    """One registry process; ``host`` is ``127.0.0.1:PORT``."""

    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError(f"docker-registry is not installed: {INSTALL_COMMAND} (make test does it)")
        self.folder = Path(tempfile.mkdtemp(prefix="modelgate-oci-"))
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.user, self.password = user, password
        storage = self.folder / "storage"
        auth = ""
        if user:
            (self.folder / "htpasswd").write_text(f"{user}:{_bcrypt(password)}\n")
            auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {self.folder / 'htpasswd'}\n"
        config = self.folder / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    "
                          f"rootdirectory: {storage}\n  delete:\n    enabled: true\n"
                          f"http:\n  addr: 127.0.0.1:{self.port}\n{auth}")
        self.log = open(self.folder / "registry.log", "wb")
        self.process = subprocess.Popen([binary, "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("docker-registry exited: " + (self.folder / "registry.log").read_text()[-2000:])
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # 401 with auth: it is up
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("docker-registry did not start within 20 s")

    def auth_file(self, folder: Path) -> Path:
        """A Docker-style auth file holding this registry's credentials."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        path = folder / "auth.json"
        path.write_text(json.dumps({"auths": {self.host: {"auth": token}}}))
        return path

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps the bytes of ``digest`` (to damage them in tests)."""
        hexdigits = digest.removeprefix("sha256:")
        return (self.folder / "storage" / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigits[:2]
                / hexdigits / "data")

    def get(self, path: str, *, accept: str | None = None) -> tuple[int, bytes, dict]:
        request = urllib.request.Request(f"http://{self.host}{path}", headers={"Accept": accept} if accept else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def skopeo_raw(reference: str) -> dict:
    """``skopeo inspect --raw`` of ``reference`` (docker://… or oci:…), parsed."""
    command = ["skopeo", "inspect", "--raw", reference]
    if reference.startswith("docker://"):
        command.append("--tls-verify=false")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
