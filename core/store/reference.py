"""``oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]`` references, and the tag of a version.

OCI tags allow ``[A-Za-z0-9_][A-Za-z0-9._-]{0,127}``; SemVer build metadata starts with
``+``, which no tag may hold, so a version's tag replaces every ``+`` with ``_`` (SemVer
itself never uses ``_``, so the mapping is reversible).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelgate.core.store.errors import StoreError

SCHEME = "oci://"
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*"
                   r"|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$")
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def tag_for(version: str) -> str:
    """The OCI tag of a SemVer version: ``1.0.0+build.5`` becomes ``1.0.0_build.5``."""
    tag = version.replace("+", "_")
    if not _TAG.match(tag):
        raise StoreError(f"the version {version!r} cannot be an OCI tag",
                         hint="Tags hold letters, digits, '.', '_' and '-', at most 128 characters.")
    return tag


def fallback_tag(digest: str) -> str:
    """The referrers tag schema of the distribution spec: ``sha256-<hex>``."""
    algorithm, _, hexdigits = digest.partition(":")
    return f"{algorithm}-{hexdigits}"


def version_of(tag: str) -> str:
    """The SemVer version a tag was made from (the inverse of :func:`tag_for`)."""
    return tag.replace("_", "+")


@dataclass(frozen=True)
class OciReference:
    """A parsed ``oci://`` reference; ``tag`` or ``digest`` may be missing (a push target)."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def loopback(self) -> bool:
        return self.host.rpartition(":")[0] in _LOOPBACK or self.host in _LOOPBACK

    @property
    def target(self) -> str:
        """The tag or digest a manifest is fetched by."""
        return self.digest or self.tag or ""

    def with_tag(self, tag: str) -> OciReference:
        return OciReference(self.host, self.repository, tag=tag)

    def __str__(self) -> str:
        text = f"{SCHEME}{self.host}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(*, text: str, need_target: bool) -> OciReference:
    """Parse ``oci://HOST[:PORT]/REPO[:TAG|@DIGEST]``; ``need_target`` asks for a tag or digest."""
    example = "oci://registry.example.com:5000/models/resnet:1.0.0"
    if not text.startswith(SCHEME):
        raise StoreError(f"{text!r} is not an oci:// reference", hint=f"For example {example}.")
    host, slash, rest = text[len(SCHEME):].partition("/")
    match = _HOST.match(host)
    if not slash or not rest or match is None or (match.group(1) and int(match.group(1)) > 65535):
        raise StoreError(f"{text!r} does not name a registry host and a repository",
                         hint=f"For example {example}.")
    digest = tag = None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not DIGEST.match(digest):
            raise StoreError(f"{digest!r} is not a sha256 digest", hint="Write @sha256:<64 hex digits>.")
    else:
        last = rest.rsplit("/", 1)[-1]
        if ":" in last:
            rest, _, tag = rest.rpartition(":")
            if not _TAG.match(tag):
                raise StoreError(f"{tag!r} is not a valid tag",
                                 hint="Tags hold letters, digits, '.', '_' and '-'; a version's '+' becomes '_'.")
    if not _REPOSITORY.match(rest):
        raise StoreError(f"{rest!r} is not a valid repository name",
                         hint="Repository names are lower-case path components, e.g. models/resnet.")
    if need_target and not (tag or digest):
        raise StoreError(f"{text!r} names no tag or digest", hint=f"For example {example}.")
    return OciReference(host=host, repository=rest, tag=tag, digest=digest)
