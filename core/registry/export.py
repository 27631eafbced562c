"""Exporting a stored version as a bundle folder that carries its own evidence.

The copy holds the stored files (read back through the store's verification), the recorded
release signatures as ``signatures/<signer>.sig`` and the signed decision attestations as
``signatures/decisions.intoto.jsonl``, so that ``modelgate verify --attestations`` can check
it on a machine that never saw this registry. The copying is :func:`.publish.export_folder`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelgate.core.bundle.reader import SIGNATURES
from modelgate.core.registry.attestations import attestations
from modelgate.core.registry.publish import export_folder


@dataclass(frozen=True)
class ExportResult:
    """Where the copy went, its stage, and how many files, signatures and attestations it carries."""

    path: Path
    stage: str
    files: int
    signatures: int
    attestations: int


def export_version(registry, *, name: str, version: str, output: Path) -> ExportResult:
    """Copy ``name@version`` with its signatures and attestations into the new folder ``output``
    (see :func:`.publish.export_folder` for what is refused), and count what the copy carries."""
    folder = export_folder(registry, name=name, version=version, dest=Path(output))
    with registry.session(write=False) as session:
        from modelgate.core.registry.queries import get_version

        stage = get_version(session, name=name, version=version).stage
    files = [p for p in folder.rglob("*") if p.is_file()]
    signatures = [p for p in files if p.parent == folder / SIGNATURES and p.suffix == ".sig"]
    carried = [p for p in files if p.parts[len(folder.parts)] != SIGNATURES]
    return ExportResult(folder, stage, len(carried), len(signatures),
                        len(attestations(registry, name=name, version=version)))
