"""perfmon.ui.screen.overlays: the rules' levels as lines and the firing periods as a band on a chart."""

from __future__ import annotations

from typing import Any

from perfmon.ui.screen import figures
from perfmon.ui.screen.cards import Thresholds
from perfmon.ui.screen.levels import levels_of
from perfmon.ui.screen.overlays import Marks, decorate, marks, periods, runs
from tests.unit.ui.test_levels import RULES


def transition(alert_id: str, kind: str, at: float, name: str = "HighCpu") -> dict[str, Any]:
    return {"id": alert_id, "alertname": name, "kind": kind, "at": at}


def test_periods_run_from_firing_to_resolved_and_what_fires_now_stays_open() -> None:
    history = [transition("a", "firing", 10), transition("a", "repeat", 15), transition("a", "resolved", 20),
               transition("b", "firing", 30), transition("a", "firing", 40)]
    active = [{"id": "a", "state": "firing", "fired_at": 40}, {"id": "c", "state": "firing", "fired_at": 50},
              {"id": "d", "state": "pending", "fired_at": None}]
    assert periods(history, active) == ((10, 20), (30, 30), (40, None), (50, None))  # b: resolved unseen


def test_a_point_fires_when_it_falls_in_a_period_and_a_bucket_when_it_overlaps_one() -> None:
    found = Marks(periods=((10.0, 20.0), (40.0, None)))
    assert found.firing([5, 10, 15, 20, 25, 39, 40, 99], 0) == [None, 1, 1, 1, None, None, 1, 1]
    assert found.firing([0, 21, 30], 10) == [1, None, 1]  # buckets [0,10] and [30,40] touch the periods


def test_the_band_travels_as_runs_of_firing_points() -> None:
    assert runs([None, 1, 1, None, 1, None, None, 1, 1, 1]) == [[1, 2], [4, 4], [7, 9]]
    assert runs([None, None]) == [] and runs([]) == []


def test_a_chart_gets_the_lines_of_the_rules_that_watch_it_times_the_cpus_per_cpu() -> None:
    levels = levels_of(Thresholds(), RULES)
    sample = {"cpu": {"count_logical": 4}}
    history = [transition("HighCpu{}", "firing", 10), transition("Other{}", "firing", 10, name="Other")]
    cpu = marks(levels, (("cpu", "percent"),), sample, [], history, "percent")
    assert cpu.lines == ((90.0, "HighCpu > 90.0 %", "warn"), (97.0, "CpuCritical > 97.0 %", "crit"))
    assert cpu.periods == ((10, 10),)  # only the chart's own rules' alerts
    load = marks(levels, (("cpu", "load_1"),), sample, [], [], "load")
    assert load.lines == ((8.0, "HighLoad > 8.00", "warn"),)
    assert marks(levels, (("cpu", "load_1"),), {"cpu": {}}, [], [], "load").lines == ()  # no CPU count


def test_a_figure_of_a_watched_chart_carries_the_band_last_and_the_lines_in_its_layout() -> None:
    series = {"timestamp": [10.0, 11.0, 12.0], "cpu_percent": [50.0, 95.0, 96.0]}
    drawn = figures.line_figure(figures.line_chart("cpu"), series, figures.Shape(),
                                Marks(lines=((90.0, "HighCpu > 90.0 %", "warn"),), periods=((11.0, None),)))
    band = drawn["data"][-1]
    assert band["meta"] == {"firing": True} and band["y"] == [[1, 2]] and band["yaxis"] == "y2"
    assert drawn["layout"]["yaxis2"]["range"] == [0, 1] and drawn["layout"]["shapes"][0]["y0"] == 90.0
    assert drawn["layout"]["annotations"][0]["text"] == "HighCpu > 90.0 %"
    network = figures.line_figure(figures.line_chart("network"), {"timestamp": [10.0]}, figures.Shape())
    assert not [t for t in network["data"] if t.get("meta", {}).get("firing")]  # no band on a rate chart
    extended = figures.extend_payload("cpu", {"timestamp": [13.0], "cpu_percent": [97.0]}, 300,
                                      marks=Marks(periods=((11.0, None),)), gap=True)
    assert extended[0]["y"] == [[None, 97.0], [[1, 1]]] and extended[1] == [0, 1]


def test_a_layout_without_lines_gets_only_the_bands_axis() -> None:
    layout: dict[str, Any] = {}
    decorate(layout, [], banded=True)
    assert set(layout) == {"yaxis2"}
    decorate(plain := {}, [], banded=False)
    assert plain == {}
