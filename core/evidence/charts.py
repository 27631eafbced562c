"""The report's benchmark charts as images: SVG for the HTML file, PNG for the PDF.

Drawn with matplotlib's object API on the Agg canvas (never pyplot, which would pick a
GUI backend and costs a second to import), on white paper, by the same code as the
desktop app's Benchmarks tab.
"""

from __future__ import annotations

import io

from modelgate.core.benchmarks.charts import ChartColours, draw_benchmarks, grid_shape
from modelgate.core.evidence.pack import BenchmarkEvidence

#: The figure's width in inches. Reports show it at the width of an A4 page's text (6.85 in),
#: so its lettering, sized for the desktop app's tab, prints at about three quarters.
WIDTH_IN = 9.0
#: Inches per row of decision panels, and for the legend below them.
PANEL_IN, LEGEND_IN = 2.3, 0.6
#: PNG resolution for the PDF: sharp on paper, a few hundred kilobytes.
PNG_DPI = 200


def chart_height(benchmarks: BenchmarkEvidence) -> float:
    """The figure's height in inches for these rows (0 when there is nothing to draw)."""
    panel_rows, _ = grid_shape(len(benchmarks.rows))
    return panel_rows * PANEL_IN + LEGEND_IN if panel_rows else 0


def _figure(benchmarks: BenchmarkEvidence):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, chart_height(benchmarks)), layout="constrained")
    FigureCanvasAgg(figure)
    draw_benchmarks(figure, rows=list(benchmarks.rows), stage=benchmarks.stage, champion=benchmarks.champion,
                    colours=ChartColours())
    return figure


def chart_svg(benchmarks: BenchmarkEvidence) -> bytes:
    """The charts as a standalone SVG document (text drawn as paths: no font needed to view it)."""
    from matplotlib import rc_context

    buffer = io.BytesIO()
    # A fixed salt and no date: the same pack draws the same bytes.
    with rc_context({"svg.hashsalt": "modelgate-report", "svg.fonttype": "path"}):
        _figure(benchmarks).savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def chart_png(benchmarks: BenchmarkEvidence) -> bytes:
    """The charts as a PNG at :data:`PNG_DPI`."""
    buffer = io.BytesIO()
    _figure(benchmarks).savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()
