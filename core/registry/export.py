"""Exporting a stored version as a bundle folder that carries its own evidence.

The copy holds the stored files (verified against their digests while copied), the recorded
release signatures as ``signatures/<signer>.sig`` and the signed decision attestations as
``signatures/decisions.intoto.jsonl``, so that ``modelgate verify --attestations`` can check
it on a machine that never saw this registry.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from modelgate.core.bundle.reader import SIGNATURES
from modelgate.core.registry.attestations import attestations
from modelgate.core.registry.errors import RegistryError, WorkflowRefused
from modelgate.core.registry.models import Signature
from modelgate.core.registry.queries import get_version
from modelgate.core.signing.attestations import BUNDLE_FILE
from modelgate.core.signing.keys import check_name


@dataclass(frozen=True)
class ExportResult:
    """Where the copy went, its stage, and how many files, signatures and attestations it carries."""

    path: Path
    stage: str
    files: int
    signatures: int
    attestations: int


def _signature_documents(registry, *, name: str, version: str) -> dict[str, str]:
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        rows = session.scalars(select(Signature).where(Signature.version_id == row.id, Signature.verified.is_(True),
                                                       Signature.document.is_not(None))
                               .order_by(Signature.id)).all()
        # Recorded as ``signatures/NAME.sig``; only the last part is used, checked, so that a
        # recorded name can never place a file outside the export's signatures/.
        names = (PurePosixPath(r.file).name if r.file else f"{r.signer}.sig" for r in rows)
        return {check_name(name, what="signature file"): r.document for name, r in zip(names, rows)}


def export_version(registry, *, name: str, version: str, output: Path) -> ExportResult:
    """Copy ``name@version`` with its signatures and attestations into the new folder ``output``.

    Refuses (:class:`WorkflowRefused`, exit 1) while any decision attestation is unsigned:
    a copy missing one decision would claim less than the registry knows, or fail to verify.
    """
    output = Path(output)
    if output.exists() or output.is_symlink():
        raise RegistryError(f"{output} already exists; an export never writes into an existing path",
                            hint="Choose a new --output folder.")
    label = f"{name}@{version}"
    statements = attestations(registry, name=name, version=version)
    unsigned = [s for s in statements if s.envelope is None]
    if unsigned:
        raise WorkflowRefused(f"{label} has {len(unsigned)} unsigned decision attestation(s)",
                              hint=f"A signer signs them: modelgate attest {label} --key NAME.key")
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        digest, stage = row.digest, row.stage
    store = registry.store
    source = store.path_of(store.relative(digest))
    partial = output.with_name(f".{output.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        files = _copy_verified(store, digest, source, partial)
        documents = _signature_documents(registry, name=name, version=version)
        folder = partial / SIGNATURES
        folder.mkdir(exist_ok=True)
        for file, document in documents.items():
            target = folder / file
            target.write_text(document, encoding="utf-8")
        lines = "".join(json.dumps(s.envelope, sort_keys=True) + "\n" for s in statements)
        (partial / BUNDLE_FILE).write_text(lines, encoding="utf-8")
        os.replace(partial, output)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return ExportResult(output, stage, files, len(documents), len(statements))


def _copy_verified(store, digest: str, source: Path, target: Path) -> int:
    """Copy every stored file but ``signatures/``, each checked against its recorded digest."""
    from modelgate.core.registry.attestations import version_files

    files = version_files(store, digest)
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        with store.open_verified(digest, relative) as reader, open(destination, "wb") as out:
            shutil.copyfileobj(reader, out, 1024 * 1024)
    return len(files)
