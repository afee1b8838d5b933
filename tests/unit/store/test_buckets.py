"""Time buckets (perfmon/store/buckets.py): which tier answers a range, and min/mean/max per bucket."""

from __future__ import annotations

from typing import Any

from perfmon.core.metrics import SeriesKey
from perfmon.core.schema import HISTORY_COLUMNS
from perfmon.store.buckets import (
    VALUE_COLUMNS,
    Buckets,
    TierSpan,
    bucket_seconds,
    choose_tier,
    fold_series,
    from_rows,
    reaches_further_back,
)
from perfmon.store.series import Record

ROOT = SeriesKey("disks", "percent", (("mountpoint", "/"),))
BOOT = SeriesKey("disks", "percent", (("mountpoint", "/boot"),))


def tiers(raw: float | None = 0.0, minute: float | None = 0.0, ten: float | None = 0.0,
          hour: float | None = 0.0) -> list[TierSpan]:
    """The four tiers, finest first, with the given oldest points."""
    return [TierSpan("raw", 1.0, raw), TierSpan("minute", 60.0, minute),
            TierSpan("ten_minute", 600.0, ten), TierSpan("hour", 3600.0, hour)]


def row(timestamp: float, cpu: float | None = None, cores: Any = None, memory: float | None = None) -> Any:
    """A history row with the given time, CPU percent, per-CPU list and memory percent."""
    values = {"seq": int(timestamp), "timestamp": timestamp, "cpu_percent": cpu, "per_cpu_percent": cores,
              "memory_percent": memory}
    return tuple(values.get(name) for name in HISTORY_COLUMNS)


def test_the_coarsest_tier_with_enough_points_answers() -> None:
    assert choose_tier(tiers(), 0.0, 3600.0, 60).name == "minute"  # exactly 60 minutes: enough
    assert choose_tier(tiers(), 0.0, 3600.0, 61).name == "raw"
    assert choose_tier(tiers(), 0.0, 3600.0, 6).name == "ten_minute"
    assert choose_tier(tiers(), 0.0, 36000.0, 10).name == "hour"
    assert choose_tier(tiers(), 0.0, 10.0, 1000).name == "raw"  # none has enough: the finest


def test_a_trimmed_fine_tier_gives_way_to_a_coarser_one_reaching_further_back() -> None:
    assert choose_tier(tiers(raw=1000.0), 0.0, 3600.0, 300).name == "minute"
    assert choose_tier(tiers(raw=1000.0, minute=900.0), 0.0, 3600.0, 300).name == "ten_minute"
    assert choose_tier(tiers(raw=1000.0, minute=900.0, ten=None), 0.0, 3600.0, 300).name == "minute"
    assert choose_tier(tiers(raw=None), 0.0, 3600.0, 300).name == "minute"  # an empty fine tier gives way
    assert choose_tier(tiers(raw=None, minute=None, ten=None, hour=None), 0.0, 3600.0, 300).name == "raw"
    assert choose_tier(tiers(raw=0.0), 0.0, 3600.0, 300).name == "raw"  # not trimmed after start
    assert choose_tier(tiers(ten=10000.0), 0.0, 36000.0, 11).name == "hour"  # the last tier too


def test_a_coarser_tier_reaches_further_back_only_with_a_whole_period_before() -> None:
    raw, minute = TierSpan("raw", 1.0, 1000.0), TierSpan("minute", 60.0, 940.0)
    assert reaches_further_back(raw, minute, 0.0)
    assert not reaches_further_back(raw, TierSpan("minute", 60.0, 940.5), 0.0)  # no whole minute before
    assert not reaches_further_back(raw, minute, 1000.0)  # the range starts at the fine tier's oldest
    assert reaches_further_back(raw, minute, 999.5)
    assert not reaches_further_back(raw, TierSpan("minute", 60.0, None), 0.0)
    assert reaches_further_back(TierSpan("raw", 1.0, None), minute, 0.0)
    assert not reaches_further_back(TierSpan("raw", 1.0, None), TierSpan("minute", 60.0, None), 0.0)


def test_a_bucket_is_a_whole_number_of_steps() -> None:
    raw, minute = TierSpan("raw", 1.0, 0.0), TierSpan("minute", 60.0, 0.0)
    assert bucket_seconds(raw, 0.0, 3600.0, 60) == 60.0
    assert bucket_seconds(raw, 0.0, 3600.0, 7) == 515.0  # 514.3 rounded up: at most 7 buckets
    assert bucket_seconds(raw, 0.1, 3600.1, 60) == 60.0  # float rounding adds no step
    assert bucket_seconds(raw, 0.0, 10.0, 300) == 1.0  # never less than one step
    assert bucket_seconds(minute, 0.0, 3600.0, 300) == 60.0
    assert bucket_seconds(minute, 0.0, 36000.0, 3) == 12000.0


def test_buckets_cover_the_range_empty() -> None:
    buckets = Buckets.over(0.0, 120.0, 60.0)
    assert (buckets.start, buckets.width, buckets.count) == (0.0, 60.0, 2)
    assert Buckets.over(0.0, 120.5, 60.0).count == 3
    assert Buckets.over(0.1, 120.1, 60.0).count == 2
    assert Buckets.over(5.0, 5.0, 60.0).count == 1
    assert set(buckets.mins) == set(buckets.maxs) == set(buckets.sums) == set(buckets.counts) == set(
        VALUE_COLUMNS)
    assert "seq" not in VALUE_COLUMNS and "timestamp" not in VALUE_COLUMNS
    assert "per_cpu_percent" not in VALUE_COLUMNS and "cpu_percent" in VALUE_COLUMNS
    assert buckets.mins["cpu_percent"] == [None, None] and buckets.maxs["cpu_percent"] == [None, None]
    assert buckets.sums["cpu_percent"] == [0.0, 0.0] and buckets.counts["cpu_percent"] == [0, 0]
    assert buckets.cores == [None, None] and buckets.core_weights == [0.0, 0.0]
    assert buckets.extra == {}


def test_a_time_falls_into_one_bucket_or_none() -> None:
    buckets = Buckets.over(100.0, 220.0, 60.0)
    assert buckets.index(100.0) == 0 and buckets.index(159.999) == 0 and buckets.index(160.0) == 1
    assert buckets.index(219.999) == 1
    assert buckets.index(220.0) is None and buckets.index(99.999) is None


def test_values_fold_into_min_mean_and_max() -> None:
    buckets = Buckets.over(0.0, 120.0, 60.0)
    buckets.add(0, "cpu_percent", 5.0, 9.0, 14.0, 2)
    buckets.add(0, "cpu_percent", 1.0, 20.0, 21.0, 2)  # outside: both move
    buckets.add(0, "cpu_percent", 6.0, 8.0, 7.0, 1)  # inside: min and max stay
    buckets.add(0, "cpu_percent", 1.0, 20.0, 100.0, 0)  # no values: nothing
    buckets.add(0, "cpu_percent", None, 20.0, 100.0, 3)
    buckets.add(0, "cpu_percent", 1.0, None, 100.0, 3)
    buckets.add_value(1, "cpu_percent", None)
    buckets.add_value(1, "memory_percent", 2.5)
    assert buckets.mins["cpu_percent"] == [1.0, None] and buckets.maxs["cpu_percent"] == [20.0, None]
    assert buckets.sums["cpu_percent"] == [42.0, 0.0] and buckets.counts["cpu_percent"] == [5, 0]
    assert buckets.mins["memory_percent"] == [None, 2.5] and buckets.counts["memory_percent"] == [0, 1]
    series = buckets.result("minute", 120.0).series
    assert series["cpu_percent"] == [8.4, None] and series["cpu_percent_min"] == [1.0, None]
    assert series["cpu_percent_max"] == [20.0, None] and series["memory_percent"] == [None, 2.5]


def test_equal_values_keep_the_first_and_a_mean_is_rounded_to_three_digits() -> None:
    buckets = Buckets.over(0.0, 60.0, 60.0)
    buckets.add(0, "load_1", 2.0, 2.0, 2.0, 1)
    buckets.add(0, "load_1", 2.0, 2.0, 2.0, 1)
    buckets.add(0, "swap_percent", 1.0, 1.0, 1.0, 1)
    buckets.add(0, "swap_percent", 1.0, 1.0, 1.0, 1)
    buckets.add(0, "swap_percent", 0.0, 0.0, 0.0, 1)
    series = buckets.result("raw", 60.0).series
    assert series["load_1"] == [2.0] and series["load_1_min"] == [2.0] and series["load_1_max"] == [2.0]
    assert series["swap_percent"] == [0.667]


def test_per_cpu_readings_are_averaged_by_weight() -> None:
    buckets = Buckets.over(0.0, 180.0, 60.0)
    buckets.add_cores(0, [10.0, 20.0])
    buckets.add_cores(0, [20.0, 40.0], weight=3.0)
    buckets.add_cores(0, [1.0, None])  # a CPU missing: left out
    buckets.add_cores(0, [])
    buckets.add_cores(0, None)
    buckets.add_cores(1, [1.0, 2.0, 3.0])
    buckets.add_cores(1, [50.0, 50.0])  # the CPU count changed: the first one is as well supported
    buckets.add_cores(2, [1.0])
    buckets.add_cores(2, [4.0, 8.0], weight=2.0)  # better supported: replaces
    assert buckets.cores == [[70.0, 140.0], [1.0, 2.0, 3.0], [8.0, 16.0]]
    assert buckets.core_weights == [4.0, 1.0, 2.0]
    assert buckets.result("raw", 180.0).series["per_cpu_percent"] == [[17.5, 35.0], [1.0, 2.0, 3.0],
                                                                     [4.0, 8.0]]
    rounded = Buckets.over(0.0, 60.0, 60.0)
    rounded.add_cores(0, [1.0])
    rounded.add_cores(0, [1.0])
    rounded.add_cores(0, [0.0])
    assert rounded.result("raw", 60.0).series["per_cpu_percent"] == [[0.7]]


def test_a_changed_cpu_count_with_less_support_is_left_out() -> None:
    buckets = Buckets.over(0.0, 60.0, 60.0)
    buckets.add_cores(0, [1.0, 2.0], weight=2.0)
    buckets.add_cores(0, [9.0], weight=1.5)
    buckets.add_cores(0, [9.0], weight=2.0)  # equal support: the first stays
    assert buckets.cores == [[2.0, 4.0]] and buckets.core_weights == [2.0]


def test_the_result_has_each_bucket_start_and_the_range() -> None:
    result = Buckets.over(1 / 3, 3.0, 1.0).result("hour", 3.5)
    assert (result.start, result.end, result.tier, result.resolution_seconds) == (1 / 3, 3.5, "hour", 1.0)
    assert result.series["timestamp"] == [0.333, 1.333, 2.333]  # rounded to the millisecond
    assert result.series["per_cpu_percent"] == [None, None, None] and result.extra == {}
    assert set(result.series) == {"timestamp", "per_cpu_percent", *VALUE_COLUMNS,
                                  *(f"{c}_min" for c in VALUE_COLUMNS), *(f"{c}_max" for c in VALUE_COLUMNS)}


def test_other_series_fold_by_key_and_one_without_values_is_left_out() -> None:
    buckets = Buckets.over(0.0, 120.0, 60.0)
    buckets.want([ROOT, BOOT])
    buckets.add_series(0, ROOT, 5.0, 7.0, 12.0, 2)
    buckets.want([ROOT])  # asking again keeps what was folded
    buckets.add_series(0, ROOT, 6.0, 6.5, 6.5, 1)  # inside
    buckets.add_series(1, ROOT, 3.0, 3.0, 3.0, 1)
    buckets.add_series(1, ROOT, 1.0, 4.0, 5.0, 2)  # outside
    buckets.add_series(1, ROOT, 1.0, 1.0, 0.0, 1)
    assert buckets.extra[ROOT] == ([5.0, 1.0], [7.0, 4.0], [18.5, 8.0], [3, 4])
    assert buckets.result("minute", 120.0).extra == {ROOT: ([6.167, 2.0], [5.0, 1.0], [7.0, 4.0])}


def test_fold_series_takes_the_wanted_series_of_rows_in_range() -> None:
    buckets = Buckets.over(0.0, 120.0, 60.0)
    buckets.want([BOOT])
    layout, other = (ROOT, BOOT), (BOOT,)
    fold_series(buckets, [row(3.0), Record(row(120.0), (other, (99.0,))), Record(row(-1.0), (other, (9.0,))),
                          Record(row(1.0), (layout, (1.0, 10.0))), Record(row(2.0), (layout, (2.0, 20.0))),
                          Record(row(61.0), (other, (None,))), Record(row(62.0), (other, (40.0,)))])
    assert list(buckets.extra) == [BOOT]
    assert buckets.extra[BOOT] == ([10.0, 40.0], [20.0, 40.0], [30.0, 40.0], [2, 1])
    nothing = Buckets.over(0.0, 120.0, 60.0)
    fold_series(nothing, [Record(row(1.0), (layout, (1.0, 10.0)))])
    assert nothing.extra == {}


def test_raw_rows_make_buckets() -> None:
    rows = [row(0.0, cpu=10.0, cores=[10.0, 30.0], memory=50.0), row(120.0, cpu=99.0), row(-0.5, cpu=99.0),
            row(30.0, cpu=20.0, cores=[20.0, 40.0]),
            Record(row(61.0, cpu=None, memory=60.0), ((ROOT,), (5.0,)))]
    result = from_rows(iter(rows), 0.0, 120.0, 60.0, wanted=[ROOT, BOOT])
    assert result.tier == "raw" and result.resolution_seconds == 60.0 and result.end == 120.0
    assert result.series["timestamp"] == [0.0, 60.0]
    assert result.series["cpu_percent"] == [15.0, None] and result.series["cpu_percent_min"] == [10.0, None]
    assert result.series["cpu_percent_max"] == [20.0, None]
    assert result.series["memory_percent"] == [50.0, 60.0]
    assert result.series["per_cpu_percent"] == [[15.0, 35.0], None]
    assert result.extra == {ROOT: ([None, 5.0], [None, 5.0], [None, 5.0])}
    assert from_rows([], 0.0, 60.0, 60.0, "hour").tier == "hour"
