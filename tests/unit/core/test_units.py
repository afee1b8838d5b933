"""Numbers for people (perfmon/core/units.py): units, rounding, durations, thresholds; None is n/a."""

from __future__ import annotations

import time

import pytest

from perfmon.core import units as humanize


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"),
    (10 * 2**20, "10.0 MiB"), (99.5 * 2**20, "99.5 MiB"), (100 * 2**20, "100 MiB"),
    (123.4 * 2**30, "123 GiB"), (2**50, "1.00 PiB"), (2**70, "1024 EiB"),
    # the unit and the decimals follow the rounded value
    (1023.6, "1.00 KiB"), (9.996 * 1024, "10.0 KiB"), (99.96 * 1024, "100 KiB"),
    (1023.6 * 1024, "1.00 MiB"), (-1536, "-1.50 KiB"),
])
def test_sizes_in_binary_units_with_three_figures(value: float, text: str) -> None:
    assert humanize.size(value) == text


def test_rates_percent_and_missing_values() -> None:
    assert humanize.rate(1_258_291.2) == "1.20 MiB/s"
    assert humanize.percent(12.345) == "12.3 %"
    for format_ in (humanize.size, humanize.rate, humanize.percent, humanize.duration, humanize.clock):
        assert format_(None) == "n/a"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (45.9, "45 s"), (60, "1 min"), (12 * 60 + 59, "12 min"), (4 * 3600 + 12 * 60, "4 h 12 min"),
    (86400 - 1, "23 h 59 min"), (86400, "1 d 0 h"), (3 * 86400 + 4 * 3600 + 59, "3 d 4 h"), (-5, "0 s"),
])
def test_durations_in_their_two_largest_units(seconds: float, text: str) -> None:
    assert humanize.duration(seconds) == text


def test_chart_times_are_local_and_round_correctly() -> None:
    ts = time.mktime((2026, 11, 25, 21, 43, 12, 0, 0, -1))
    assert humanize.chart_time(ts) == "2026-11-25 21:43:12"
    assert humanize.chart_time(ts + 0.6) == "2026-11-25 21:43:13"
    assert humanize.chart_time(ts + 0.25, with_ms=True) == "2026-11-25 21:43:12.250"
    assert humanize.chart_time(ts + 0.9996, with_ms=True) == "2026-11-25 21:43:13.000"
    assert humanize.clock(ts) == "21:43:12"


@pytest.mark.parametrize(("value", "level"), [
    (None, "na"), (0, "ok"), (79.9, "ok"), (80, "warn"), (94.9, "warn"), (95, "crit"), (150, "crit"),
])
def test_levels_are_inclusive_thresholds(value: float | None, level: str) -> None:
    assert humanize.level(value, 80, 95) == level


@pytest.mark.parametrize(("unit", "value", "text"), [
    ("percent", 12.345, "12.3 %"), ("bytes", 1536, "1.50 KiB"), ("bytes_per_s", 1536, "1.50 KiB/s"),
    ("load", 0.5, "0.50"), ("seconds", 75, "1 min"), ("count", 65, "65"), ("mhz", 2600.0, "2600.0"),
    ("percent", None, "n/a"), ("load", None, "n/a"), ("count", None, "n/a"),
    ("celsius", 45.04, "45.0 °C"), ("celsius", None, "n/a"), ("ops_per_s", 12.4, "12 ops/s"),
])
def test_values_are_shown_in_their_schema_unit(unit: str, value: float | None, text: str) -> None:
    assert humanize.show(unit, value) == text
