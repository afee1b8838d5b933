"""The engine on fake clocks: durations, hysteresis, flapping, repeats, rows that go, restarts."""

from __future__ import annotations

from typing import Any

from perfmon.alerts.engine import Engine, Transition
from perfmon.alerts.rules import parse

T0 = 1_800_000_000.0


def engine(rules: str) -> Engine:
    return Engine(parse("builtin_rules: false\nrules:\n" + rules, "r.yml").rules)


def cpu(percent: float | None, load: float = 0.5, cores: int = 4) -> dict[str, Any]:
    return {"cpu": {"percent": percent, "count_logical": cores, "load_average": [load, 0.4, 0.3]}}


def disks(**percents: float | None) -> dict[str, Any]:
    rows = [{"mountpoint": "/" if name == "root" else f"/{name}", "device": f"/dev/{name}", "fstype": "ext4",
             "percent": value} for name, value in percents.items()]
    return {"disks": rows}


def run(e: Engine, samples: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, str, str, str]]:
    """Each sample at T0 + its offset; every transition as (offset, kind, instance, reason)."""
    out = []
    for offset, sample in samples:
        out += [(offset, t.kind, t.instance.id, t.reason) for t in e.evaluate(sample, T0 + offset)]
    return out


HIGH_CPU = "  - {name: HighCpu, select: cpu.percent, above: 90, clear: 80, for: 60s}\n"


def test_an_instance_fires_once_its_trigger_held_for_the_duration() -> None:
    e = engine(HIGH_CPU)
    assert run(e, [(0, cpu(95)), (30, cpu(96)), (59.9, cpu(97))]) == []
    assert [i.state for i in e.instances.values()] == ["pending"]
    assert run(e, [(60, cpu(97)), (61, cpu(98))]) == [(60, "firing", "HighCpu{}", "")]
    (firing,) = e.firing()
    assert (firing.active_since, firing.fired_at, firing.value) == (T0, T0 + 60, 98)


def test_a_pending_instance_that_stops_holding_first_says_nothing_and_starts_over() -> None:
    e = engine(HIGH_CPU)
    assert run(e, [(0, cpu(95)), (50, cpu(50)), (51, cpu(95)), (110, cpu(95))]) == []
    assert run(e, [(111, cpu(95))]) == [(111, "firing", "HighCpu{}", "")]  # 60 s after 51, not after 0


def test_hysteresis_holds_it_between_clear_and_the_trigger_and_resolves_past_clear() -> None:
    e = engine(HIGH_CPU)
    flapping = [(60 + i, cpu(89 if i % 2 else 91)) for i in range(20)]  # around the trigger
    assert run(e, [(0, cpu(95)), *flapping]) == [(60, "firing", "HighCpu{}", "")]
    assert run(e, [(100, cpu(80))]) == []  # at clear: still firing (it must pass it)
    assert run(e, [(101, cpu(79.9))]) == [(101, "resolved", "HighCpu{}", "cleared")]
    assert e.instances == {}


def test_without_clear_the_trigger_is_the_clear_level() -> None:
    e = engine("  - {name: Hot, select: cpu.percent, above: 90}\n")
    assert run(e, [(0, cpu(91)), (1, cpu(90)), (2, cpu(89.9)), (3, cpu(91))]) == [  # 90 itself holds it
        (0, "firing", "Hot{}", ""), (2, "resolved", "Hot{}", "cleared"), (3, "firing", "Hot{}", "")]


def test_a_firing_instance_is_told_again_every_repeat() -> None:
    e = engine("  - {name: Hot, select: cpu.percent, above: 90, repeat: 1h}\n")
    samples = [(minute * 60.0, cpu(95)) for minute in range(0, 150, 10)]
    told = [(t, kind) for t, kind, _, _ in run(e, samples)]
    assert told == [(0, "firing"), (3600, "repeat"), (7200, "repeat")]


def test_each_row_is_its_own_instance_and_a_row_that_goes_resolves_as_gone() -> None:
    e = engine("  - {name: Full, select: 'disks[fstype!=tmpfs].percent', above: 90, for: 10s}\n")
    assert run(e, [(0, disks(root=95, data=50, spare=93)), (10, disks(root=95, data=50, spare=93))]) == [
        (10, "firing", "Full{mountpoint=/}", ""), (10, "firing", "Full{mountpoint=/spare}", "")]
    assert run(e, [(11, disks(root=96, data=99))]) == [(11, "resolved", "Full{mountpoint=/spare}", "gone")]
    assert run(e, [(12, disks(root=96))]) == []  # /data was only pending: dropped without a word
    assert set(e.instances) == {("Full", (("mountpoint", "/"),))}
    (root,) = e.firing()
    assert dict(root.labels) == {"mountpoint": "/", "device": "/dev/root", "fstype": "ext4"}


def test_an_unreadable_value_or_group_holds_every_state() -> None:
    e = engine(HIGH_CPU)
    assert run(e, [(0, cpu(95)), (30, cpu(None)), (60, {"cpu": None}), (61, {})]) == []
    assert run(e, [(62, cpu(95))]) == [(62, "firing", "HighCpu{}", "")]
    assert run(e, [(63, cpu(None)), (64, {"cpu": None})]) == []
    assert len(e.firing()) == 1  # nothing was taken for resolved
    d = engine("  - {name: Full, select: disks.percent, above: 90}\n")
    assert run(d, [(0, disks(root=95)), (1, {"disks": None}), (2, disks(root=None))]) == [
        (0, "firing", "Full{mountpoint=/}", "")]


def test_below_rules_and_values_per_cpu() -> None:
    e = engine("  - {name: Low, select: 'disks[mountpoint=/].percent', below: 10, clear: 20}\n"
               "  - {name: Load, select: cpu.load_1, divide_by: cpu.count_logical, above: 2, clear: 1.5}\n")
    assert run(e, [(0, {**disks(root=5), **cpu(10, load=9, cores=4)})]) == [
        (0, "firing", "Low{mountpoint=/}", ""), (0, "firing", "Load{}", "")]
    assert run(e, [(1, {**disks(root=15), **cpu(10, load=7, cores=4)})]) == []  # 15 % and 1.75 per CPU
    assert run(e, [(2, {**disks(root=21), **cpu(10, load=5, cores=4)})]) == [
        (2, "resolved", "Low{mountpoint=/}", "cleared"), (2, "resolved", "Load{}", "cleared")]
    assert run(e, [(3, cpu(10, load=50, cores=0))]) == []  # no CPUs counted: no value, no alert


def test_a_restart_sends_no_second_firing_and_notices_a_resolution_meanwhile() -> None:
    first = engine(HIGH_CPU)
    assert run(first, [(0, cpu(95)), (60, cpu(95))]) == [(60, "firing", "HighCpu{}", "")]
    again = engine(HIGH_CPU)
    again.restore(first.state())
    assert run(again, [(300, cpu(95))]) == []  # firing still, and already told
    later = engine(HIGH_CPU)
    later.restore(again.state())
    assert run(later, [(900, cpu(20))]) == [(900, "resolved", "HighCpu{}", "cleared")]
    gone = engine("  - {name: Other, select: cpu.percent, above: 1}\n")
    gone.restore(first.state())  # a rule removed from the file meanwhile: its instances are dropped
    assert gone.instances == {}


def test_a_pending_instance_restored_keeps_its_start() -> None:
    first = engine(HIGH_CPU)
    run(first, [(0, cpu(95))])
    again = engine(HIGH_CPU)
    again.restore(first.state())
    assert run(again, [(60, cpu(95))]) == [(60, "firing", "HighCpu{}", "")]


PREDICT = ("  - {name: Filling, select: 'disks[mountpoint=/].percent', above: 90, for: 0s,\n"
           "     predict: {window: 6h, ahead: 24h}}\n")


def test_a_prediction_fires_only_on_a_trend_that_reaches_the_level_within_ahead() -> None:
    rising, flat = engine(PREDICT), engine(PREDICT)
    hours = [h / 4 for h in range(0, 4 * 3)]  # every 15 minutes for 3 hours
    told: list[Transition] = []
    for h in hours:
        told += rising.evaluate(disks(root=91 + 0.5 * h), T0 + h * 3600)  # +0.5 %/h: 100 % in < 18 h
        assert flat.evaluate(disks(root=92), T0 + h * 3600) == []  # above 90, but not filling
    assert [(t.kind, (t.at - T0) / 3600) for t in told] == [("firing", 1.5)]  # known at a quarter of 6 h


def test_a_slow_trend_does_not_fire_and_the_trend_forgets_a_row_that_goes() -> None:
    slow = engine(PREDICT)
    for h in range(0, 7):
        assert slow.evaluate(disks(root=91 + 0.1 * h), T0 + h * 3600) == []  # 100 % in 80 h: not within 24
    assert list(slow.trends) == [("Filling", (("mountpoint", "/"),))]
    slow.evaluate({"disks": []}, T0 + 8 * 3600)
    assert slow.trends == {}
