"""perfmon.alerts.stall through the alert book: SamplerStalled fires on a clock when no sample comes."""

from __future__ import annotations

from typing import Any

from perfmon.alerts.book import AlertBook, instance_row
from perfmon.alerts.model import AlertsFile
from perfmon.alerts.rules import parse
from perfmon.alerts.stall import NAME, check_every, stall_rule


def book(interval: float = 1.0, watch: bool = True) -> tuple[AlertBook, list[Any]]:
    told: list[Any] = []
    made = AlertBook(AlertsFile((), watch_sampler=watch), interval_seconds=interval)
    made.notifier = lambda transitions, _now: told.extend(transitions) or []
    return made, told


def test_no_sample_for_three_intervals_or_30_s_held_two_minutes_fires_and_the_next_sample_resolves() -> None:
    alerts, told = book()
    alerts.evaluate({}, 1000.0)
    assert alerts.check(1030.0, since=0.0) == [] and alerts.active() == []  # 30 s: not over the level
    assert alerts.check(1031.0, since=0.0) == []  # over it: pending, nothing to tell
    (pending,) = alerts.active()
    assert (pending["alertname"], pending["state"], pending["threshold"]) == (NAME, "pending", 30.0)
    assert alerts.check(1150.0, since=0.0) == []  # 119 s of two minutes
    (fired,) = alerts.check(1151.5, since=0.0)
    assert (fired.kind, fired.value) == ("firing", 151.5) and told == [fired]
    assert alerts.counts()["warning"] == 1 and alerts.firing_labels()[0][0] == ("alertname", NAME)
    (resolved,) = alerts.evaluate({}, 1160.0)
    assert (resolved.kind, resolved.reason) == ("resolved", "cleared") and alerts.active() == []
    assert [r.kind for r in alerts.history] == ["firing", "resolved"]


def test_a_sampler_stuck_from_the_start_is_counted_from_when_the_watch_began() -> None:
    alerts, _ = book()
    alerts.check(50.0, since=0.0)
    assert [a["state"] for a in alerts.active()] == ["pending"]


def test_the_level_follows_the_interval_and_builtin_rules_false_leaves_it_out() -> None:
    assert stall_rule(1.0).threshold == 30.0 and stall_rule(20.0).threshold == 60.0
    assert (check_every(0.1), check_every(1.0), check_every(60.0)) == (1.0, 1.0, 5.0)
    off, _ = book(watch=False)
    assert off.stall is None and NAME not in off.rules and off.check(10_000.0, since=0.0) == []
    assert parse("builtin_rules: false\n").watch_sampler is False and parse("").watch_sampler is True
    assert AlertBook(AlertsFile(())).stall is None  # no interval given: no watch


def test_a_firing_stall_survives_a_restart_and_the_first_sample_resolves_it() -> None:
    first, _ = book()
    first.evaluate({}, 1000.0)
    first.check(1031.0, since=0.0)
    first.check(1152.0, since=0.0)
    kept = [instance_row(i) for i in first.instances()]
    again, told = book()
    again.restore(kept, [])
    assert [(a["alertname"], a["state"]) for a in again.active()] == [(NAME, "firing")]
    again.evaluate({}, 2000.0)
    assert [t.kind for t in told] == ["resolved"]
