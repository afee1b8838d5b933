"""Durations and thresholds in the unit of the field a rule selects."""

from __future__ import annotations

import pytest

from perfmon.alerts.quantities import QuantityError, duration, threshold


@pytest.mark.parametrize(("text", "seconds"), [
    ("10m", 600), ("1h30m", 5400), ("45s", 45), ("500ms", 0.5), ("1.5h", 5400), ("2d", 172800),
    ("1w", 604800), ("1h 30m", 5400), (30, 30), (0, 0), (2.5, 2.5),
])
def test_durations_read_as_prometheus_writes_them(text: object, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10 minutes", "-5s", "", "5", "m", "10x", True, None, [1], -1,
                                  float("nan")])
def test_a_duration_that_is_not_one_is_refused_saying_what_would_be(text: object) -> None:
    with pytest.raises(QuantityError, match=r"^for must be (like 30s, 10m|0 or more seconds)"):
        duration(text, "for")


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (90, "percent", 90), ("90%", "percent", 90), ("90 %", "percent", 90), (" 2.5 ", "load", 2.5),
    ("512 MiB", "bytes", 512 * 2**20), ("2GB", "bytes", 2e9), ("1kB", "bytes", 1000), ("3 B", "bytes", 3),
    ("50 MB/s", "bytes_per_s", 50e6), ("1 GiB/s", "bytes_per_s", 2**30), ("80 °C", "celsius", 80),
    ("80C", "celsius", 80), ("2m", "seconds", 120), ("500ms", "seconds", 0.5), ("3.2 GHz", "mhz", 3200),
    ("100/s", "ops_per_s", 100), ("-5", "celsius", -5), ("1e3", "count", 1000),
])
def test_thresholds_take_a_plain_number_or_a_unit_that_fits_the_field(value: object, unit: str,
                                                                       expected: float) -> None:
    assert threshold(value, unit) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "unit", "words"), [
    ("2 GB", "percent", "'GB' is no unit for a field in percent (in percent, or with a unit: %)"),
    ("90%", "bytes", "'%' is no unit for a field in bytes"),
    ("50 MB", "bytes_per_s", "'MB' is no unit"),
    ("5 parsecs", "bytes", "KiB, MiB"),
    ("3 things", "count", "no unit for a field in count (in count)"),
    ("abc", "percent", "must be a number"),
    ("1e999", "percent", "finite"),
    (True, "percent", "must be a number"),
    (None, "percent", "must be a number"),
])
def test_a_threshold_in_a_unit_that_does_not_fit_is_refused_naming_the_units_that_would(
        value: object, unit: str, words: str) -> None:
    with pytest.raises(QuantityError, match="above") as raised:
        threshold(value, unit, "above")
    assert words in str(raised.value)
