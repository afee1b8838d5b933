"""The charts' pure parts: figure builders (plain lists, no template, bands for buckets, extendData
payloads that match), the spans a tab can show (presets, zooms, their URLs), and the resolution
a span is drawn at (bounded points, so a range switch stays small)."""

from __future__ import annotations

import json
import math
import random
import time

import pytest

from perfmon.core import units
from perfmon.store.buckets import Buckets, TierSpan, bucket_seconds, choose_tier
from perfmon.ui.screen import figures
from perfmon.ui.screen.figures import Shape
from perfmon.ui.source.client import range_params
from perfmon.ui.tick import ranges, resolution
from perfmon.ui.tick.ranges import Span

SERIES = {
    "seq": [1, 2, 3],
    "timestamp": [1_700_000_000.0, 1_700_000_001.0, 1_700_000_002.0],
    "cpu_percent": [1.0, 2.0, 3.0],
    "memory_percent": [10.0, 10.5, 11.0],
    "swap_percent": [None, None, None],
    "load_1": [0.1, 0.2, 0.3],
    "disk_read_bytes_per_s": [None, 100.0, 200.0],
    "disk_write_bytes_per_s": [None, 0.0, 4096.0],
    "net_sent_bytes_per_s": [None, 1.0, 2.0],
    "net_recv_bytes_per_s": [None, 3.0, 4.0],
    "per_cpu_percent": [[1.0, 2.0], None, [3.0, 4.0]],
}
BUCKETS = {  # a range answer: mean, min and max per bucket; the middle bucket has no data
    "timestamp": [1_700_000_000.0, 1_700_000_010.0, 1_700_000_020.0],
    **{f"{column}{suffix}": [value, None, value]
       for column, value in (("cpu_percent", 12.345), ("load_1", 0.456), ("memory_percent", 40.04),
                             ("swap_percent", 1.0), ("disk_read_bytes_per_s", 1234.567),
                             ("disk_write_bytes_per_s", 0.0), ("net_sent_bytes_per_s", 10.5),
                             ("net_recv_bytes_per_s", 99.9))
       for suffix in ("", "_min", "_max")},
    "per_cpu_percent": [[10.0, 20.0], None, [30.0, 40.0]],
}


def test_every_chart_is_a_plain_json_dict_without_a_template() -> None:
    built = figures.figures(SERIES)
    assert set(built) == set(figures.GRAPH_IDS)
    for figure in built.values():
        text = json.dumps(figure, allow_nan=False)  # plain lists and numbers: no numpy, no NaN
        assert "bdata" not in text and "template" not in figure["layout"]
        assert len(text) < 2500
        assert all("x" not in trace for trace in figure["data"])  # the browser adds the tick's times
    cpu = built["cpu"]["data"][0]
    assert cpu["y"] == [1.0, 2.0, 3.0]
    assert [trace["name"] for trace in built["network"]["data"]] == ["received", "sent"]
    assert built["memory"]["data"][1]["y"] == [None, None, None]


def test_values_are_rounded_to_what_a_chart_shows() -> None:
    built = figures.figures(BUCKETS)
    assert built["cpu"]["data"][0]["y"] == [12.3, None, 12.3]
    assert built["load"]["data"][0]["y"] == [0.46, None, 0.46]
    read = built["diskio"]["data"][0]["y"]
    assert read == [1235, None, 1235] and isinstance(read[0], int)


def test_buckets_draw_the_mean_in_a_shaded_min_max_band() -> None:
    built = figures.figures(BUCKETS, Shape(band=True))
    network = built["network"]["data"]
    assert [trace["name"] for trace in network] == [
        "received min", "received max", "received", "sent min", "sent max", "sent"]
    low, high, mean = network[:3]
    assert high["fill"] == "tonexty" and high["fillcolor"].startswith("rgba(") and "fill" not in low
    assert low["showlegend"] is False and high["showlegend"] is False and "showlegend" not in mean
    assert low["legendgroup"] == high["legendgroup"] == mean["legendgroup"]  # the legend hides all three
    assert low["line"]["width"] == 0 and mean["line"]["width"] > 0
    assert built["cpu"]["layout"]["showlegend"] is False
    heatmap = built["cores"]["data"][0]  # the heatmap shows the means
    assert heatmap["z"] == [[10.0, 20.0], [None, None], [30.0, 40.0]]


def test_a_host_without_swap_has_no_swap_trace() -> None:
    for band in (False, True):
        memory = figures.figures(BUCKETS, Shape(band=band, swap=False))["memory"]
        assert all("swap" not in trace["name"] for trace in memory["data"])
        assert memory["layout"]["title"]["text"] == "Memory"
        assert memory["layout"]["showlegend"] is False
    assert figures.figures(BUCKETS)["memory"]["layout"]["title"]["text"] == "Memory and swap"


def test_the_core_heatmap_holds_a_row_per_sample() -> None:
    heatmap = figures.figures(SERIES)["cores"]["data"][0]
    assert heatmap["transpose"] is True
    assert heatmap["z"] == [[1.0, 2.0], [None, None], [3.0, 4.0]]
    assert heatmap["y"] == ["cpu0", "cpu1"]


def test_empty_history_gives_empty_charts() -> None:
    built = figures.figures({})
    assert built["cpu"]["data"][0]["y"] == []
    assert built["cores"]["data"][0]["z"] == []


def test_a_view_resets_zoom_and_hidden_traces_through_its_revision() -> None:
    built = figures.figures(SERIES, Shape(revision="6h"))
    assert {figure["layout"]["uirevision"] for figure in built.values()} == {"6h"}


def test_axes_grow_their_margins_to_fit_their_labels() -> None:
    for figure in figures.figures(SERIES).values():
        layout = figure["layout"]
        assert layout["xaxis"]["automargin"] and layout["yaxis"]["automargin"]
        assert layout["xaxis"]["tickangle"] == 0  # never sideways


def test_rate_charts_name_an_iec_unit_from_their_largest_value_and_hover_in_it() -> None:
    assert units.rate_unit(0) == ("KiB/s", 1024)  # no traffic: an axis of KiB/s, not of bytes
    assert units.rate_unit(1023 * 1024) == ("KiB/s", 1024)
    assert units.rate_unit(1024 * 1024) == ("MiB/s", 1024**2)
    assert units.rate_unit(5 * 1024**3) == ("GiB/s", 1024**3)
    busy = {**BUCKETS, "disk_read_bytes_per_s_max": [3 * 1024**2, None, 1.0]}  # a spike within a band
    built = figures.figures(busy, Shape(band=True))
    diskio, network = built["diskio"], built["network"]
    assert diskio["layout"]["meta"] == {"unit": "MiB/s", "scale": 1024**2}  # the browser divides by it
    assert diskio["layout"]["yaxis"]["ticksuffix"] == " MiB/s"
    assert all(trace["hovertemplate"].startswith("%{y:.4~g} MiB/s") for trace in diskio["data"])
    assert network["layout"]["meta"] == {"unit": "KiB/s", "scale": 1024}
    assert diskio["data"][1]["y"] == [3 * 1024**2, None, 1]  # sent in bytes, as extendData appends them
    text = json.dumps(built)
    assert "MB/s" not in text and "kB/s" not in text and ".2s" not in text  # plotly's SI prefixes
    assert "meta" not in built["cpu"]["layout"]  # percentages need no unit


def test_a_point_with_no_neighbour_is_marked_where_a_line_cannot_be_drawn() -> None:
    for shape in (Shape(), Shape(band=True)):
        for graph_id, figure in figures.figures(BUCKETS, shape).items():
            if graph_id == "cores":
                continue
            data = [trace for trace in figure["data"] if trace["name"] != "firing"]  # the alerts' band
            means = [trace for trace in data if not trace["name"].endswith((" min", " max"))]
            assert means and all(trace["mode"] == "lines+markers" for trace in means)
            assert all(trace["meta"] == {"alone": figures.ALONE_MARKER_PX} for trace in means)
            edges = [trace for trace in data if trace not in means]
            assert all(trace["mode"] == "lines" and "meta" not in trace for trace in edges)


def test_the_heatmap_keeps_its_cpu_rows_and_its_time_axis_without_any_value() -> None:
    young = {"timestamp": [1_700_000_000.0, 1_700_007_200.0], "per_cpu_percent": [None, None]}
    heatmap, holder = figures.figures(young, Shape(cores=4))["cores"]["data"]
    assert heatmap["z"] == [[None] * 4] * 2 and heatmap["y"] == ["cpu0", "cpu1", "cpu2", "cpu3"]
    assert holder["meta"] == {"span": True} and "y" not in holder  # the browser fills nulls over x
    layout = figures.figures(young, Shape(cores=4))["cores"]["layout"]
    assert layout["yaxis"]["range"] == [3.5, -0.5] and layout["yaxis"]["categoryarray"] == heatmap["y"]


def test_charts_without_points_show_no_made_up_dates() -> None:
    for figure in figures.figures({}).values():
        assert figure["layout"]["xaxis"]["showticklabels"] is False  # plotly's would be in the year 2000
    assert figures.figures({})["cores"]["layout"]["yaxis"]["showticklabels"] is False
    for figure in figures.figures(SERIES).values():
        assert "showticklabels" not in figure["layout"]["xaxis"]
        assert "height" not in figure["layout"]  # the page's chart box sets it (perfmon.css)


def test_history_since_is_said_when_it_starts_within_the_range() -> None:
    def at(clock: str) -> float:
        return time.mktime(time.strptime(f"2026-12-01 {clock}", "%Y-%m-%d %H:%M"))

    young = {"timestamp": [at("12:00"), at("14:00"), at("16:00")], "cpu_percent": [None, 5.0, 6.0]}
    assert resolution.history_note(young, 7200, 1, at("17:00")) == "history since about 14:00"
    samples = {"timestamp": [at("14:01"), at("14:02")], "cpu_percent": [None, 5.0]}
    assert resolution.history_note(samples, 1, 1, at("14:03")) == "history since 14:02"
    assert resolution.history_note(young, 7200, 1, at("12:00") + 2 * 86400).startswith(
        "history since about Dec 01 14:00")  # another day: its date
    full = {"timestamp": [at("12:00"), at("14:00")], "cpu_percent": [1.0, 2.0]}
    assert resolution.history_note(full, 7200, 1, at("15:00")) == ""  # the range is all history
    assert resolution.history_note({"timestamp": [at("12:00")], "cpu_percent": [None]}, 7200, 1,
                                   at("15:00")) == "no history in this range"


def test_extend_payloads_append_the_same_columns_the_figures_hold() -> None:
    assert figures.extend_payload("diskio", SERIES, 300) == [
        {"y": [[None, 100, 200], [None, 0, 4096]]}, [0, 1], 300]
    assert figures.extend_payload("cores", SERIES, 60) == [
        {"z": [[[1.0, 2.0], [None, None], [3.0, 4.0]]]}, [0], 60]
    for shape in (Shape(), Shape(band=True), Shape(band=True, swap=False), Shape(swap=False)):
        built = figures.figures(BUCKETS, shape)
        for graph_id in figures.GRAPH_IDS:
            payload = figures.extend_payload(graph_id, BUCKETS, 100, shape)
            traces = built[graph_id]["data"][:1] if graph_id == "cores" else built[graph_id]["data"]
            assert payload[1] == list(range(len(traces)))  # the heatmap's second trace holds its axis
            key = "z" if graph_id == "cores" else "y"
            assert payload[0][key] == [trace[key] for trace in traces], (graph_id, shape)


def test_a_gap_starts_with_a_null_point() -> None:
    payload = figures.extend_payload("memory", SERIES, 300, gap=True)
    assert payload[0]["y"][0] == [None, 10.0, 10.5, 11.0]
    assert figures.extend_payload("cores", SERIES, 300, gap=True)[0]["z"][0][0] == [None, None]
    assert figures.gap_time(100.0, 1.0) == 99.5


def test_sub_second_times_carry_milliseconds() -> None:
    assert figures.chart_times([1_700_000_000.25], True)[0].endswith(".250")
    assert "." not in figures.chart_times([1_700_000_000.25], False)[0]


# --- spans: presets, zooms and their URLs ------------------------------------------------------

def test_a_span_round_trips_through_the_url_and_the_store() -> None:
    for span in (Span("6h"), Span(None, 1_795_600_000.25, 1_795_603_600.0, back="1h")):
        assert ranges.from_search(span.search()) == Span(span.preset, span.start, span.end,
                                                          back="5m" if span.preset else "1h")
        assert ranges.from_store(span.store()) == span
    assert Span("24h").search() == "?range=24h"
    assert Span(None, 1_795_600_000.0, 1_795_603_600.5).search() == "?start=1795600000&end=1795603600.5"


@pytest.mark.parametrize("search", [None, "", "?range=2h", "?range=", "?start=10&end=5", "?start=1e9&end=2e9",
                                    "?start=-5&end=10", "?start=5000000000&end=5000000001", "?start=1"])
def test_a_url_that_asks_for_nothing_sensible_shows_the_default(search: str | None) -> None:
    assert ranges.from_search(search) == Span("5m")


@pytest.mark.parametrize("data", [None, {}, {"range": "1y"}, {"start": "a", "end": 1}, [1, 2],
                                  {"start": 10, "end": 10}, {"start": float("nan"), "end": 1.0}])
def test_a_forged_store_shows_the_default(data: object) -> None:
    assert ranges.from_store(data) == Span("5m")


def test_a_zoom_of_less_than_a_second_is_widened_and_goes_back_to_a_preset_covering_it() -> None:
    span = ranges.fixed(1000.0, 1000.2)
    assert span is not None and span.end - span.start == pytest.approx(ranges.MIN_ZOOM_SECONDS)
    assert ranges.from_search("?start=1795600000&end=1795610000").back == "6h"  # 2 h 47 min: 6 h covers it
    assert not span.live and Span("1h").live


def test_chart_times_parse_as_local_time() -> None:
    at = time.mktime((2026, 11, 26, 14, 2, 10, 0, 0, -1))
    assert ranges.parse_chart_time("2026-11-26 14:02:10") == at
    assert ranges.parse_chart_time("2026-11-26 14:02:10.5") == at + 0.5
    assert ranges.parse_chart_time("2026-11-26 14:02") == at - 10
    assert ranges.parse_chart_time("2026-11-26") == time.mktime((2026, 11, 26, 0, 0, 0, 0, 0, -1))
    for nonsense in ("yesterday", 17, None, "2026-13-45 99:99"):
        assert ranges.parse_chart_time(nonsense) is None


def test_relayout_data_is_a_zoom_a_reset_or_nothing() -> None:
    first, last = "2026-11-26 14:00:00", "2026-11-26 15:00:00"
    expected = (ranges.parse_chart_time(first), ranges.parse_chart_time(last))
    assert ranges.zoom_of({"xaxis.range[0]": first, "xaxis.range[1]": last}) == expected
    assert ranges.zoom_of({"xaxis.range": [first, last]}) == expected
    assert ranges.zoom_of({"xaxis.autorange": True, "yaxis.autorange": True}) == "reset"
    for nothing in ({"autosize": True}, {"dragmode": "pan"}, None, "x", {"xaxis.range[0]": first}):
        assert ranges.zoom_of(nothing) is None


def test_choosing_a_span() -> None:
    zoom = {"xaxis.range[0]": "2026-11-26 14:00:00", "xaxis.range[1]": "2026-11-26 14:10:00"}
    zoomed = ranges.choose("graph", None, None, zoom, {"range": "1h"})
    assert zoomed is not None and not zoomed.live and zoomed.back == "1h"  # a double-click goes back there
    assert ranges.choose("graph", None, None, {"xaxis.autorange": True}, zoomed.store()) == Span("1h")
    assert ranges.choose("graph", None, None, {"xaxis.autorange": True}, {"range": "1h"}) is None
    assert ranges.choose("graph", None, None, {"autosize": True}, {"range": "1h"}) is None
    assert ranges.choose("range", None, "7d", None, zoomed.store()) == Span("7d")
    assert ranges.choose("range", None, "7d", None, {"range": "7d"}) is None  # already shown
    assert ranges.choose("url", "?range=30d", "5m", None, None) == Span("30d")  # a shared link
    assert ranges.choose(None, None, None, None, None) == Span("5m")  # a page without a query
    assert "double-click" in zoomed.note() and Span("1h").note() == ""


# --- resolution: bounded points per span -------------------------------------------------------

LATEST = 1_795_675_717.093


@pytest.mark.parametrize("interval", [0.1, 0.2, 0.5, 0.7, 1.0, 5.0, 60.0, 3600.0])
@pytest.mark.parametrize("cores", [1, 2, 64, 256])
def test_every_preset_fits_the_byte_budget(interval: float, cores: int) -> None:
    for name in ranges.PRESETS:
        plan = resolution.plan(Span(name), LATEST, interval, cores)
        band = not plan.raw
        assert plan.points <= resolution.most_points(cores, band) + 2, (name, interval, cores)
        width = (plan.end - plan.start) / plan.points
        assert plan.points * width >= ranges.PRESETS[name] - 1e-6  # the whole range is covered
        assert plan.raw == (width == pytest.approx(interval))


def test_single_samples_sit_in_the_middle_of_their_buckets() -> None:
    plan = resolution.plan(Span("5m"), LATEST, 1.0, 2)
    assert plan.raw and plan.points == 300
    assert plan.end == pytest.approx(LATEST + 0.5)
    zoom = resolution.plan(Span(None, LATEST - 100.2, LATEST - 50.7), LATEST, 1.0, 2)
    assert zoom.raw and zoom.start <= LATEST - 100.2 and zoom.end >= LATEST - 50.7
    assert ((LATEST - zoom.end) % 1.0) == pytest.approx(0.5)  # samples at LATEST - k, bucket edges between


def test_buckets_lie_on_a_round_grid_and_end_once_settled() -> None:
    plan = resolution.plan(Span("24h"), LATEST, 1.0, 2)
    width = (plan.end - plan.start) / plan.points
    assert not plan.raw and width == 240 and plan.start % 240 == 0
    assert LATEST - resolution.SETTLE_SECONDS - width < plan.end <= LATEST - resolution.SETTLE_SECONDS
    assert resolution.bucket_width(3600, 1.0, 427) == 10  # 8.4 s rounds to 10 s
    assert resolution.bucket_width(2_592_000, 1.0, 427) == 7200  # whole hours for the per-hour tier
    assert resolution.bucket_width(3600, 0.7, 427) == pytest.approx(9.1)  # no round width is whole samples
    assert resolution.settled_buckets(100.0, 10.0, 100.0 + 25 + resolution.SETTLE_SECONDS) == 2
    assert resolution.settled_buckets(100.0, 10.0, 105.0) == 0


def test_the_resolution_in_words() -> None:
    assert resolution.describe(1.0, 1.0, "raw") == "every sample (1 s)"
    assert resolution.describe(0.2, 0.2, "raw") == "every sample (0.2 s)"
    assert resolution.describe(240.0, 1.0, "minute") == "means per 4 min in their min-max band, " \
                                                       "from the per-minute history"
    assert resolution.describe(7200.0, 1.0, "hour").startswith("means per 2 h")
    assert not math.isnan(resolution.most_points(0, band=True))


TIERS = (60.0, 600.0, 3600.0)  # the API's minute, ten-minute and hour tiers


@pytest.mark.parametrize("interval", [0.1, 0.2, 0.7, 1.0])
def test_the_api_answers_a_plan_with_exactly_its_buckets_from_the_tier_they_fit(interval: float) -> None:
    rng = random.Random(interval)
    tiers = [TierSpan("raw", interval, 0.0), *(TierSpan("minute", step, 0.0) for step in TIERS)]
    for _ in range(300):  # the API widens a bucket by a whole step if float rounding says so
        latest = round(rng.uniform(1.7e9, 1.8e9), 3)
        length = rng.uniform(1, 400)
        span = rng.choice([Span("5m"), Span("1h"), Span("6h"), Span("7d"), Span("30d"),
                           Span(None, latest - length, latest - length / 3)])
        plan = resolution.plan(span, latest, interval, 2)
        query = range_params(plan.start, plan.end, plan.points)
        start, end = float(query["start"]), float(query["end"])  # as the API parses them
        tier = choose_tier(tiers, start, end, query["points"])
        width = bucket_seconds(tier, start, end, query["points"])
        planned = (plan.end - plan.start) / plan.points
        assert width == pytest.approx(planned), (span, latest)
        assert Buckets.over(start, end, width).count == plan.points
        if planned >= 60:  # read from the coarsest tier that fits it, not a finer one
            assert tier.resolution_seconds == max(step for step in TIERS if planned % step == 0)
