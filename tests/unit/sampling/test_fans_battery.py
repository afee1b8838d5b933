"""Fans and the battery over the fake psutil: present, absent (no error), unsupported (null with the
reason), in the sample, its schema, ``/metrics`` and the built-in ``BatteryLow`` rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psutil
from jsonschema import Draft202012Validator

from perfmon.alerts.engine import Engine
from perfmon.alerts.rules import builtin_rules
from perfmon.api.endpoints.metrics.prometheus import render
from perfmon.api.endpoints.openapi_schemas import sample_schema
from perfmon.sampling import collectors as c
from tests.support.fakes import Battery, FakePsutil, Fan

T0 = 1_800_000_000.0


def with_power(ps: FakePsutil) -> FakePsutil:
    ps.fans = {"thinkpad": [Fan("fan1", 2400), Fan("", 0)], "dell_smm": [Fan("Processor Fan", 1800)]}
    ps.battery = Battery(8.25, 5400, False)
    return ps


def test_fans_are_one_row_per_fan_named_by_chip_and_label(fake_ps: FakePsutil) -> None:
    notes: list[str] = []
    assert c.FansCollector(with_power(fake_ps)).collect(notes.append) == [
        {"chip": "dell_smm", "fan": "Processor Fan", "current_rpm": 1800},
        {"chip": "thinkpad", "fan": "fan1", "current_rpm": 2400},
        {"chip": "thinkpad", "fan": "1", "current_rpm": 0},  # no label: its place on the chip
    ]
    assert notes == []


def test_a_host_without_fans_has_none_and_no_error(fake_ps: FakePsutil) -> None:
    notes: list[str] = []
    assert c.FansCollector(fake_ps).collect(notes.append) == [] and notes == []


def test_the_battery_is_its_charge_time_left_and_mains_power(fake_ps: FakePsutil) -> None:
    notes: list[str] = []
    assert c.BatteryCollector(with_power(fake_ps)).collect(notes.append) == {
        "percent": 8.2, "time_left_seconds": 5400, "power_plugged": False}
    fake_ps.battery = Battery(100.0, psutil.POWER_TIME_UNLIMITED, True)  # on mains: no time, no error
    assert c.BatteryCollector(fake_ps).collect(notes.append) == {
        "percent": 100.0, "time_left_seconds": None, "power_plugged": True}
    assert notes == []


def test_a_time_psutil_cannot_tell_is_null_with_the_reason(fake_ps: FakePsutil) -> None:
    notes: list[str] = []
    fake_ps.battery = Battery(50.0, psutil.POWER_TIME_UNKNOWN, None)
    assert c.BatteryCollector(fake_ps).collect(notes.append) == {
        "percent": 50.0, "time_left_seconds": None, "power_plugged": None}
    assert notes == ["time left: the battery does not say (psutil: POWER_TIME_UNKNOWN)",
                     "power plugged: the battery does not say"]


def test_a_host_without_a_battery_has_none_and_no_error(fake_ps: FakePsutil) -> None:
    notes: list[str] = []
    assert c.BatteryCollector(fake_ps).collect(notes.append) is None and notes == []


def test_a_platform_without_the_readings_is_null_with_the_reason() -> None:
    class Bare:
        POWER_TIME_UNLIMITED = psutil.POWER_TIME_UNLIMITED

    notes: list[str] = []
    assert c.FansCollector(Bare()).collect(notes.append) is None  # type: ignore[arg-type]
    assert c.BatteryCollector(Bare()).collect(notes.append) is None  # type: ignore[arg-type]
    assert notes == ["fans are not supported on this platform (psutil has no sensors_fans)",
                     "batteries are not supported on this platform (psutil has no sensors_battery)"]


def sampled(make_monitor: Callable[..., Any]) -> dict[str, Any]:
    snapshot, _ = make_monitor().sampler.collect()
    data: dict[str, Any] = json.loads(snapshot.body)
    return data


def test_the_sample_has_them_and_validates_against_the_schema(make_monitor: Callable[..., Any],
                                                            fake_ps: FakePsutil) -> None:
    bare = sampled(make_monitor)
    assert bare["fans"] == [] and bare["errors"] == []
    assert bare["battery"] == {"percent": None, "time_left_seconds": None, "power_plugged": None}
    Draft202012Validator(sample_schema()).validate(bare)
    with_power(fake_ps)
    data = sampled(make_monitor)
    assert data["battery"] == {"percent": 8.2, "time_left_seconds": 5400, "power_plugged": False}
    assert [f["current_rpm"] for f in data["fans"]] == [1800, 2400, 0]
    Draft202012Validator(sample_schema()).validate(data)
    data["battery"]["power_plugged"] = "no"
    assert not Draft202012Validator(sample_schema()).is_valid(data)


def test_metrics_have_the_fan_and_battery_families(make_monitor: Callable[..., Any],
                                                   fake_ps: FakePsutil) -> None:
    bare = render(sampled(make_monitor), openmetrics_format=False).decode().splitlines()
    assert not [line for line in bare if line.startswith(("perfmon_fan_", "perfmon_battery_"))]
    with_power(fake_ps)
    text = render(sampled(make_monitor), openmetrics_format=False).decode()
    assert 'perfmon_fan_speed_rpm{chip="thinkpad",fan="fan1"} 2400.0' in text
    assert 'perfmon_fan_speed_rpm{chip="dell_smm",fan="Processor Fan"} 1800.0' in text
    assert "perfmon_battery_charge_ratio 0.0819" in text  # 8.2 % as a 0-1 ratio
    assert "perfmon_battery_time_left_seconds 5400.0" in text
    assert "perfmon_battery_plugged 0.0" in text
    assert "# HELP perfmon_battery_plugged 1 while the host runs on mains power" in text
    assert "# TYPE perfmon_fan_speed_rpm gauge" in text


def battery(percent: float | None) -> dict[str, Any]:
    return {"battery": {"percent": percent, "time_left_seconds": None, "power_plugged": False}}


def test_battery_low_fires_after_two_minutes_under_ten_percent_and_never_without_a_battery() -> None:
    (rule,) = [r for r in builtin_rules() if r.name == "BatteryLow"]
    assert (rule.below, rule.clear, rule.for_seconds, rule.severity) == (10.0, 15.0, 120.0, "warning")
    low = Engine((rule,))
    fired = [t.kind for at in (0, 60, 120) for t in low.evaluate(battery(8.0), T0 + at)]
    assert fired == ["firing"]
    absent = Engine((rule,))
    for at in (0, 60, 120, 600):
        assert absent.evaluate(battery(None), T0 + at) == []
        assert absent.evaluate({"battery": None}, T0 + at + 1) == []
    assert absent.firing() == []
