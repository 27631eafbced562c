"""The auditor report as one self-contained HTML file.

Jinja2 renders ``resources/templates/report/report.html.j2`` with autoescaping on, so
every value from the registry (comments, manifest text, reasons) is text, never markup.
The charts are embedded as SVG data URIs and the styles are inline: the file fetches
nothing, and its Content-Security-Policy forbids scripts and any outside request.
"""

from __future__ import annotations

import base64

from modelgate.core.evidence.layout import Chart, Code, Facts, Note, Outline, Subheading, Table, when
from modelgate.core.evidence.outline import outline as outline_of
from modelgate.core.evidence.pack import EvidencePack

TEMPLATE = "report.html.j2"
_KINDS = {Facts: "facts", Table: "table", Note: "note", Subheading: "subheading", Chart: "chart"}


def _percentages(table: Table) -> list[str]:
    total = sum(table.widths) or 1
    return [f"{100 * w / total:.1f}" for w in table.widths]


def _chart_uri(chart: Chart) -> str:
    from modelgate.core.evidence.charts import chart_svg

    return "data:image/svg+xml;base64," + base64.b64encode(chart_svg(chart.benchmarks)).decode("ascii")


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from modelgate.core import resources
    environment = Environment(loader=FileSystemLoader(resources.path("templates/report")), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    environment.globals.update(kind_of=lambda block: _KINDS[type(block)], is_code=lambda v: isinstance(v, Code),
                               percentages=_percentages, chart_uri=_chart_uri)
    return environment


def render_html(pack: EvidencePack) -> str:
    """The report of ``pack`` as the text of one HTML file (UTF-8, no outside resources)."""
    report: Outline = outline_of(pack)
    template = _environment().get_template(TEMPLATE)
    return template.render(pack=pack, outline=report, generated=when(pack.generated_at))
