"""Rate maths: counter deltas over real elapsed time, and what happens when counters misbehave."""

from __future__ import annotations

import pytest

from perfmon.core.rates import CounterRates


@pytest.fixture
def notes() -> list[str]:
    return []


def test_first_reading_has_no_rate(notes: list[str]) -> None:
    rates = CounterRates(2)
    assert rates.update({"a": (100, 200)}, 10.0, notes.append) == (None, None)
    assert rates.last == {}


def test_rate_is_delta_over_elapsed_time(notes: list[str]) -> None:
    rates = CounterRates(2)
    rates.update({"a": (100, 200), "b": (0, 0)}, 10.0, notes.append)
    total = rates.update({"a": (300, 260), "b": (50, 10)}, 12.0, notes.append)
    assert total == (125.0, 35.0)  # a: (200, 60)/2, b: (50, 10)/2
    assert rates.last["a"] == (100.0, 30.0)
    assert notes == []


def test_counter_that_goes_down_gives_no_rate_and_a_reason(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"eth0": (1_000_000,)}, 1.0, notes.append)
    assert rates.update({"eth0": (10,)}, 2.0, notes.append) == (None,)
    assert "went backwards" in notes[0] and "eth0" in notes[0]
    # the next interval measures again from the new baseline
    assert rates.update({"eth0": (110,)}, 3.0, notes.append) == (100.0,)


def test_new_device_is_counted_from_its_second_reading(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"sda": (0,)}, 0.0, notes.append)
    # sdb appears with a huge counter since boot: that is not traffic of this interval
    assert rates.update({"sda": (10,), "sdb": (10**12,)}, 1.0, notes.append) == (10.0,)
    assert rates.update({"sda": (20,), "sdb": (10**12 + 5,)}, 2.0, notes.append) == (15.0,)


def test_new_device_does_not_hide_the_devices_after_it(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"sdb": (0,)}, 0.0, notes.append)
    assert rates.update({"sda": (10**12,), "sdb": (10,)}, 1.0, notes.append) == (10.0,)
    assert rates.last == {"sdb": (10.0,)}


def test_counter_that_stands_still_is_a_zero_rate(notes: list[str]) -> None:
    rates = CounterRates(2)
    rates.update({"a": (5, 5)}, 0.0, notes.append)
    assert rates.update({"a": (5, 9)}, 2.0, notes.append) == (0.0, 2.0)
    assert notes == []


def test_reset_of_one_counted_device_gives_no_total(notes: list[str]) -> None:
    """A total without that device's traffic would understate the rate: it is unknown instead."""
    rates = CounterRates(1)
    rates.update({"sda": (100,), "sdb": (100,)}, 0.0, notes.append)
    assert rates.update({"sda": (0,), "sdb": (150,)}, 1.0, notes.append) == (None,)
    assert rates.last == {"sdb": (50.0,)}


@pytest.mark.parametrize(("before", "after"), [
    ({"a": (1, 2)}, {"a": (3,)}),  # one device's counters change width
    ({"a": (1,), "b": (1, 2)}, {"a": (2,), "b": (2, 3)}),  # devices of different widths
])
def test_counters_of_mismatched_widths_are_refused_not_cut(
    notes: list[str], before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]]
) -> None:
    rates = CounterRates(1)
    rates.update(before, 0.0, notes.append)
    with pytest.raises(ValueError, match="zip"):
        rates.update(after, 1.0, notes.append)


def test_disappearing_device_never_gives_a_negative_total(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"sda": (100,), "usb": (10**9,)}, 0.0, notes.append)
    assert rates.update({"sda": (150,)}, 1.0, notes.append) == (50.0,)


def test_excluded_devices_have_rates_but_stay_out_of_the_total(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"lo": (0,), "eth0": (0,)}, 0.0, notes.append)
    total = rates.update({"lo": (1000,), "eth0": (10,)}, 1.0, notes.append, exclude_from_total={"lo"})
    assert total == (10.0,)
    assert rates.last["lo"] == (1000.0,)


def test_reset_of_an_excluded_device_keeps_the_total(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"lo": (1000,), "eth0": (0,)}, 0.0, notes.append)
    total = rates.update({"lo": (0,), "eth0": (10,)}, 1.0, notes.append, exclude_from_total={"lo"})
    assert total == (10.0,)


def test_clock_that_does_not_advance_gives_no_rate(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({"a": (1,)}, 5.0, notes.append)
    assert rates.update({"a": (2,)}, 5.0, notes.append) == (None,)
    assert notes == ["the clock did not advance between readings: rates skipped"]


def test_no_device_at_all_is_unknown_not_zero(notes: list[str]) -> None:
    rates = CounterRates(1)
    rates.update({}, 0.0, notes.append)
    assert rates.update({}, 1.0, notes.append) == (None,)
    assert notes == ["no device to measure"]
