"""The auditor report of a registry version: its evidence pack, as HTML and as PDF.

:func:`collect` reads everything an auditor asks about one version from the registry
(manifest summary, validation findings with the policy digest, reviews, signatures and
their keys, promotions, the version's audit events and the whole chain's verification)
into an :class:`EvidencePack`; :func:`render_html` and :func:`render_pdf` lay the same
pack out as one self-contained HTML file or a PDF; :func:`write_report` puts either on
disk atomically.

The names load on first use (SQLAlchemy with :func:`collect`; matplotlib, Jinja2 and
ReportLab only when a report is drawn), so the command line's parser can read
:data:`FORMATS` from :mod:`.formats` without them.
"""

from __future__ import annotations

from importlib import import_module

_HOMES = {"collect": "collector", "EvidencePack": "pack", "render_html": "html", "render_pdf": "render",
          "write_report": "render", "FORMATS": "formats", "format_for": "formats"}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
