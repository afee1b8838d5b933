"""The charts' span (ui.tick.ranges): presets, zooms, the store's and the URL's forms, forged input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from perfmon.core import units
from perfmon.ui.tick.ranges import (
    LAST_TIMESTAMP,
    PRESETS,
    Span,
    as_time,
    choose,
    fixed,
    from_search,
    from_store,
    is_preset,
    parse_chart_time,
    preset_covering,
    short,
    zoom_of,
)

T = 1_795_600_000.0


def local(*parts: int) -> float:
    """Unix seconds of a local time, as the charts write it."""
    return datetime(*parts).timestamp()  # type: ignore[arg-type]


def test_a_preset_ends_now_and_says_so_in_its_forms() -> None:
    span = Span("6h")
    assert span.live and span.seconds == 21600.0 and isinstance(span.seconds, float)
    assert span.key == "6h" and span.store() == {"range": "6h"} and span.search() == "?range=6h"
    assert span.note() == ""
    assert Span() == Span("5m") and Span().back == "5m"


def test_a_fixed_span_keeps_its_edges_and_the_preset_to_go_back_to() -> None:
    span = Span(None, T + 0.25, T + 3600.5, "1h")
    assert not span.live and span.seconds == 3600.25
    assert span.key == "1795600000.25-1795603600.5"
    assert span.store() == {"start": T + 0.25, "end": T + 3600.5, "back": "1h"}
    assert span.search() == "?start=1795600000.25&end=1795603600.5"
    assert span.note() == (f"{units.chart_time(T + 0.25)} to {units.chart_time(T + 3600.5)} "
                           "(double-click a chart or pick a range to go back)")


@pytest.mark.parametrize(("seconds", "text"), [
    (T, "1795600000"), (T + 0.1, "1795600000.1"), (T + 0.125, "1795600000.125"),
    (T + 0.1234, "1795600000.123"),
    (0.0, "0"), (10.0, "10"), (0.5, "0.5"),
])
def test_short_has_three_decimals_at_most_and_no_trailing_zeros(seconds: float, text: str) -> None:
    assert short(seconds) == text


@pytest.mark.parametrize(("seconds", "preset"), [
    (0, "5m"), (300, "5m"), (301, "1h"), (3600, "1h"), (3601, "6h"), (86400, "24h"), (86401, "7d"),
    (2592000, "30d"), (2592001, "30d"), (10**9, "30d"),
])
def test_the_smallest_preset_that_covers(seconds: float, preset: str) -> None:
    assert preset_covering(seconds) == preset


@pytest.mark.parametrize("value", [*PRESETS])
def test_presets_are_presets(value: str) -> None:
    assert is_preset(value)


@pytest.mark.parametrize("value", ["", "2h", "5M", None, 300, ["5m"], {"5m": 1}])
def test_anything_else_is_not_a_preset(value: Any) -> None:
    assert not is_preset(value)


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1.0), (2.5, 2.5), (0, 0.0), (-3, -3.0), (True, None), (False, None), ("1", None), (None, None),
    ([1], None), (10**400, None),
])
def test_as_time_takes_numbers_only(value: Any, expected: float | None) -> None:
    result = as_time(value)
    assert result == expected and (result is None or isinstance(result, float))


def test_a_fixed_span_is_rounded_to_milliseconds_and_goes_back_to_the_preset_covering_it() -> None:
    assert fixed(T + 0.00049, T + 60.0006) == Span(None, T, T + 60.001, "5m")
    assert fixed(T, T + 7200) == Span(None, T, T + 7200, "6h")
    assert fixed(T, T + 7200, "30d") == Span(None, T, T + 7200, "30d")
    assert fixed(T, T + 7200, ["30d"]) == Span(None, T, T + 7200, "6h")  # a forged back: the covering one


def test_a_zoom_under_a_second_is_widened_to_one_around_its_middle() -> None:
    assert fixed(T, T + 0.2) == Span(None, T - 0.4, T + 0.6, "5m")
    assert fixed(T, T + 1.0) == Span(None, T, T + 1.0, "5m")  # a whole second is kept as it is
    assert fixed(T, T + 0.999) == Span(None, round(T - 0.0005, 3), round(T + 0.9995, 3), "5m")


@pytest.mark.parametrize(("start", "end"), [
    (T, T), (T + 1, T), (float("nan"), T), (T, float("nan")), (float("-inf"), T), (T, float("inf")),
    (-5.0, 10.0), (LAST_TIMESTAMP - 10, LAST_TIMESTAMP + 0.5), (-0.2, 0.1),
])
def test_times_that_make_no_sense_are_no_span(start: float, end: float) -> None:
    assert fixed(start, end) is None


def test_the_edges_of_time_are_allowed() -> None:
    assert fixed(0.0, 10.0) == Span(None, 0.0, 10.0, "5m")
    assert fixed(LAST_TIMESTAMP - 10, LAST_TIMESTAMP) == Span(None, LAST_TIMESTAMP - 10, LAST_TIMESTAMP, "5m")
    assert fixed(0.0, 0.5) is None  # widened to start before 1970


@pytest.mark.parametrize(("data", "span"), [
    ({"range": "24h"}, Span("24h")),
    ({"range": "24h", "start": T, "end": T + 10}, Span("24h")),
    ({"start": T, "end": T + 10, "back": "1h"}, Span(None, T, T + 10, "1h")),
    ({"start": T, "end": T + 10}, Span(None, T, T + 10, "5m")),
    ({"range": "2h", "start": T, "end": T + 10}, Span(None, T, T + 10, "5m")),
    ({"start": T, "end": T - 10}, Span()),
    ({"start": "1", "end": T}, Span()),
    ({"start": T}, Span()),
    ({"end": T}, Span()),
    ({"range": ["1h"]}, Span()),
    (None, Span()),
    ([], Span()),
    ("1h", Span()),
])
def test_the_store_gives_its_span_or_the_default(data: Any, span: Span) -> None:
    assert from_store(data) == span


def test_a_span_read_back_from_its_store_is_itself() -> None:
    for span in (Span("7d"), Span(None, T, T + 90.5, "24h")):
        assert from_store(span.store()) == span


@pytest.mark.parametrize(("search", "span"), [
    ("?range=1h", Span("1h")),
    ("range=1h", Span("1h")),
    ("?range=1h&start=1&end=2", Span("1h")),
    ("?range=2h", Span()),
    ("?start=1795600000&end=1795603600", Span(None, T, T + 3600, "1h")),
    ("?start=1795600000.25&end=1795603600.123456", Span(None, T + 0.25, T + 3600.123, "1h")),
    ("?start=1795600000.1234567&end=1795603600", Span()),  # 7 decimals
    ("?start=17956000001&end=17956000002", Span()),  # 11 digits
    ("?start=1&end=9999999999", Span()),  # after 2100
    ("?start=1&end=4102444800", Span(None, 1.0, LAST_TIMESTAMP, "30d")),
    ("?start=-1&end=5", Span()),
    ("?start=1e9&end=2e9", Span()),
    ("?start=1795603600&end=1795600000", Span()),
    ("?start=1795600000", Span()),
    ("?end=1795600000", Span()),
    ("", Span()),
    (None, Span()),
])
def test_the_url_gives_its_span_or_the_default(search: str | None, span: Span) -> None:
    assert from_search(search) == span


def test_a_span_read_back_from_its_url_is_itself() -> None:
    for span in (Span("30d"), Span(None, T + 0.5, T + 90.25, "5m")):
        assert from_search(span.search()) == span


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-26", local(2026, 11, 26)),
    ("2026-11-26 14:02", local(2026, 11, 26, 14, 2)),
    ("2026-11-26T14:02", local(2026, 11, 26, 14, 2)),
    ("2026-11-26 14:02:10", local(2026, 11, 26, 14, 2, 10)),
    ("2026-11-26 14:02:10.25", local(2026, 11, 26, 14, 2, 10) + 0.25),
    ("  2026-1-2 3:4:5  ", local(2026, 1, 2, 3, 4, 5)),
    ("2026-11-26 14", local(2026, 11, 26, 14)),
])
def test_plotly_dates_are_read_as_local_time(text: str, expected: float) -> None:
    assert parse_chart_time(text) == expected


@pytest.mark.parametrize("text", [
    "2026-13-01", "2026-02-30", "2026-11-26 25:00", "26-11-26", "2026-11-26x", "tomorrow", "", None, 5,
    "2026-11-26 14:02:10.", "9999-12-31 23:59:60",
])
def test_anything_else_is_no_chart_time(text: Any) -> None:
    assert parse_chart_time(text) is None


A, B = "2026-11-26 14:00:00", "2026-11-26 14:10:00"
START, END = local(2026, 11, 26, 14), local(2026, 11, 26, 14, 10)


@pytest.mark.parametrize(("relayout", "zoom"), [
    ({"xaxis.range": [A, B]}, (START, END)),
    ({"xaxis.range[0]": A, "xaxis.range[1]": B}, (START, END)),
    ({"xaxis.range": [A], "xaxis.range[0]": A, "xaxis.range[1]": B}, (START, END)),
    ({"xaxis.range": [A, B, B]}, None),
    ({"xaxis.range": (A, B)}, None),
    ({"xaxis.autorange": True}, "reset"),
    ({"xaxis.autorange": True, "xaxis.range": [A, B]}, "reset"),
    ({"xaxis.autorange": 1}, None),
    ({"xaxis.range": [A, "later"]}, None),
    ({"xaxis.range[0]": A}, None),
    ({"autosize": True}, None),
    ({}, None),
    (None, None),
    ([A, B], None),
])
def test_a_charts_relayout_is_a_zoom_a_reset_or_nothing(relayout: Any, zoom: Any) -> None:
    assert zoom_of(relayout) == zoom


def test_choosing_a_preset() -> None:
    assert choose("range", None, "1h", None, {"range": "5m"}) == Span("1h")
    assert choose("range", None, "1h", None, {"range": "1h"}) is None  # the one shown
    assert choose("range", None, "2h", None, {"range": "5m"}) is None
    assert choose("range", None, "1h", None, None) == Span("1h")


def test_zooming_fixes_the_span_and_remembers_where_to_go_back() -> None:
    zoom = {"xaxis.range": [A, B]}
    assert choose("graph", None, None, zoom, {"range": "24h"}) == Span(None, START, END, "24h")
    shown = Span(None, START - 60, END, "7d").store()
    assert choose("graph", None, None, zoom, shown) == Span(None, START, END, "7d")  # a zoom in a zoom
    assert choose("graph", None, None, zoom, None) == Span(None, START, END, "1h")
    assert choose("graph", None, None, zoom, Span(None, START, END, "24h").store()) is None  # the same


def test_a_double_click_goes_back_from_a_zoom_only() -> None:
    reset = {"xaxis.autorange": True}
    assert choose("graph", None, None, reset, Span(None, START, END, "6h").store()) == Span("6h")
    assert choose("graph", None, None, reset, {"range": "6h"}) is None
    assert choose("graph", None, None, reset, None) is None
    assert choose("graph", None, None, {"autosize": True}, {"range": "6h"}) is None


def test_the_url_sets_the_span_on_load_and_on_back_and_forward() -> None:
    assert choose(None, "?range=7d", None, None, None) == Span("7d")
    assert choose("url", "?range=7d", None, None, {"range": "5m"}) == Span("7d")
    assert choose("url", "?range=7d", None, None, {"range": "7d"}) is None
    assert choose("url", "", None, None, {"range": "1h"}) == Span()
