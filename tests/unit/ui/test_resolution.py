"""How finely the charts show a span (perfmon/ui/tick/resolution.py): points, bucket widths, notes."""

from __future__ import annotations

from perfmon.ui.tick.ranges import Span
from perfmon.ui.tick.resolution import (
    bucket_width,
    duration,
    has_data,
    history_note,
    moment,
    most_points,
    plan,
)


def test_a_width_is_said_in_hours_minutes_or_seconds() -> None:
    assert [duration(s) for s in (3600, 7200, 5000 * 3600, 3660, 60, 6000, 90, 0, 0.2, 0.12345, 3600.5)] == [
        "1 h", "2 h", "5000 h", "61 min", "1 min", "100 min", "90 s", "0 s", "0.2 s", "0.123 s", "3600.5 s"]


def test_the_points_of_a_rebuild_fit_the_byte_budget() -> None:
    assert most_points(4, band=False) == 847 and isinstance(most_points(4, band=False), int)  # 118 bytes each
    assert most_points(4, band=True) == 406  # 246 bytes each: mean, min and max
    assert most_points(0, band=False) == 1000 and most_points(1, band=False) == 1000  # a CPU at least
    assert most_points(100, band=False) == 144
    assert most_points(4, band=False, budget=500) == 10  # never fewer than 10


def test_a_bucket_is_the_narrowest_round_width_of_whole_samples_or_tiers() -> None:
    assert bucket_width(10, 1.0, 300) == 1.0  # never less than a sample
    assert bucket_width(600, 1.0, 60) == 10.0  # exactly ten samples: no eleventh
    assert bucket_width(3600, 3.0, 300) == 15.0  # 12 s is 4 samples; 15 s is the round width of whole ones
    assert bucket_width(86400 * 30, 1.0, 300) == 10800.0  # 2.4 h: whole hours, rounded to 3 h


def test_a_span_that_fits_as_samples_is_read_raw() -> None:
    def raw(seconds: float, **kwargs: object) -> bool:
        return plan(Span(preset=None, start=0.0, end=seconds), seconds, 1.0, 4, **kwargs).raw  # type: ignore[arg-type]

    assert raw(845) and not raw(846)  # 845 samples and 2 at the edges: 847, the most
    assert raw(100, most=(102, 50)) and not raw(101, most=(102, 50))


def test_data_is_any_cpu_point_not_null() -> None:
    assert has_data({"cpu_percent": [None, 1.0]}) is True
    assert has_data({"cpu_percent": [None, None]}) is False
    assert has_data({"cpu_percent": None}) is False and has_data({"memory_percent": [1.0]}) is False  # type: ignore[dict-item]


def test_the_history_note_says_since_when_the_charts_have_data() -> None:
    times, latest = [0.0, 61.0, 122.0], 200.0

    def note(values: list[float | None], width: float, interval: float = 1.0) -> str:
        return history_note({"timestamp": times, "cpu_percent": values}, width, interval, latest)

    assert note([None, None, None], 61) == "no history in this range"
    assert note([1.0, 1.0, None], 61) == ""
    assert note([None, 1.0, 1.0], 61) == f"history since about {moment(61.0, latest)}"
    assert note([None, 1.0, 1.0], 60) == f"history since {moment(61.0, latest)}"  # a minute: to the minute
    assert note([None, 1.0, 1.0], 120, interval=100) == f"history since {moment(61.0, latest)}"  # not banded
    assert note([None, 1.0], 61) == f"history since about {moment(61.0, latest)}"  # fewer values than times
