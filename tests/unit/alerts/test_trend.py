"""The linear trend of predict: least squares as Prometheus' predict_linear draws it."""

from __future__ import annotations

import random

import pytest

from perfmon.alerts.trend import STEPS, Trend

T0 = 1_800_000_000.0


def least_squares(points: list[tuple[float, float]]) -> tuple[float, float]:
    n = len(points)
    mt, mv = sum(t for t, _ in points) / n, sum(v for _, v in points) / n
    slope = sum((t - mt) * (v - mv) for t, v in points) / sum((t - mt) ** 2 for t, _ in points)
    return slope, mv - slope * mt


def test_the_running_sums_give_the_least_squares_line_of_the_points_kept() -> None:
    rng = random.Random(7)
    trend = Trend(3600.0)
    kept: list[tuple[float, float]] = []
    for i in range(2000):  # every 10 s for 5.5 h: old points leave the window, steps keep the newest
        t, v = T0 + 10 * i, 50 + 0.001 * i + rng.uniform(-1, 1)
        trend.add(t, v)
        if kept and int((kept[-1][0] - T0) // (3600 / STEPS)) == int((t - T0) // (3600 / STEPS)):
            kept.pop()
        kept.append((t, v))
        kept = [(pt, pv) for pt, pv in kept if pt >= t - 3600]
    slope, intercept = least_squares(kept)
    assert len(trend.points) == len(kept) and trend.slope() == pytest.approx(slope, rel=1e-6)
    assert trend.predict(T0 + 30_000) == pytest.approx(intercept + slope * (T0 + 30_000), rel=1e-9)


def test_the_trend_is_unknown_until_the_points_span_a_quarter_of_the_window() -> None:
    trend = Trend(3600.0)
    trend.add(T0, 10.0)
    trend.add(T0 + 800, 20.0)
    assert trend.slope() is None and not trend.reaches(30.0, T0 + 800, 3600)
    trend.add(T0 + 900, 21.0)  # 900 s: a quarter
    assert trend.slope() == pytest.approx(11 / 900 * 0.9, rel=0.2)
    assert trend.reaches(30.0, T0 + 900, 3600) and not trend.reaches(30.0, T0 + 900, 60)
    falling = Trend(3600.0)
    for i in range(10):
        falling.add(T0 + 100 * i, 50.0 - i)
    # 41 at T0 + 900, falling 0.01 a second: 0 in 4,100 s
    assert falling.reaches(0.0, T0 + 900, 4200) and not falling.reaches(0.0, T0 + 900, 4000)
    assert not falling.reaches(100.0, T0 + 900, 10**6)  # it falls: it never reaches 100
    flat = Trend(60.0)
    for _ in range(10):
        flat.add(T0, 5.0)  # one moment only: no line
    assert flat.slope() is None
