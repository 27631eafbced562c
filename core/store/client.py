"""The OCI distribution protocol, spoken through oras-py with every answer distrusted.

oras-py gives the credentials (``~/.docker/config.json``, ``$REGISTRY_AUTH_FILE``,
``~/.config/containers/auth.json`` and their credential helpers) and the token dance. Three of
its provider's habits do not fit a gate, so the requests are made here, authenticated by
oras-py's auth backend on our own session: its single
``PUT`` upload reads a whole file into memory (we stream 16 MiB chunks), its retry decorator
sleeps for minutes on any error (we retry idempotent reads once and fail fast), and it
never checks that a blob's bytes match their digest (we hash every byte as it streams,
and stop reading past the declared size). Documents are read up to a size limit; an HTML
page, a redirect to another host for a manifest, or a plain-HTTP redirect is refused.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from modelgate.core import settings
from modelgate.core.store.errors import ArtifactRefused, RegistryUnreachable, StoreError
from modelgate.core.store.blobs import copy_blob
from modelgate.core.store.reference import OciReference, fallback_tag

CHUNK = 16 * 1024 * 1024
READ = 1024 * 1024
_ACCEPT_MANIFEST = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"


def auth_files() -> list[str]:
    """The Docker and Podman credential files that exist, in the order the tools read them."""
    candidates = [os.environ.get("REGISTRY_AUTH_FILE"),
                  os.path.join(os.environ.get("XDG_RUNTIME_DIR", ""), "containers", "auth.json")
                  if os.environ.get("XDG_RUNTIME_DIR") else None,
                  os.path.expanduser("~/.config/containers/auth.json"),
                  os.path.join(os.environ.get("DOCKER_CONFIG", os.path.expanduser("~/.docker")), "config.json")]
    return [path for path in candidates if path and os.path.isfile(path)]


def _insecure_allowed(reference: OciReference) -> bool:
    hosts = [h.strip() for h in settings.get(settings.OCI_INSECURE_HOSTS).split(",") if h.strip()]
    return reference.loopback or reference.host in hosts


class OciClient:
    """One repository of one registry. ``insecure`` speaks plain HTTP, for loopback hosts
    (or hosts listed in the ``oci_insecure_hosts`` setting) only; TLS is verified otherwise."""

    def __init__(self, *, reference: OciReference, insecure: bool = False) -> None:
        # oras.auth, not oras.provider: the provider imports jsonschema with its format
        # checkers, which costs a second of start-up the client never uses.
        import oras.auth
        import oras.container
        import requests
        from http.cookiejar import DefaultCookiePolicy
        from requests.adapters import HTTPAdapter

        if insecure and not _insecure_allowed(reference):
            raise StoreError(f"--insecure is only for loopback registries, not {reference.host}",
                             hint="List the host in MODELGATE_OCI_INSECURE_HOSTS to allow plain HTTP to it.")
        self.reference = reference
        self._timeout = settings.get(settings.OCI_TIMEOUT_S)
        self._prefix = "http" if insecure else "https"
        self._tls_verify = not insecure
        self._session = requests.Session()
        # Cookies are ignored: some registries take one as a sign they talk to a browser.
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self._session.max_redirects = 5
        self._session.mount("https://", HTTPAdapter(max_retries=0))
        self._session.mount("http://", HTTPAdapter(max_retries=0))
        self._auth = oras.auth.get_auth_backend("token", self._session, insecure, tls_verify=self._tls_verify)
        self._auth.load_configs(oras.container.Container(reference.repository, registry=reference.host),
                                configs=auth_files())
        self._base = f"{self._prefix}://{reference.host}/v2/{reference.repository}"
        self._basic_scheme = False

    @property
    def target(self) -> str:
        return self.reference.target

    def where(self, tag: str | None) -> str:
        base = f"oci://{self.reference.host}/{self.reference.repository}"
        return f"{base}@{tag}" if tag and tag.startswith("sha256:") else f"{base}:{tag}" if tag else base

    # ------------------------------------------------------------------ requests
    def _request(self, method: str, url: str, *, headers: dict | None = None, data=None,
                 stream: bool = False, blob: bool = False):
        import requests

        headers = dict(headers or {})
        attempts = 2 if method in ("GET", "HEAD") else 1
        for attempt in range(attempts):
            try:
                response = self._send(method, url, headers=headers, data=data, stream=stream)
                break
            except requests.exceptions.SSLError as exc:
                raise RegistryUnreachable(f"the TLS certificate of {self.reference.host} was refused: {exc}",
                                          hint="Install the registry's CA, or use --insecure for a loopback registry.") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if attempt + 1 == attempts:
                    why = "in time" if isinstance(exc, requests.exceptions.Timeout) else "(no connection)"
                    raise RegistryUnreachable(f"the registry {self.reference.host} did not answer {why}",
                                              hint="Check the address, the network and that the registry runs.") from None
                time.sleep(1)
            except requests.exceptions.TooManyRedirects:
                raise RegistryUnreachable(f"the registry {self.reference.host} redirected too often") from None
        self._check_redirects(response, blob=blob)
        if response.status_code in (401, 403):
            response.close()
            raise StoreError(f"the registry {self.reference.host} refused access ({response.status_code})",
                             hint="Log in with `docker login` or `podman login`; credentials are read from "
                                  "their auth files, never from the command line.")
        if "text/html" in response.headers.get("Content-Type", ""):
            response.close()
            raise RegistryUnreachable(f"{self.reference.host} answered with an HTML page, not the OCI "
                                      "distribution protocol", hint="Is this the registry's address (and port)?")
        return response

    def _send(self, method, url, *, headers, data, stream):
        import oras.auth

        auth = self._auth
        basic = getattr(auth, "_basic_auth", None)
        if self._basic_scheme and basic:
            headers["Authorization"] = f"Basic {basic}"
        elif getattr(auth, "token", None):
            headers.update(auth.get_auth_header())
        send = dict(headers=headers, data=data, stream=stream, timeout=self._timeout, verify=self._tls_verify)
        response = self._session.request(method, url, **send)
        if response.status_code != 401:
            return response
        challenge = response.headers.get("Www-Authenticate", "")
        if challenge.lower().startswith("basic") and basic and not self._basic_scheme:
            # Sent from now on without waiting to be asked: an upload chunk is not sent twice.
            self._basic_scheme = True
            headers["Authorization"] = f"Basic {basic}"
        else:
            try:
                headers, changed = auth.authenticate_request(response, headers)
            except (oras.auth.AuthenticationException, ValueError):
                changed = False
            if not changed:
                return response
        if hasattr(data, "seek"):
            data.seek(0)
        response.close()
        return self._session.request(method, url, **send)

    def _check_redirects(self, response, *, blob: bool) -> None:
        for url in [hop.url for hop in response.history] + [response.url]:
            where = urlparse(url)
            if where.netloc != self.reference.host and not blob:
                raise RegistryUnreachable(f"the registry redirected a manifest request to {where.netloc}",
                                          hint="Manifests are only read from the registry named.")
            if where.scheme != self._prefix and where.scheme != "https":
                raise RegistryUnreachable(f"the registry redirected to plain HTTP ({where.netloc})")

    def _bounded(self, response, *, limit: int, what: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            response.close()
            raise ArtifactRefused(f"{what} is {declared} bytes, more than the {limit} allowed",
                                  hint="MODELGATE_MAX_JSON_BYTES sets the limit.")
        body = bytearray()
        for chunk in response.iter_content(READ):
            body += chunk
            if len(body) > limit:
                response.close()
                raise ArtifactRefused(f"{what} is more than the {limit} bytes allowed",
                                      hint="MODELGATE_MAX_JSON_BYTES sets the limit.")
        return bytes(body)

    # ------------------------------------------------------------------ reading
    def manifest(self, target: str) -> tuple[bytes, str, str]:
        """``(bytes, digest, media type)`` of the manifest tagged or digested ``target``; a
        manifest asked for by digest must hash to it."""
        response = self._request("GET", f"{self._base}/manifests/{target}", headers={"Accept": _ACCEPT_MANIFEST},
                                 stream=True)
        if response.status_code == 404:
            response.close()
            raise ArtifactRefused(f"{self.reference.host}/{self.reference.repository} has no {target}",
                                  hint="Check the tag: a version's '+' becomes '_'.")
        if response.status_code != 200:
            response.close()
            raise RegistryUnreachable(f"the registry answered {response.status_code} for the manifest {target}")
        data = self._bounded(response, limit=settings.get(settings.MAX_JSON_BYTES), what=f"the manifest {target}")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if target.startswith("sha256:") and digest != target:
            raise ArtifactRefused(f"the manifest asked for as {target} hashes to {digest}")
        return data, digest, response.headers.get("Content-Type", "").split(";")[0].strip()

    def blob_bytes(self, descriptor: dict) -> bytes:
        """A small blob (a config, a signature), read whole and verified."""
        if descriptor["size"] > settings.get(settings.MAX_JSON_BYTES):
            raise ArtifactRefused(f"the blob {descriptor['digest']} is {descriptor['size']} bytes, more than "
                                  "the document limit", hint="MODELGATE_MAX_JSON_BYTES sets the limit.")
        chunks = []
        self.stream_blob(descriptor, write=chunks.append)
        return b"".join(chunks)

    def stream_blob(self, descriptor: dict, *, write, advance=None) -> None:
        """Hand the blob's bytes to ``write`` as they arrive; refuse a blob longer or shorter
        than ``size`` or whose SHA-256 is not ``digest`` (the caller discards what it wrote)."""
        digest, size = descriptor["digest"], descriptor["size"]
        response = self._request("GET", f"{self._base}/blobs/{digest}", stream=True, blob=True)
        with response:
            if response.status_code == 404:
                raise ArtifactRefused(f"the registry has no blob {digest}", hint="The artifact is incomplete.")
            if response.status_code != 200:
                raise RegistryUnreachable(f"the registry answered {response.status_code} for the blob {digest}")
            copy_blob(response.iter_content(READ), digest=digest, size=size, write=write, advance=advance)

    def referrers(self, digest: str) -> list[dict]:
        """The descriptors of artifacts whose subject is ``digest``: from the referrers API, or
        (on a registry without it) from the ``sha256-<hex>`` fallback tag's index."""
        response = self._request("GET", f"{self._base}/referrers/{digest}", stream=True)
        if response.status_code == 200 and "image.index" in response.headers.get("Content-Type", ""):
            data = self._bounded(response, limit=settings.get(settings.MAX_JSON_BYTES), what="the referrers index")
        else:
            response.close()
            try:
                data, _, _ = self.manifest(fallback_tag(digest))
            except ArtifactRefused as exc:
                if "has no" in exc.message:
                    return []
                raise
        import json

        try:
            index = json.loads(data)
        except ValueError:
            raise ArtifactRefused("the referrers index is not JSON") from None
        manifests = index.get("manifests") if isinstance(index, dict) else None
        return [m for m in manifests if isinstance(m, dict)] if isinstance(manifests, list) else []

    def supports_referrers(self, digest: str) -> bool:
        response = self._request("GET", f"{self._base}/referrers/{digest}", stream=True)
        response.close()
        return response.status_code == 200 and "image.index" in response.headers.get("Content-Type", "")

    # ------------------------------------------------------------------ writing
    def has_blob(self, digest: str) -> bool:
        response = self._request("HEAD", f"{self._base}/blobs/{digest}")
        return response.status_code == 200

    def push_blob(self, *, digest: str, size: int, path: Path | None = None, data: bytes | None = None,
                  advance=None) -> None:
        """Upload one blob (a file, streamed in chunks, or ``data``) unless the registry has it."""
        if self.has_blob(digest):
            if advance:
                advance(size)
            return
        response = self._request("POST", f"{self._base}/blobs/uploads/", headers={"Content-Length": "0"})
        location = self._location(response, expected=202, what="start an upload")
        # One streamed PATCH per blob (chunked transfer encoding): the file is read 16 MiB at a
        # time, so memory stays flat, and the registry appends one stream instead of resuming
        # an upload for every chunk.
        body = data if data is not None else _file_chunks(path, advance)
        headers = {"Content-Type": "application/octet-stream"}
        if data is not None:
            headers["Content-Length"] = str(len(data))
        response = self._request("PATCH", location, headers=headers, data=body)
        location = self._location(response, expected=202, what="upload")
        if data is not None and advance:
            advance(len(data))
        separator = "&" if "?" in location else "?"
        response = self._request("PUT", f"{location}{separator}digest={digest}", headers={"Content-Length": "0"})
        if response.status_code != 201:
            raise RegistryUnreachable(f"the registry refused the blob {digest} ({response.status_code})",
                                      hint=_errors(response))

    def _location(self, response, *, expected: int, what: str) -> str:
        if response.status_code != expected or not response.headers.get("Location"):
            raise RegistryUnreachable(f"the registry did not let us {what} ({response.status_code})",
                                      hint=_errors(response))
        location = response.headers["Location"]
        if location.startswith("/"):
            location = f"{self._prefix}://{self.reference.host}{location}"
        if urlparse(location).netloc != self.reference.host:
            raise RegistryUnreachable(f"the registry sent the upload to another host ({urlparse(location).netloc})")
        return location

    def push_manifest(self, *, data: bytes, target: str, media_type: str) -> None:
        response = self._request("PUT", f"{self._base}/manifests/{target}", headers={"Content-Type": media_type},
                                 data=data)
        if response.status_code != 201:
            raise RegistryUnreachable(f"the registry refused the manifest {target} ({response.status_code})",
                                      hint=_errors(response))


def _file_chunks(path: Path, advance):
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            yield chunk
            if advance:
                advance(len(chunk))


def _errors(response) -> str | None:
    try:
        errors = response.json().get("errors") or []
        return "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))[:300] or None
    except Exception:  # an error body in any shape is only a hint
        return None
