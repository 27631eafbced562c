"""The decision charts: the difference that decides is visible, the failing metric is marked
(hovering is in test_picture.py)."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from modelgate.core.benchmarks.charts import (ChartColours, band_of, draw_decisions, grid_shape, value_range)
from modelgate.core.benchmarks.results import Result
from modelgate.core.benchmarks.rows import benchmark_rows
from modelgate.core.policy.document import load_policy


def _result(metric, value, *, higher=True, unit=None, index=0):
    return Result("benchmarks/results.json", index, "imagenet", "val", metric, value, None, higher, unit)


def _draw(rows, *, stage="production"):
    figure = Figure(figsize=(9, 6), layout="constrained")
    FigureCanvasAgg(figure)
    drawn = draw_decisions(figure, rows=rows, stage=stage, champion="resnet@1.0.0", colours=ChartColours())
    figure.canvas.draw()
    return figure, drawn


def _rows(challenger, champion, *, stage="production"):
    # The shipped policy: production allows a loss of at most 0.01 absolute and 1 % relative.
    return benchmark_rows(results=challenger, champion_results=champion, policy=load_policy(), stage=stage,
                          targets=())


def test_a_one_point_regression_fills_the_panel_and_is_marked():
    rows = _rows([_result("accuracy", 0.89), _result("f1", 0.75, index=1)],
                 [_result("accuracy", 0.90), _result("f1", 0.75, index=1)])
    assert rows[0].regressed and not rows[1].regressed
    figure, drawn = _draw(rows)
    accuracy = figure.axes[0]
    low, high = accuracy.get_ylim()
    tops = sorted(bar.get_y() + bar.get_height() for bar in accuracy.patches if bar.get_height() > 0
                  and bar.get_width() < 1)
    assert len(tops) == 2
    assert (tops[1] - tops[0]) / (high - low) >= 0.10
    assert low > 0.5                                        # not from zero, where 0.01 would be 1 % of the axis
    assert drawn.failing == ["accuracy"]
    assert accuracy.get_title(loc="left").startswith("✖")
    assert accuracy.spines["left"].get_edgecolor()[:3] == pytest.approx((0xc6 / 255, 0x28 / 255, 0x28 / 255), abs=0.01)
    assert not figure.axes[1].get_title(loc="left").startswith("✖")


def test_the_allowed_band_is_the_gates_tolerance():
    rows = _rows([_result("accuracy", 0.895)], [_result("accuracy", 0.90)])
    band = band_of(rows[0])
    assert band == pytest.approx((0.891, 0.90))             # the tighter limit: 1 % of 0.90 = 0.009 < 0.01
    figure, _ = _draw(rows)
    spans = [p for p in figure.axes[0].patches if p.get_width() >= 1]
    assert spans, "the allowed band is shaded"


def test_lower_is_better_shades_above_the_champion():
    rows = _rows([_result("latency_p95_ms", 21.0, higher=False, unit="ms")],
                 [_result("latency_p95_ms", 20.0, higher=False, unit="ms")])
    low, high = band_of(rows[0])
    assert low == 20.0 and high > 20.0


def test_a_far_gate_is_named_not_drawn_and_a_broken_one_is_on_the_axis():
    policy_floor = 0.5
    from modelgate.core.benchmarks.rows import BenchmarkRow

    far = BenchmarkRow(_result("accuracy", 0.95), policy_floor, None, None, None)
    low, high, off = value_range(far)
    assert low > policy_floor and off == ["floor 0.5 below"]
    broken = BenchmarkRow(_result("accuracy", 0.40), policy_floor, None, None, None)
    low, high, off = value_range(broken)
    assert low < 0.40 < policy_floor < high and off == []


def test_grid_shape():
    assert grid_shape(0) == (0, 0)
    assert grid_shape(2) == (1, 2)
    assert grid_shape(7) == (3, 3)
