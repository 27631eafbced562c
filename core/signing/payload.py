"""The bridge to model-signing: a manifest built from digests ModelGate already computed.

model-signing would hash the bundle again inside ``sign`` and ``verify``. Its
configuration objects only ask a hashing configuration for ``hash(path)``, so
:class:`PrecomputedHashing` hands over the manifest of digests hashed once, in
parallel, while model-signing itself was still being imported.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath

from modelgate.core.bundle.reader import SIGNATURES, Bundle
from modelgate.core.bundle.digests import hash_files
from modelgate.core.errors import ModelGateError
from modelgate.core.progress import Progress

#: How the signed statement records its serialization: one digest per file, with
#: ``signatures/`` left out; the stock verifier reads these and hashes alike.
SERIALIZATION = {"method": "files", "hash_type": "sha256", "allow_symlinks": False,
                 "ignore_paths": [SIGNATURES]}


def covered_files(bundle: Bundle) -> list[str]:
    """Every file a signature covers: all but ``signatures/`` (``bundle.yaml`` included)."""
    return [name for name in bundle.files() if not name.startswith(SIGNATURES + "/")]


def hash_while_importing(bundle: Bundle, *, progress: Progress | None = None) -> dict[str, str]:
    """``{file: sha256}`` of the covered files, hashed while model-signing is imported."""
    files = [(name, bundle.resolve(name)) for name in covered_files(bundle)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelgate-sign") as pool:
        hashing = pool.submit(hash_files, files, progress=progress)
        try:
            import_model_signing()
        except BaseException:
            if progress is not None:
                progress.cancel()  # stop the hashing thread before leaving
            raise
        return hashing.result()


def import_model_signing():
    """The ``model_signing`` package, or a clear error when it cannot be imported."""
    try:
        import model_signing.signing  # noqa: F401  (imports every submodule used here)
        import model_signing.verifying  # noqa: F401
    except ImportError as exc:
        raise ModelGateError(f"the model-signing library cannot be loaded ({exc})",
                             hint="Reinstall ModelGate: pip install --force-reinstall modelgate") from None
    import model_signing

    return model_signing


def build_manifest(digests: dict[str, str], *, model_name: str):
    """The model-signing manifest of ``digests``, serialized as :data:`SERIALIZATION` says."""
    from model_signing import manifest
    from model_signing._hashing.hashing import Digest  # the digest type manifests hold

    kind = manifest.SerializationType.from_args(SERIALIZATION)
    items = [manifest.FileManifestItem(path=PurePosixPath(name), digest=Digest("sha256", bytes.fromhex(hex_)))
             for name, hex_ in sorted(digests.items())]
    return manifest.Manifest(model_name, items, kind)


class PrecomputedHashing:
    """Stands in for ``model_signing.hashing.Config``: returns a manifest already built.

    Ignore paths a signature asks for are not honoured: ModelGate's verdict
    covers every file but ``signatures/``, whatever a signature claims.
    """

    def __init__(self, manifest) -> None:
        self._manifest = manifest

    def hash(self, model_path, *, files_to_hash=None):
        return self._manifest

    def add_ignored_paths(self, *, model_path, paths) -> None:
        return None
