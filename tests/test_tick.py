"""A dashboard tick against a real API server on a socket, with samples published by the test."""

from __future__ import annotations

import platform
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.ui import figures
from perfmon.ui.client import PerformanceClient
from perfmon.ui.tick import Settings, tick
from tests.apiserver import ServedApi
from tests.fakes import FakeClock, FakePsutil

SETTINGS = Settings(poll_interval_seconds=5.0)
MakeMonitor = Callable[..., Monitor]


@pytest.fixture
def api(make_monitor: MakeMonitor) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


@pytest.fixture
def client(api: ServedApi) -> Iterator[PerformanceClient]:
    client = PerformanceClient(api.url)
    yield client
    client.close()


@pytest.fixture
def publish(api: ServedApi, wall: FakeClock, mono: FakeClock) -> Callable[[int], int]:
    def publish(count: int = 1) -> int:
        seq = 0
        for _ in range(count):
            wall.advance(1)
            mono.advance(1)
            seq = api.sample()
        return seq

    return publish


class Tab:
    """One browser tab: its cursor and the screen state its updates built up."""

    def __init__(self, client: PerformanceClient, wall: FakeClock, settings: Settings = SETTINGS) -> None:
        self.client, self.wall, self.settings = client, wall, settings
        self.cursor: dict[str, Any] | None = None

    def tick(self, window: int = 300, sort: str = "cpu", raw_open: bool = False,
             raw_toggled: bool = False) -> Any:
        view, self.cursor = tick(self.client, self.cursor, self.settings, window_seconds=window, sort=sort,
                                 raw_open=raw_open, raw_toggled=raw_toggled, now=self.wall)
        return view


@pytest.fixture
def tab(client: PerformanceClient, wall: FakeClock) -> Tab:
    return Tab(client, wall)


def test_first_tick_builds_the_charts_and_fills_every_card(
    tab: Tab, publish: Callable[[int], int], api: ServedApi,
) -> None:
    publish(3)
    view = tab.tick()
    updates = view.updates
    rebuilt = {key for key in updates if key.endswith(".figure")}
    assert rebuilt == {f"graph-{graph_id}.figure" for graph_id in figures.GRAPH_IDS}
    assert not [key for key in updates if key.endswith(".extendData")]
    assert updates["graph-cpu.figure"]["data"][0]["y"] == [25.0, 25.0, 25.0]
    assert updates["graph-cores.figure"]["data"][0]["z"] == [[20.0, 30.0]] * 3
    assert updates["kpi-cpu-value.children"] == "25.0 %"
    assert updates["kpi-memory-sub.children"] == "2.00 GiB of 8.00 GiB used"
    assert updates["kpi-swap-value.children"] == "50.0 %"
    assert updates["kpi-disk-value.children"] == "40.0 %"
    assert updates["kpi-load-value.children"] == "0.50"
    assert all(updates[f"kpi-{name}.className"] == "card ok" for name in ("cpu", "memory", "swap", "disk"))
    assert updates["status.children"] == "Connected"
    assert updates["page.className"] == "page"
    assert updates["host-name.children"] == platform.node()
    assert updates["processes-body.children"]["rows"][0][:2] == [42, "busy"]
    assert updates["disks-body.children"]["rows"][0][:3] == ["/", "/dev/sda1", "ext4"]
    assert "raw-json.children" not in updates
    assert view.age_seconds == 0.0
    assert tab.cursor is not None
    assert tab.cursor["seq"] == 3 and tab.cursor["instance"] == api.monitor.hub.instance_id


def test_a_tick_with_nothing_new_sends_nothing(tab: Tab, publish: Callable[[int], int]) -> None:
    publish(2)
    tab.tick()
    tab.wall.advance(2)
    view = tab.tick()
    assert view.updates == {}
    assert view.x == []
    assert view.age_seconds == 2.0


def test_new_samples_are_appended_never_resent(tab: Tab, publish: Callable[[int], int],
                                               fake_ps: FakePsutil) -> None:
    publish(2)
    tab.tick()
    fake_ps.cpu_total, fake_ps.cpu_per_core = 60.0, [50.0, 70.0]
    publish(2)
    updates = tab.tick().updates
    assert not [key for key in updates if key.endswith(".figure")]
    assert updates["graph-cpu.extendData"] == [{"y": [[60.0, 60.0]]}, [0], 300]
    assert updates["graph-memory.extendData"][1] == [0, 1]
    assert updates["graph-cores.extendData"] == [{"z": [[[50.0, 70.0], [50.0, 70.0]]]}, [0], 300]
    assert updates["kpi-cpu-value.children"] == "60.0 %"
    assert tab.cursor is not None and tab.cursor["seq"] == 4


def test_cards_take_the_threshold_colours(client: PerformanceClient, wall: FakeClock,
                                          publish: Callable[[int], int], fake_ps: FakePsutil) -> None:
    tab = Tab(client, wall, Settings(warning_percent=50, critical_percent=90))
    fake_ps.cpu_total = 95.0
    fake_ps.memory = fake_ps.memory._replace(percent=60.0)
    publish(1)
    updates = tab.tick().updates
    assert updates["kpi-cpu.className"] == "card crit"
    assert updates["kpi-memory.className"] == "card warn"
    assert updates["kpi-disk.className"] == "card ok"  # 40 %
    assert updates["kpi-network.className"] == "card info"  # rates have no thresholds


def test_outage_then_recovery_continues_without_gap_or_duplicates(
    tab: Tab, api: ServedApi, publish: Callable[[int], int],
) -> None:
    publish(3)
    tab.tick()
    api.stop()
    first = tab.tick().updates
    assert first["status.children"] == "Reconnecting"
    assert "connection refused" in first["status-detail.children"]
    assert first["page.className"] == "page stale"
    assert tab.tick().updates == {}  # same state, same reason: nothing to send
    third = tab.tick().updates
    assert third["status.children"] == "Disconnected"
    assert third["status-detail.children"].startswith("since ")
    assert "retrying every 5 s" in third["status-detail.children"]
    publish(4)  # the server kept sampling; only its socket was unreachable
    api.start()
    view = tab.tick()
    assert view.updates["status.children"] == "Connected"
    assert view.updates["page.className"] == "page"
    cpu = view.updates["graph-cpu.extendData"]
    assert cpu[0]["y"] == [[25.0] * 4]  # seq 4..7: every point once, no gap marker
    assert len(view.x) == 4
    assert tab.cursor is not None and tab.cursor["seq"] == 7


def test_a_restarted_api_resets_the_charts(
    tab: Tab, api: ServedApi, publish: Callable[[int], int], make_monitor: MakeMonitor,
) -> None:
    publish(5)
    tab.tick()
    api.stop()
    api.start(make_monitor(process_interval_seconds=1.0))
    publish(2)
    updates = tab.tick().updates
    assert updates["graph-cpu.figure"]["data"][0]["y"] == [25.0, 25.0]
    assert not [key for key in updates if key.endswith(".extendData")]
    assert "kpi-cpu-value.children" in updates and "host-name.children" in updates
    assert tab.cursor is not None
    assert tab.cursor["seq"] == 2 and tab.cursor["instance"] == api.monitor.hub.instance_id


def test_points_lost_from_the_buffer_break_the_line(
    client: PerformanceClient, wall: FakeClock, mono: FakeClock, make_monitor: MakeMonitor,
) -> None:
    api = ServedApi(make_monitor(history_size=10)).start()
    try:
        tab = Tab(PerformanceClient(api.url), wall)
        api.sample(2)
        tab.tick()
        api.sample(15)  # 13 more than the buffer keeps after seq 2
        view = tab.tick()
        cpu = view.updates["graph-cpu.extendData"]
        assert cpu[0]["y"][0][0] is None and len(cpu[0]["y"][0]) == 11
        assert len(view.x) == 11
    finally:
        api.close()


def test_an_outage_longer_than_the_window_rebuilds(
    wall: FakeClock, make_monitor: MakeMonitor,
) -> None:
    api = ServedApi(make_monitor(interval_seconds=60.0)).start()  # a 5-minute window is 5 points
    try:
        tab = Tab(PerformanceClient(api.url), wall)
        api.sample(2)
        tab.tick()
        api.sample(9)
        updates = tab.tick().updates
        assert len(updates["graph-cpu.figure"]["data"][0]["y"]) == 5
    finally:
        api.close()


def test_changing_the_window_rebuilds_for_that_window(tab: Tab, publish: Callable[[int], int]) -> None:
    publish(2)
    tab.tick()
    assert "graph-cpu.figure" in tab.tick(window=900).updates
    publish(1)
    assert tab.tick(window=900).updates["graph-cpu.extendData"][2] == 900


def test_raw_data_only_while_open(tab: Tab, publish: Callable[[int], int]) -> None:
    publish(1)
    assert "raw-json.children" not in tab.tick().updates
    opened = tab.tick(raw_open=True, raw_toggled=True).updates
    assert opened["raw-json.className"] == "raw"
    assert '"seq": 1' in opened["raw-json.children"]
    assert "raw-json.children" not in tab.tick(raw_open=True).updates  # same sample
    publish(1)
    assert '"seq": 2' in tab.tick(raw_open=True).updates["raw-json.children"]
    closed = tab.tick(raw_open=False, raw_toggled=True).updates
    assert closed == {"raw-json.className": "raw hidden", "raw-json.children": ""}


def test_switching_the_process_sort_resends_the_rows(tab: Tab, publish: Callable[[int], int]) -> None:
    publish(1)
    tab.tick()
    updates = tab.tick(sort="memory").updates
    assert updates["processes-body.children"]["rows"][0][:2] == [43, "fat"]
    assert "by memory" in updates["processes-note.children"]


def test_a_starting_api_is_reconnecting_not_disconnected(tab: Tab) -> None:
    for _ in range(4):
        updates = tab.tick().updates
    assert tab.cursor is not None and tab.cursor["link"] == "retry"
    first = Tab(tab.client, tab.wall).tick().updates
    assert first["status.children"] == "Reconnecting"
    assert "not ready" in first["status-detail.children"]
    assert updates == {}


def test_unreadable_metrics_show_na_and_the_reason(tab: Tab, publish: Callable[[int], int],
                                                  fake_ps: FakePsutil) -> None:
    fake_ps.failures["swap_memory"] = OSError("no /proc/swaps")
    publish(1)
    updates = tab.tick().updates
    assert updates["kpi-swap-value.children"] == "n/a"
    assert "no /proc/swaps" in updates["kpi-swap-sub.children"]
    assert updates["kpi-swap.className"] == "card na"


def test_a_hung_api_cannot_hold_a_tick_past_its_budget(wall: FakeClock) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = PerformanceClient(f"http://127.0.0.1:{silent.getsockname()[1]}")
        tab = Tab(client, wall, Settings(poll_interval_seconds=0.5))
        started = time.monotonic()
        updates = tab.tick().updates
        assert time.monotonic() - started < 2.0  # the budget is 0.3 s; generous for a busy machine
        assert "no answer" in updates["status-detail.children"]
        client.close()
