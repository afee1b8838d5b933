"""The series ``/api/history?series=`` picks and its answer's columns (perfmon.api.endpoints.selection)."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import MultiDict

from perfmon.api.edge.errors import ApiError
from perfmon.api.endpoints.selection import (
    MAX_SELECTORS,
    MAX_SERIES,
    describe,
    keys_of,
    range_columns,
    read_selectors,
    split,
    tail_columns,
)
from perfmon.core.metrics import Selector, SeriesKey
from perfmon.core.schema import HISTORY_COLUMNS
from perfmon.store.base import RangeResult
from perfmon.store.series import Record

ROOT = SeriesKey("disks", "percent", (("mountpoint", "/"),))
BOOT = SeriesKey("disks", "percent", (("mountpoint", "/boot"),))


def refusal(read: object) -> str:
    """The message of the 400 that ``read`` (a call) raises."""
    with pytest.raises(ApiError) as raised:
        read()  # type: ignore[operator]
    assert raised.value.status == 400
    return raised.value.message


def selectors(*texts: str) -> tuple[Selector, ...]:
    """The selectors of a query with one ``series=`` per text."""
    return read_selectors(MultiDict(("series", text) for text in texts))


def row(seq: int, cores: Any = None, memory: float | None = None) -> tuple[Any, ...]:
    """A history row: ``seq``, timestamp ``100 + seq``, the given per-CPU list and memory percent."""
    values: dict[str, Any] = {"seq": seq, "timestamp": 100.0 + seq, "per_cpu_percent": cores,
                              "memory_percent": memory}
    return tuple(values.get(name) for name in HISTORY_COLUMNS)


def test_split_cuts_at_commas_outside_brackets_and_quotes() -> None:
    assert split("") == [""]
    assert split("a,b") == ["a", "b"]
    assert split("a,,b,") == ["a", "", "b", ""]
    assert split("disks[mountpoint=/,x=1].percent,memory") == ["disks[mountpoint=/,x=1].percent", "memory"]
    assert split('d[m="a,b"],c') == ['d[m="a,b"]', "c"]
    assert split(r'd[m="a\",b"],c') == [r'd[m="a\",b"]', "c"]  # an escaped quote does not end the value
    assert split(r'"a\\",b') == [r'"a\\"', "b"]  # an escaped backslash does not escape the quote
    assert split('"a,b",c,"d') == ['"a,b"', "c", '"d']
    assert split('"",a') == ['""', "a"]  # an empty value: its closing quote is not escaped
    assert split("a[[x]],b") == ["a[[x]]", "b"]
    assert split("a[[x],b]") == ["a[[x],b]"]  # still inside the outer bracket
    assert split("a]],b,c[") == ["a]]", "b", "c["]  # a stray ']' does not make the depth negative


def test_selectors_come_repeated_or_as_a_list_in_order() -> None:
    assert selectors() == ()
    assert read_selectors(MultiDict({"other": "memory"})) == ()
    assert selectors("memory.percent,disks[mountpoint=/]", "cpu") == (
        Selector.parse("memory.percent"), Selector.parse("disks[mountpoint=/]"), Selector.parse("cpu"))


def test_a_bad_selector_is_a_400_naming_series_and_saying_why() -> None:
    assert refusal(lambda: selectors("memory.bogus")) == (
        "parameter 'series': memory has no field 'bogus' (kept in history: percent)")
    assert refusal(lambda: selectors("memory", "memory.percent,")) == (
        "parameter 'series': expected a group name (lower-case letters, digits, _) at character 1 of ''")
    assert refusal(lambda: selectors("nope")).startswith("parameter 'series': no metric group 'nope'")


def test_at_most_fifty_selectors_in_one_request() -> None:
    assert len(selectors(",".join(["memory"] * MAX_SELECTORS))) == MAX_SELECTORS == 50
    assert len(selectors(*["memory"] * MAX_SELECTORS)) == 50
    message = "parameter 'series': at most 50 selectors in one request"
    assert refusal(lambda: selectors(",".join(["memory"] * 51))) == message
    assert refusal(lambda: selectors(*["memory"] * 50, "memory")) == message


def test_describe_gives_a_series_key_group_field_labels_unit_and_kind() -> None:
    assert describe(ROOT) == {"key": "disks[mountpoint=/].percent", "group": "disks", "field": "percent",
                              "labels": {"mountpoint": "/"}, "unit": "percent", "kind": "gauge"}
    assert describe(SeriesKey("disk_io", "read_bytes_per_s")) == {
        "key": "disk_io.read_bytes_per_s", "group": "disk_io", "field": "read_bytes_per_s", "labels": {},
        "unit": "bytes_per_s", "kind": "rate"}
    assert describe(SeriesKey("foo", "bar")) == {"key": "foo.bar", "group": "foo", "field": "bar",
                                                 "labels": {}, "unit": None, "kind": None}
    assert keys_of([ROOT, SeriesKey("foo", "bar")]) == [describe(ROOT), describe(SeriesKey("foo", "bar"))]
    assert keys_of([]) == []


def test_tail_columns_give_seq_timestamp_and_each_picked_series() -> None:
    layout = (ROOT, BOOT)
    rows = [Record(row(1, [1.0, 2.0], 50.0), (layout, (10.0, 20.0))),
            Record(row(2, [3.0], 51.0), (layout, (11.0, None))),
            Record(row(3, None, 52.0), ((BOOT,), (30.0,)))]
    picked, columns = tail_columns(rows, selectors("disks", "memory.percent", "cpu[cpu=~.*].percent"))
    assert [str(k) for k in picked] == ["disks[mountpoint=/].percent", "disks[mountpoint=/boot].percent",
                                        "memory.percent", "cpu[cpu=0].percent", "cpu[cpu=1].percent"]
    assert columns == {"seq": [1, 2, 3], "timestamp": [101.0, 102.0, 103.0],
                       "disks[mountpoint=/].percent": [10.0, 11.0, None],
                       "disks[mountpoint=/boot].percent": [20.0, None, 30.0],
                       "memory.percent": [50.0, 51.0, 52.0],
                       "cpu[cpu=0].percent": [1.0, 3.0, None], "cpu[cpu=1].percent": [2.0, None, None]}


def test_tail_columns_of_plain_rows_have_only_todays_series() -> None:
    picked, columns = tail_columns([row(1, [5.0]), row(2, [6.0])], selectors("cpu.percent", "disks"))
    assert picked == [SeriesKey("cpu", "percent"), SeriesKey("cpu", "percent", (("cpu", "0"),))]
    assert columns == {"seq": [1, 2], "timestamp": [101.0, 102.0], "cpu.percent": [None, None],
                       "cpu[cpu=0].percent": [5.0, 6.0]}
    assert tail_columns([], selectors("memory")) == ([SeriesKey("memory", "percent")],
                                                     {"seq": [], "timestamp": [], "memory.percent": []})


def test_at_most_five_hundred_series_in_one_answer() -> None:
    assert MAX_SERIES == 500
    picked, _ = tail_columns([row(1, [0.0] * 498)], selectors("cpu"))  # cpu.percent, cpu.load_1, 498 CPUs
    assert len(picked) == 500
    assert refusal(lambda: tail_columns([row(1, [0.0] * 499)], selectors("cpu"))) == (
        "parameter 'series': the selectors match 501 series, at most 500 in one request: pick fewer")


def range_result(extra: dict[SeriesKey, Any]) -> RangeResult:
    """Two buckets: memory 40 then nothing, two CPUs in the first, one in the second."""
    series: dict[str, list[Any]] = {
        "timestamp": [0.0, 60.0], "memory_percent": [40.0, None], "memory_percent_min": [30.0, None],
        "memory_percent_max": [45.0, None], "per_cpu_percent": [[1.0, 2.0], [3.0]]}
    return RangeResult(0.0, 120.0, "minute", 60.0, series, extra)


def test_range_columns_give_each_series_mean_min_and_max() -> None:
    result = range_result({ROOT: ([10.0, 11.0], [9.0, 10.0], [12.0, 13.0])})
    picked, columns = range_columns(result, selectors("memory", "disks", "cpu[cpu=1]"))
    assert picked == [SeriesKey("memory", "percent"), ROOT, SeriesKey("cpu", "percent", (("cpu", "1"),))]
    assert columns == {"timestamp": [0.0, 60.0],
                       "memory.percent": [40.0, None], "memory.percent_min": [30.0, None],
                       "memory.percent_max": [45.0, None],
                       "disks[mountpoint=/].percent": [10.0, 11.0],
                       "disks[mountpoint=/].percent_min": [9.0, 10.0],
                       "disks[mountpoint=/].percent_max": [12.0, 13.0],
                       "cpu[cpu=1].percent": [2.0, None], "cpu[cpu=1].percent_min": [None, None],
                       "cpu[cpu=1].percent_max": [None, None]}


def test_range_columns_without_per_cpu_series_have_no_cpu_rows() -> None:
    series = {"timestamp": [0.0], "memory_percent": [1.0], "memory_percent_min": [1.0],
              "memory_percent_max": [1.0]}
    result = RangeResult(0.0, 60.0, "raw", 60.0, series)
    assert range_columns(result, selectors("cpu[cpu=~.*]", "disks")) == ([], {"timestamp": [0.0]})
