"""What the registry listing says when it shows no row: why, and what to do about it.

An empty listing means one of two different things. A filter may hide every version, and
then the reader needs to know how many it hides, so "nothing here" is not mistaken for
"nothing at all". Or the registry holds no version yet, and then the reader needs to know
how to bring one in.
"""

from __future__ import annotations


def filters_in(query) -> list[str]:
    """The filters ``query`` (a VersionQuery) applies, in words: "'xyz'", "stage candidate"…"""
    said = []
    if query.text.strip():
        said.append(f"'{query.text.strip()}'")
    if query.stage:
        said.append(f"stage {query.stage}")
    if query.status:
        said.append(f"validation {query.status}")
    return said


def empty_text(*, query, hidden: int | None) -> str:
    """The sentence for an empty listing of ``query``; ``hidden`` is how many versions the
    registry holds in all (``None`` while still being counted)."""
    filters = filters_in(query)
    if not filters or hidden == 0:
        return ("This registry holds no version yet. Import a bundle with File › Import bundle into the "
                "registry… (Ctrl+I) or File › Import from an OCI registry, or on the command line with "
                "modelgate registry import BUNDLE.")
    head = f"No version matches {' and '.join(filters)}"
    if hidden is None:
        return f"{head}."
    noun = "version" if hidden == 1 else "versions"
    plural = "filters" if len(filters) > 1 else "filter"
    return f"{head} — {hidden:,} {noun} hidden by the {plural}. Clear the {plural} to see every version."
