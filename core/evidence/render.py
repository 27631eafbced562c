"""Writing a report to a file, in either format."""

from __future__ import annotations

from pathlib import Path

from modelgate.core.evidence.formats import format_for
from modelgate.core.evidence.html import render_html
from modelgate.core.evidence.pack import EvidencePack


def render_pdf(pack: EvidencePack, *, path: Path) -> None:
    """Write the report of ``pack`` as a PDF at ``path`` (atomically: all of it, or nothing)."""
    write_report(pack, path=path, format="pdf")


def write_report(pack: EvidencePack, *, path: Path, format: str | None = None) -> int:
    """Render ``pack`` as ``format`` (html or pdf; default: from ``path``'s suffix) into ``path``
    atomically; return the file's size in bytes.

    The file is written beside its target and renamed into place, so a crash or a full
    disk leaves the previous file (or none), never half a report. Errors become
    :class:`~modelgate.core.errors.UsageError` naming the file.
    """
    from modelgate.core.evidence.pdf import pdf_bytes
    from modelgate.core.outputs import write_output

    format = format_for(path, chosen=format)
    data = render_html(pack).encode("utf-8") if format == "html" else pdf_bytes(pack)
    # Written only into a folder that exists: the CLI and the app check it before the long work.
    write_output(Path(path), data, create_folders=False)
    return len(data)
