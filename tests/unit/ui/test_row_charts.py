"""perfmon.ui.row_charts: a chart per group, a trace per row (and field), label-keyed."""

from __future__ import annotations

from perfmon.core.metrics import BY_NAME
from perfmon.ui.screen import row_charts
from perfmon.ui.screen.rows import rows_shown
from tests.unit.ui.rowsample import device, sample

DISK_IO = BY_NAME["disk_io"]


def test_a_trace_per_row_and_field_keyed_by_series_key_in_the_rows_colour() -> None:
    rows = rows_shown(DISK_IO, sample(devices=[device("sdb", 0, 0), device("sda", 3 * 2**20, 0)]))
    assert rows is not None
    keys = row_charts.trace_keys(DISK_IO, rows)
    assert keys == ["disk_io[device=sda].read_bytes_per_s", "disk_io[device=sda].write_bytes_per_s",
                    "disk_io[device=sdb].read_bytes_per_s", "disk_io[device=sdb].write_bytes_per_s"]
    columns = row_charts.sample_columns(DISK_IO, rows)
    figure = row_charts.figure(DISK_IO, rows, ["t1"], columns)
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["sda read", "sda write", "sdb read", "sdb write"]
    assert [t["line"]["color"] for t in figure["data"]] == [rows[0].color] * 2 + [rows[1].color] * 2
    assert [t["line"]["dash"] for t in figure["data"]] == ["solid", "dash"] * 2
    assert figure["data"][0]["x"] == ["t1"] and figure["data"][0]["y"] == [3 * 2**20]
    assert figure["layout"]["meta"] == {"unit": "MiB/s", "scale": 2**20}  # chosen from the largest value


def test_extend_appends_a_point_to_every_trace_with_its_own_times() -> None:
    rows = rows_shown(DISK_IO, sample(devices=[device("sda", 1.4, 2.6)]))
    assert rows is not None
    payload = row_charts.extend(DISK_IO, rows, ["t2"], row_charts.sample_columns(DISK_IO, rows), 300)
    assert payload == [{"x": [["t2"]], "y": [[1], [3]]}, [0, 1], 300]  # one x: the browser shares it


def test_a_chart_without_rows_or_points_has_no_made_up_axis() -> None:
    figure = row_charts.figure(BY_NAME["sensors"], [], [], {})
    assert figure["data"] == [] and figure["layout"]["xaxis"]["showticklabels"] is False
    assert figure["layout"]["yaxis"]["ticksuffix"] == " °C"
    # times but no row (a host without sensors, beside the fixed charts' points): no made-up dates either
    timed = row_charts.figure(BY_NAME["sensors"], [], ["2026-12-04 10:00:00"], {}, shared_x=True)
    assert timed["data"] == [] and timed["layout"]["xaxis"]["showticklabels"] is False


def test_history_columns_missing_for_a_row_are_nulls() -> None:
    rows = rows_shown(BY_NAME["disks"], sample())
    assert rows is not None
    figure = row_charts.figure(BY_NAME["disks"], rows, ["a", "b"], {})
    assert figure["data"][0]["y"] == [None, None]


def test_points_at_the_views_last_times_are_appended_without_their_own_times() -> None:
    rows = rows_shown(DISK_IO, sample(devices=[device("sda", 1.0, 2.0)]))
    columns = row_charts.sample_columns(DISK_IO, rows)
    own = row_charts.extend(DISK_IO, rows, ["t5"], columns, 300)
    shared = row_charts.extend(DISK_IO, rows, ["t5"], columns, 300, shared_x=True)
    assert own[0]["x"] == [["t5"]] and "x" not in shared[0] and shared[0]["y"] == own[0]["y"]
