"""The report's formats and the file suffixes that name them (light: the CLI's parser uses it)."""

from __future__ import annotations

from pathlib import Path

from modelgate.core.errors import UsageError

#: Report formats and the file suffixes that name them, the first one preferred.
FORMATS = {"html": (".html", ".htm"), "pdf": (".pdf",)}


def format_for(path: Path, *, chosen: str | None = None) -> str:
    """The format to write ``path`` in: ``chosen``, else the one its suffix names.

    :class:`UsageError` when neither says, or when ``chosen`` contradicts the suffix
    (``--format pdf`` into ``report.html``).
    """
    path = Path(path)
    named = next((name for name, suffixes in FORMATS.items() if path.suffix.lower() in suffixes), None)
    if chosen is not None and chosen not in FORMATS:
        raise UsageError(f"unknown report format {chosen!r}", hint=f"Formats are: {', '.join(FORMATS)}.")
    if chosen is None and named is None:
        raise UsageError(f"cannot tell the report format from {path.name!r}",
                         hint="Name the file .html or .pdf, or pass --format html|pdf.")
    if chosen is not None and named is not None and named != chosen:
        raise UsageError(f"a {chosen.upper()} report cannot be named {path.name!r}",
                         hint=f"Name the file {FORMATS[chosen][0]}, or choose the format its name says.")
    return chosen or named
