"""The report's layout as plain blocks (facts, tables, notes, a chart), shared by both formats.

The wording lives in :mod:`.outline`; the HTML and PDF renderers turn these blocks into
markup, and nothing else, so the two formats can never say different things. Cell text is
plain text (renderers escape it); a newline in a cell starts a new line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modelgate.core.evidence.pack import BenchmarkEvidence

#: Tones a note or a table row may carry: how good the news is.
GOOD, BAD, DOUBT = "good", "bad", "doubt"


class Code(str):
    """Text shown in a fixed-width font: digests, fingerprints, commands."""


@dataclass(frozen=True)
class Facts:
    """Label/value rows."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table; ``widths`` are relative column widths, ``tones`` one tone (or None) per row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    tones: tuple[str | None, ...] = ()

    def tone(self, index: int) -> str | None:
        return self.tones[index] if index < len(self.tones) else None


@dataclass(frozen=True)
class Note:
    """A paragraph; a toned note is a verdict and stands out."""

    text: str
    tone: str | None = None


@dataclass(frozen=True)
class Subheading:
    text: str


@dataclass(frozen=True)
class Chart:
    """The benchmark charts; ``description`` is their text alternative."""

    benchmarks: BenchmarkEvidence
    description: str


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple


@dataclass(frozen=True)
class Outline:
    """The whole report: title, filing facts, the verdicts an auditor reads first, sections."""

    title: str
    filing: Facts
    verdicts: tuple[Note, ...]
    sections: tuple[Section, ...]


def when(moment: datetime | str | None) -> str:
    """A UTC time as the report prints it (audit events keep their stored ISO text)."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        return moment.replace("T", " ").replace("Z", " UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
