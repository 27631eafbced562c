"""A chart as a picture: PNG bytes and a hover map, drawn with Agg where no window is.

The desktop app has its charts drawn in a worker process (drawing one takes a tenth of a
second or more, and importing matplotlib most of a second: either would stall the window)
and shows the picture. The picture is drawn at the widget's size in device-independent
pixels times its device pixel ratio, so it is sharp at 200 % scaling, and carries, for each
bar and marker, the rectangle it covers (in device-independent pixels from the top left, as
the widget measures) with its exact numbers, so the window can show them on hover.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from modelgate.core.benchmarks.charts import ChartColours, Drawn, columns_for, draw_decisions
from modelgate.core.benchmarks.deltas import draw_deltas
from modelgate.core.errors import ModelGateError

#: Matplotlib's pixels per inch at a device pixel ratio of 1 (its own default, and its Qt canvas's).
BASE_DPI = 100
#: The least width or height of a hover rectangle, in pixels: a bar of zero length can still be found.
LEAST_SPOT = 6.0
#: The largest picture drawn, in device pixels a side: a bigger request is a mistake, not a chart.
MOST_PIXELS = 8192


@dataclass(frozen=True)
class Spot:
    """A rectangle of the picture (device-independent pixels, origin top left) and its hover text."""

    left: float
    top: float
    width: float
    height: float
    text: str

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.left + self.width and self.top <= y <= self.top + self.height


@dataclass(frozen=True)
class Picture:
    """A drawn chart: the PNG (``width`` x ``height`` device-independent pixels at ``ratio``
    device pixels each), its hover map, and its words (panel titles, legend entries, the
    labels of what fails) for readers that cannot see the picture."""

    png: bytes
    width: int
    height: int
    ratio: float
    spots: tuple[Spot, ...]
    titles: tuple[str, ...]
    legend: tuple[str, ...]
    failing: tuple[str, ...]

    def spot_at(self, x: float, y: float) -> Spot | None:
        """The spot at ``(x, y)`` (device-independent pixels from the top left), if any: the one
        drawn last where two overlap, as it is the one on top."""
        for spot in reversed(self.spots):
            if spot.holds(x, y):
                return spot
        return None


def _decisions(figure, content: dict, colours: ChartColours, width: int) -> Drawn:
    return draw_decisions(figure, rows=content["rows"], stage=content["stage"], champion=content["champion"],
                          colours=colours, columns=columns_for(width))


def _deltas(figure, content: dict, colours: ChartColours, width: int) -> Drawn:
    return draw_deltas(figure, metrics=content["metrics"], stage=content["stage"], colours=colours)


#: The charts a picture can be drawn of, by name.
KINDS = {"decisions": _decisions, "deltas": _deltas}


def _extent(artist, renderer):
    """Where ``artist`` is drawn, in display space (device pixels, origin bottom left). A marker
    collection reports no extent of its own: its markers' centres and sizes give it."""
    import numpy
    from matplotlib.transforms import Bbox

    extent = artist.get_window_extent(renderer)
    if numpy.isfinite(extent.get_points()).all() or not hasattr(artist, "get_offsets"):
        return extent
    centres = artist.get_offset_transform().transform(artist.get_offsets())
    side = numpy.sqrt(max(artist.get_sizes(), default=0.0)) * renderer.points_to_pixels(1.0)
    return Bbox([centres.min(axis=0) - side / 2, centres.max(axis=0) + side / 2])


def _spot(extent, *, height: float, ratio: float, text: str) -> Spot:
    """The spot of a display-space ``extent`` (device pixels, origin bottom left, as matplotlib
    measures) on a picture ``height`` device pixels tall."""
    width, tall = max(extent.width, LEAST_SPOT * ratio), max(extent.height, LEAST_SPOT * ratio)
    left = extent.x0 - (width - extent.width) / 2
    top = height - extent.y1 - (tall - extent.height) / 2
    return Spot(float(left / ratio), float(top / ratio), float(width / ratio), float(tall / ratio), text)


def render(*, kind: str, content: dict, colours: ChartColours, width: int, height: int,
           ratio: float = 1.0) -> Picture:
    """Draw chart ``kind`` (a key of :data:`KINDS`) of ``content`` in ``colours`` at ``width`` x
    ``height`` device-independent pixels and ``ratio`` device pixels to each; return the picture."""
    if kind not in KINDS:
        raise ModelGateError(f"there is no chart called {kind!r}")
    if not (0 < width * ratio <= MOST_PIXELS and 0 < height * ratio <= MOST_PIXELS):
        raise ModelGateError(f"a chart of {width}x{height} pixels at {ratio:g}x cannot be drawn")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.image import imsave

    dpi = BASE_DPI * ratio
    figure = Figure(figsize=(width / BASE_DPI, height / BASE_DPI), dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    drawn = KINDS[kind](figure, content, colours, width)
    canvas.draw()
    renderer = canvas.get_renderer()
    device_height = figure.bbox.height
    spots = tuple(_spot(_extent(artist, renderer), height=device_height, ratio=ratio, text=text)
                  for artist, text in drawn.notes)
    buffer = io.BytesIO()
    imsave(buffer, canvas.buffer_rgba(), format="png", metadata={"Software": None})
    return Picture(png=buffer.getvalue(), width=width, height=height, ratio=ratio, spots=spots,
                   titles=tuple(axes.get_title(loc="left") for axes in figure.axes),
                   legend=tuple(text.get_text() for legend in figure.legends for text in legend.get_texts()),
                   failing=tuple(drawn.failing))
