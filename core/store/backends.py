"""Which store back-end a store URL names (see :class:`~.interface.BundleBackend`)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from modelgate.core.store.interface import BundleBackend


def open_backend(*, url: str, root: Path, locate: Callable[[str], str | None],
                 measure: Callable[[Path, dict], dict] | None = None) -> BundleBackend:
    """The store ``url`` names: ``oci://HOST[:PORT]/PREFIX`` an OCI registry (``root`` then
    holds only the incoming area and working copies), anything else the folder store at
    ``root``. ``locate(digest)`` is the store path the registry recorded for ``digest``;
    ``measure(folder, manifest)`` the ModelPack config fields read from the model files."""
    from modelgate.core.store.reference import SCHEME, parse_reference

    if url.startswith(SCHEME):
        from modelgate.core.store.ocistore import OciBundleStore

        prefix = parse_reference(text=url.rstrip("/"), need_target=False)
        if prefix.target:
            from modelgate.core.store.errors import StoreError

            raise StoreError(f"the store {url!r} names a tag or digest",
                             hint="A store is a repository prefix, e.g. oci://registry:5000/models.")
        return OciBundleStore(prefix=prefix, root=root, locate=locate, measure=measure)
    from modelgate.core.store.folder import BundleStore

    return BundleStore(root)
