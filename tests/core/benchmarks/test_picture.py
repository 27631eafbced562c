"""Charts drawn as pictures for the desktop app: the PNG at the asked size and pixel ratio, and a
hover map whose rectangles sit on the bars and markers they name, with their exact numbers."""

from __future__ import annotations

import io
import pickle

import pytest
from matplotlib.image import imread

from modelgate.core.benchmarks.charts import ChartColours
from modelgate.core.benchmarks.picture import render
from modelgate.core.benchmarks.regression import compare
from modelgate.core.benchmarks.results import Result
from modelgate.core.benchmarks.rows import benchmark_rows
from modelgate.core.errors import ModelGateError
from modelgate.core.policy.document import load_policy

COLOURS = ChartColours(background="#ffffff", text="#000000", good="#00ff00", bad="#ff0000", champion="#0000ff",
                       doubt="#ff8800", muted="#888888")


def _result(metric, value, *, higher=True, index=0):
    return Result("benchmarks/results.json", index, "imagenet", "val", metric, value, None, higher, None)


def _decisions():
    # The shipped policy: production allows a loss of at most 0.01 absolute and 1 % relative.
    rows = benchmark_rows(results=[_result("accuracy", 0.88123), _result("f1", 0.80, index=1)],
                          champion_results=[_result("accuracy", 0.90), _result("f1", 0.79, index=1)],
                          policy=load_policy(), stage="production", targets=())
    return {"rows": rows, "stage": "production", "champion": "resnet@1.0.0"}


def _pixel(picture, x: float, y: float) -> tuple[float, float, float]:
    """The colour of the PNG at ``(x, y)`` in the picture's device-independent pixels."""
    image = imread(io.BytesIO(picture.png), format="png")
    return tuple(image[int(y * picture.ratio), int(x * picture.ratio)][:3])


def _centre(spot) -> tuple[float, float]:
    return spot.left + spot.width / 2, spot.top + spot.height / 2


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_picture_is_drawn_at_the_asked_size_times_the_pixel_ratio(ratio):
    picture = render(kind="decisions", content=_decisions(), colours=COLOURS, width=700, height=310, ratio=ratio)
    image = imread(io.BytesIO(picture.png), format="png")
    assert image.shape[:2] == (310 * ratio, 700 * ratio)
    assert all(0 <= spot.left and spot.left + spot.width <= 700 and 0 <= spot.top and spot.top + spot.height <= 310
               for spot in picture.spots)


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_hovering_a_bar_gives_its_exact_numbers_and_nothing_outside_the_bars(ratio):
    picture = render(kind="decisions", content=_decisions(), colours=COLOURS, width=700, height=310, ratio=ratio)
    assert len(picture.spots) == 4                         # champion and this version, in two panels
    this = next(spot for spot in picture.spots if "this version: 0.88123" in spot.text)
    x, y = _centre(this)
    assert picture.spot_at(x, y) is this
    assert "champion: 0.9" in this.text and "largest loss allowed" in this.text
    # The rectangle sits on the bar the PNG shows there (red: it regressed beyond the limit),
    # not mirrored top to bottom, where matplotlib's origin would put it.
    assert _pixel(picture, x, y) == pytest.approx((1.0, 0.0, 0.0), abs=0.02)
    champion = next(spot for spot in picture.spots if spot.text.splitlines()[1].startswith("champion resnet"))
    assert _pixel(picture, *_centre(champion)) == pytest.approx((0.0, 0.0, 1.0), abs=0.02)
    assert picture.spot_at(1, 1) is None
    assert picture.spot_at(this.left + this.width / 2, this.top - 3) is None   # just above the bar
    assert picture.failing == ("accuracy",) and picture.titles[0].startswith("✖")


def test_the_delta_chart_maps_each_bar_and_limit_marker():
    policy = load_policy()
    found = compare([_result("accuracy", 0.85), _result("f1", 0.80, index=1)],
                    [_result("accuracy", 0.90), _result("f1", 0.79, index=1)], policy.gates("production").regression)
    picture = render(kind="deltas", content={"metrics": found.metrics, "stage": "production"}, colours=COLOURS,
                     width=800, height=300, ratio=1.0)
    bars = [spot for spot in picture.spots if "verdict:" in spot.text]
    markers = [spot for spot in picture.spots if "largest loss allowed (production)" in spot.text]
    assert [spot.text.splitlines()[0].split(" on ")[0] for spot in bars] == ["accuracy", "f1"]
    assert "A: 0.9   B: 0.85" in bars[0].text and "verdict: worse than allowed" in bars[0].text
    assert _pixel(picture, *_centre(bars[0])) == pytest.approx((1.0, 0.0, 0.0), abs=0.02)
    assert _pixel(picture, *_centre(bars[1])) == pytest.approx((0.0, 1.0, 0.0), abs=0.02)
    assert len(markers) == 2
    # A marker drawn over its bar wins the hover there: it is the one on top.
    assert picture.spot_at(*_centre(markers[0])) is markers[0]


def test_the_picture_pickles_for_the_trip_from_the_worker_process():
    picture = render(kind="decisions", content=_decisions(), colours=COLOURS, width=500, height=300)
    assert pickle.loads(pickle.dumps(picture)) == picture


@pytest.mark.parametrize("kind, width, height, ratio", [("pie", 500, 300, 1.0), ("decisions", 0, 300, 1.0),
                                                        ("decisions", 500, 5000, 2.0)])
def test_an_unknown_chart_or_an_impossible_size_is_refused_in_words(kind, width, height, ratio):
    with pytest.raises(ModelGateError):
        render(kind=kind, content=_decisions(), colours=COLOURS, width=width, height=height, ratio=ratio)


def test_a_narrow_chart_stacks_its_panels_instead_of_squeezing_them():
    content = _decisions()
    wide = render(kind="decisions", content=content, colours=COLOURS, width=700, height=310)
    narrow = render(kind="decisions", content=content, colours=COLOURS, width=300, height=560)
    def bars(picture):
        return [spot for spot in picture.spots if "this version:" in spot.text]

    (a, b), (c, d) = bars(wide), bars(narrow)
    # Bars rise from their panel's foot: side by side, two panels' feet are level.
    assert abs((a.top + a.height) - (b.top + b.height)) < 2 and b.left > a.left + a.width
    assert d.top > c.top + c.height and abs(c.left - d.left) < 2      # one above the other
