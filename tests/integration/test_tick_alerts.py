"""The alerts in a dashboard tick against a real API: the header's badge, the panel, the CPU chart's marks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfmon.alerts.rules import parse
from perfmon.api.app import Monitor
from perfmon.ui.source.client import ApiUnavailable
from perfmon.ui.tick.config import TickConfig
from tests.integration.test_tick import Tab
from tests.support.apiserver import ServedApi
from tests.support.dashclient import Client
from tests.support.fakes import FakeClock, FakePsutil
from tests.unit.ui.test_alerts_panel import texts

RULES = parse("""builtin_rules: false
rules:
  - {name: Hot, select: cpu.percent, above: 50, clear: 40, severity: critical, summary: hot}
""", "rules.yml")
DISK_RULES = parse("""builtin_rules: false
rules:
  - {name: RootFull, select: "disks[mountpoint=/].percent", above: 30, severity: critical}
""", "rules.yml")


ALERT_KEYS = ("alerts-badge.children", "alerts-badge.className", "alerts-body.children",
              "alerts-history.children", "alerts-note.children")


def test_a_firing_alert_shows_in_the_header_the_panel_and_the_cpu_chart(
    make_monitor: Callable[..., Monitor], new_client: Callable[[str], Client], wall: FakeClock,
    fake_ps: FakePsutil,
) -> None:
    served = ServedApi(make_monitor(process_interval_seconds=1.0, alerts=RULES)).start()
    try:
        tab = Tab(new_client(served.url), wall, TickConfig(poll_interval_seconds=5.0, signs_in=True))
        fake_ps.cpu_total = 10.0
        wall.advance(1)
        served.sample()
        first = tab.tick().updates
        assert (first["alerts-badge.children"], first["alerts-badge.className"]) == ("No alerts",
                                                                                     "badge alerts ok")
        assert texts(first["alerts-body.children"]) == "no alert is pending or firing"
        cpu = first["graph-cpu.figure"]
        assert [a["text"] for a in cpu["layout"]["annotations"]] == ["Hot > 50.0 %"]
        assert cpu["data"][-1]["name"] == "firing" and cpu["data"][-1]["y"] == []
        fake_ps.cpu_total = 95.0
        wall.advance(1)
        served.sample()
        hot = tab.tick().updates
        assert (hot["alerts-badge.children"], hot["alerts-badge.className"]) == ("1 firing · critical",
                                                                                 "badge alerts crit")
        row = texts(hot["alerts-body.children"])
        assert row == "firing critical Hot 95.0 % > 50.0 % 0 s ago Silence"  # a Silence button: signed in
        assert hot["graph-cpu.extendData"][0]["y"][-1] == [[0, 0]]  # the new point is in the firing period
        assert hot["kpi-cpu.className"] == "card crit"  # the rule's level, critical
        assert "firing Hot" in texts(hot["alerts-history.children"])
        assert not [key for key in tab.tick().updates if key in ALERT_KEYS]  # nothing new: nothing sent
    finally:
        served.close()


def test_an_api_without_alerts_leaves_the_rest_of_the_tick_alone(
    make_monitor: Callable[..., Monitor], new_client: Callable[[str], Client], wall: FakeClock,
    monkeypatch: Any,
) -> None:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    try:
        client = new_client(served.url)

        async def older_api(*_args: Any) -> Any:
            raise ApiUnavailable("the API answered 404: not found")

        monkeypatch.setattr(client.client.alerting, "read", older_api)
        wall.advance(1)
        served.sample()
        updates = Tab(client, wall).tick().updates
        assert updates["status.children"] == "Connected" and "graph-cpu.figure" in updates
        assert updates["alerts-badge.children"] == "Alerts ?" and "404" in updates["alerts-badge.title"]
        assert updates["kpi-cpu.className"] == "card ok"  # the dashboard's own levels: 25 % < 80 %
    finally:
        served.close()


def test_a_row_chart_a_rule_watches_has_its_level_and_the_band_of_firing_periods(
    make_monitor: Callable[..., Monitor], new_client: Callable[[str], Client], wall: FakeClock,
) -> None:
    served = ServedApi(make_monitor(process_interval_seconds=1.0, alerts=DISK_RULES)).start()
    try:
        tab = Tab(new_client(served.url), wall)
        for _ in range(2):
            wall.advance(1)
            served.sample()  # the root filesystem is 40 % full: RootFull fires on the first sample
        disks = tab.tick().updates["graph-rows-disks.figure"]
        band = disks["data"][-1]
        assert band["name"] == "firing" and band["y"] and band["y"][-1][1] == len(disks["data"][0]["y"]) - 1
        assert [a["text"] for a in disks["layout"]["annotations"]] == ["RootFull > 30.0 %"]
        network = Tab(new_client(served.url), wall).tick().updates["graph-rows-network.figure"]
        assert not [t for t in network["data"] if t["name"] == "firing"]  # no rule watches it
        wall.advance(1)
        served.sample()
        appended = tab.tick().updates["graph-rows-disks.extendData"]
        assert appended[0]["y"][-1] == [[0, 0]] and appended[1] == [0, 1]  # the row's point, the band's
    finally:
        served.close()
