"""A dashboard tick against a real API server on a socket, with samples published by the test."""

from __future__ import annotations

import dataclasses
import platform
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from perfmon.alerts.rules import parse
from perfmon.api.app import Monitor
from perfmon.core.units import chart_time
from perfmon.store.buckets import TierSpan, bucket_seconds, from_rows
from perfmon.store.ring import RingStore
from perfmon.ui.screen import figures, ids
from perfmon.ui.tick import resolution, step
from perfmon.ui.tick.config import TickConfig
from perfmon.ui.tick.inputs import read_cursor
from perfmon.ui.tick.ranges import Span
from perfmon.ui.tick.step import tick
from tests.support.apiserver import ServedApi
from tests.support.dashclient import Client
from tests.support.fakes import FakeClock, FakePsutil, Swap

SETTINGS = TickConfig(poll_interval_seconds=5.0)
MakeMonitor = Callable[..., Monitor]


@pytest.fixture
def api(make_monitor: MakeMonitor) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


@pytest.fixture
def client(api: ServedApi, wall: FakeClock) -> Iterator[Client]:
    client = Client(api.url, wall)
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

    def __init__(self, client: Client, wall: FakeClock, settings: TickConfig = SETTINGS) -> None:
        self.client, self.wall, self.settings = client, wall, settings
        self.cursor: dict[str, Any] | None = None

    def tick(self, span: Span | str = "5m", sort: str = "cpu", raw_open: bool = False,
             resync: bool = False, dropped: bool = False) -> Any:
        """One tick; ``dropped``: the page threw its answer away (a newer tick of it was on its way)."""
        span = Span(span) if isinstance(span, str) else span
        self.client.ticks.advance(self.settings.poll_interval_seconds)
        view, cursor = self.client.run(tick(  # the cursor as the callback reads it from the page's store
            self.client.client, read_cursor(self.cursor), self.settings, span=span, sort=sort,
            raw_open=raw_open, resync=resync, now=self.wall))
        if not dropped:
            self.cursor = cursor.store()  # and as the page keeps it
        return view


@pytest.fixture
def tab(client: Client, wall: FakeClock) -> Tab:
    return Tab(client, wall)


def test_a_tick_reads_everything_through_its_source_before_it_draws_anything(
    tab: Tab, client: Client, publish: Callable[[int], int], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read, then render: no figure, card or table is built while a request of the tick is pending."""
    events: list[str] = []
    http = client.client.http
    get_json = http.get_json

    async def reading(path: str, *args: Any, **kwargs: Any) -> Any:
        events.append(f"read {path}")
        return await get_json(path, *args, **kwargs)

    def drawing(name: str, draw: Callable[..., Any]) -> Callable[..., Any]:
        def drawn(*args: Any, **kwargs: Any) -> Any:
            events.append(f"draw {name}")
            return draw(*args, **kwargs)
        return drawn

    monkeypatch.setattr(http, "get_json", reading)
    monkeypatch.setattr(figures, "figures", drawing("figures", figures.figures))
    monkeypatch.setattr(figures, "extend_payload", drawing("extend", figures.extend_payload))
    for name in ("kpi_updates", "show_processes"):
        monkeypatch.setattr(step, name, drawing(name, getattr(step, name)))
    publish(3)
    for _ in range(2):  # a rebuild, then an append by cursor
        events.clear()
        publish(1)
        tab.tick()
        reads = [index for index, event in enumerate(events) if event.startswith("read")]
        draws = [index for index, event in enumerate(events) if event.startswith("draw")]
        assert reads and draws and max(reads) < min(draws), events
        assert "read /api/processes" in events and "draw show_processes" in events, events


def test_first_tick_builds_the_charts_from_the_history_and_fills_every_card(
    tab: Tab, publish: Callable[[int], int], api: ServedApi, wall: FakeClock,
) -> None:
    publish(3)
    view = tab.tick()
    updates = view.updates
    rebuilt = {key for key in updates if key.endswith(".figure")}
    assert rebuilt == {f"graph-{graph_id}.figure" for graph_id in figures.GRAPH_IDS} | {
        f"{ids.row_graph(group)}.figure" for group in ids.ROW_GROUP_NAMES}  # and a chart per row group
    assert not [key for key in updates if key.endswith(".extendData")]
    cpu = updates["graph-cpu.figure"]["data"]
    assert [trace["name"] for trace in cpu] == ["CPU", "firing"]  # single samples: no band; the alerts' last
    assert cpu[1]["y"] == []  # nothing fired: no run of firing points
    assert cpu[0]["y"][-3:] == [25.0, 25.0, 25.0] and cpu[0]["y"][:-3] == [None] * 297  # 5 min, 1 s apart
    assert len(view.x) == 300 and view.x[-1] == chart_time(wall.now)  # a point where its sample was taken
    assert updates["graph-cores.figure"]["data"][0]["z"][-3:] == [[20.0, 30.0]] * 3
    # a young install: the charts span the range, and say since when they have data
    since = time.strftime("%H:%M", time.localtime(wall.now - 2))
    assert updates["resolution.children"] == f"every sample (1 s) · history since {since}"
    assert updates["kpi-cpu-value.children"] == "25.0 %"
    assert updates["kpi-memory-sub.children"] == "2.00\u00a0GiB of 8.00\u00a0GiB used"  # a unit never alone
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
    assert tab.cursor["mode"] == "raw" and tab.cursor["view"] == "5m" and tab.cursor["max"] == 300


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
    assert updates["graph-cpu.extendData"] == [{"y": [[60.0, 60.0], []]}, [0, 1], 300]  # the band: no run
    assert updates["graph-memory.extendData"][1] == [0, 1, 2]  # memory, swap, the alerts' band
    assert updates["graph-cores.extendData"] == [{"z": [[[50.0, 70.0], [50.0, 70.0]]]}, [0], 300]
    assert updates["kpi-cpu-value.children"] == "60.0 %"
    assert tab.cursor is not None and tab.cursor["seq"] == 4


def test_cards_take_the_levels_of_the_rules_that_watch_them(client: Client, wall: FakeClock,
                                                           publish: Callable[[int], int],
                                                           fake_ps: FakePsutil) -> None:
    tab = Tab(client, wall, TickConfig(warning_percent=50, critical_percent=60))
    fake_ps.cpu_total = 95.0  # the built-in HighCpu: a warning over 90 (no critical rule watches CPU)
    fake_ps.memory = fake_ps.memory._replace(percent=70.0)  # MemoryAlmostFull: over 90
    publish(1)
    updates = tab.tick().updates
    assert updates["kpi-cpu.className"] == "card warn"
    assert updates["kpi-memory.className"] == "card ok"  # past the dashboard's own 60, not the rule's 90
    assert updates["kpi-disk.className"] == "card ok"  # 40 %
    assert updates["kpi-network.className"] == "card info"  # rates have no levels


def test_a_critical_rule_turns_its_card_red_and_its_disks_bar(
    make_monitor: MakeMonitor, new_client: Callable[[str], Client], wall: FakeClock, fake_ps: FakePsutil,
) -> None:
    rules = parse("""rules:
  - {name: CpuCritical, select: cpu.percent, above: 93, severity: critical}
  - {name: RootFull, select: "disks[mountpoint=/].percent", above: 35, severity: critical}
""", "rules.yml")
    served = ServedApi(make_monitor(process_interval_seconds=1.0, alerts=rules)).start()
    try:
        tab = Tab(new_client(served.url), wall, SETTINGS)
        fake_ps.cpu_total = 95.0
        wall.advance(1)
        served.sample()
        updates = tab.tick().updates
        assert updates["kpi-cpu.className"] == "card crit"
        assert updates["kpi-disk.className"] == "card crit"  # 40 % of / is past RootFull's 35
        bars = [row[5]["level"] for row in updates["disks-body.children"]["rows"]]
        assert bars[0] == "crit"
    finally:
        served.close()


def test_cards_no_rule_watches_keep_the_dashboards_own_levels(
    make_monitor: MakeMonitor, new_client: Callable[[str], Client], wall: FakeClock, fake_ps: FakePsutil,
) -> None:
    served = ServedApi(make_monitor(process_interval_seconds=1.0,
                                    alerts=parse("builtin_rules: false\n", "rules.yml"))).start()
    try:
        tab = Tab(new_client(served.url), wall, TickConfig(warning_percent=50, critical_percent=90))
        fake_ps.cpu_total = 95.0
        fake_ps.memory = fake_ps.memory._replace(percent=60.0)
        wall.advance(1)
        served.sample()
        updates = tab.tick().updates
        assert updates["kpi-cpu.className"] == "card crit"
        assert updates["kpi-memory.className"] == "card warn"
        assert updates["kpi-disk.className"] == "card ok"  # 40 %
    finally:
        served.close()


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
    assert cpu[0]["y"] == [[25.0] * 4, []]  # seq 4..7: every point once, no gap marker
    assert len(view.x) == 4
    assert tab.cursor is not None and tab.cursor["seq"] == 7


def test_a_restarted_api_rebuilds_the_charts_from_its_history(
    tab: Tab, api: ServedApi, publish: Callable[[int], int], make_monitor: MakeMonitor,
) -> None:
    publish(5)
    tab.tick()
    api.stop()
    api.start(make_monitor(process_interval_seconds=1.0))  # in memory only: the old samples are gone
    publish(2)
    updates = tab.tick().updates
    assert updates["graph-cpu.figure"]["data"][0]["y"][-8:] == [None] * 6 + [25.0, 25.0]
    assert not [key for key in updates if key.endswith(".extendData")]
    assert "kpi-cpu-value.children" in updates and "host-name.children" in updates
    assert tab.cursor is not None
    assert tab.cursor["seq"] == 2 and tab.cursor["instance"] == api.monitor.hub.instance_id


class KeptStore:
    """The history a store on disk keeps across a restart: ranges read the old samples and the new."""

    def __init__(self, old: RingStore, new: RingStore) -> None:
        self.old, self.new = old, new

    def __getattr__(self, name: str) -> Any:  # the live tail (cursor reads, seq) is the new instance's
        return getattr(self.new, name)

    def __len__(self) -> int:
        return len(self.new)

    def read_range(self, start: float, end: float, points: int) -> Any:
        rows = [*self.old.read(None, self.old.max_limit).rows, *self.new.read(None, self.new.max_limit).rows]
        width = bucket_seconds(TierSpan("raw", self.new.interval_seconds, rows[0][1]), start, end, points)
        return from_rows(rows, start, end, width)


def test_after_a_restart_the_only_gap_is_the_downtime(
    tab: Tab, api: ServedApi, publish: Callable[[int], int], make_monitor: MakeMonitor,
    wall: FakeClock, mono: FakeClock, fake_ps: FakePsutil,
) -> None:
    publish(5)
    tab.tick()
    api.stop()
    wall.advance(4)  # four seconds without a server: four samples never taken
    mono.advance(4)
    new = make_monitor(process_interval_seconds=1.0)
    old_store = api.monitor.store
    assert isinstance(old_store, RingStore) and isinstance(new.store, RingStore)
    api.start(dataclasses.replace(new, store=KeptStore(old_store, new.store)))
    fake_ps.cpu_total = 60.0
    publish(2)
    y = tab.tick().updates["graph-cpu.figure"]["data"][0]["y"]
    assert y[-12:] == [None] + [25.0] * 5 + [None] * 4 + [60.0, 60.0]  # only the downtime is empty
    assert tab.cursor is not None and tab.cursor["seq"] == 2  # the new instance's cursor


def test_points_lost_from_the_buffer_break_the_line(
    client: Client, wall: FakeClock, mono: FakeClock, make_monitor: MakeMonitor,
    new_client: Callable[[str], Client],
) -> None:
    api = ServedApi(make_monitor(history_size=10)).start()
    try:
        tab = Tab(new_client(api.url), wall)
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
    new_client: Callable[[str], Client],
) -> None:
    api = ServedApi(make_monitor(interval_seconds=60.0)).start()  # a 5-minute window is 5 points
    try:
        tab = Tab(new_client(api.url), wall)
        api.sample(2)
        tab.tick()
        api.sample(9)
        updates = tab.tick().updates
        assert len(updates["graph-cpu.figure"]["data"][0]["y"]) == 5
    finally:
        api.close()


def test_a_longer_range_shows_buckets_in_their_band_and_appends_each_once_settled(
    tab: Tab, publish: Callable[[int], int], fake_ps: FakePsutil, wall: FakeClock,
) -> None:
    publish(30)
    view = tab.tick("1h")  # 3600 samples would be too many to send: 360 buckets of 10 s
    cpu = view.updates["graph-cpu.figure"]["data"]
    assert [trace["name"] for trace in cpu] == ["CPU min", "CPU max", "CPU", "firing"]
    assert len(cpu[2]["y"]) == 360 and cpu[2]["y"][-1] == 25.0
    words = view.updates["resolution.children"]
    assert words.startswith("means per 10 s in their min-max band · history since ")
    assert tab.cursor is not None and tab.cursor["mode"] == "buckets" and tab.cursor["res"] == 10
    settled = tab.cursor["next"]
    assert settled % 10 == 0 and settled <= wall.now - resolution.SETTLE_SECONDS
    assert settled + 10 > wall.now  # the next bucket needs a sample after it
    publish(1)
    assert not [key for key in tab.tick("1h").updates if key.startswith("graph-")]
    fake_ps.cpu_total = 80.0
    while wall.now < settled + 20 + resolution.SETTLE_SECONDS:
        publish(1)
    view = tab.tick("1h")  # two buckets settled: the first from 25 % to 80 %, the second all 80 %
    low, high, mean, firing = view.updates["graph-cpu.extendData"][0]["y"]
    assert view.updates["graph-cpu.extendData"][1:] == [[0, 1, 2, 3], 360]
    assert firing == []  # no alert fired in either bucket
    assert (low, high, mean) == ([25.0, 80.0], [80.0, 80.0], [69.0, 80.0])  # two samples at 25 %, eight at 80
    assert view.x == [chart_time(settled + 5), chart_time(settled + 15)]  # each bucket's middle
    assert tab.cursor["next"] == settled + 20
    assert not [key for key in tab.tick("1h").updates if key.startswith("graph-")]  # never twice


def test_a_young_install_draws_the_bucket_still_filling_and_rebuilds_once_it_is_whole(
    tab: Tab, publish: Callable[[int], int], api: ServedApi, wall: FakeClock, mono: FakeClock,
) -> None:
    publish(30)  # half a minute of history: no 2 h bucket of 30 days is whole yet
    view = tab.tick("30d")
    filling = wall.now // 7200 * 7200
    mean = view.updates["graph-cpu.figure"]["data"][2]["y"]
    assert len(mean) == 360 and mean[-1] == 25.0 and mean[:-1] == [None] * 359  # drawn, not blank
    assert view.x[-1] == chart_time(filling + 3600)  # the bucket's middle
    assert view.updates["resolution.children"].endswith(
        f"· history since about {time.strftime('%H:%M', time.localtime(filling))}")
    assert tab.cursor is not None and tab.cursor["next"] == filling and tab.cursor["seq"] == 0
    publish(1)
    assert not [key for key in tab.tick("30d").updates if key.startswith("graph-")]  # still filling
    wall.advance(7200)  # the bucket is whole once a sample after it exists
    mono.advance(7200)
    api.sample()
    view = tab.tick("30d")
    assert "graph-cpu.figure" in view.updates and "graph-cpu.extendData" not in view.updates
    assert view.updates["graph-cpu.figure"]["data"][2]["y"][-1] == 25.0  # now the last whole bucket
    assert tab.cursor["seq"] is None and tab.cursor["next"] == filling + 7200


def test_a_long_range_at_a_fast_interval_asks_for_a_bounded_range(
    wall: FakeClock, mono: FakeClock, make_monitor: MakeMonitor,
    new_client: Callable[[str], Client],
) -> None:
    for interval, points in ((0.1, 300), (0.5, 600)):  # at 0.5 s an hour was limit=7200: a 400
        api = ServedApi(make_monitor(interval_seconds=interval)).start()
        try:
            tab = Tab(new_client(api.url), wall)
            for _ in range(3):
                wall.advance(interval)
                mono.advance(interval)
                api.sample()
            for span, expected in (("5m", points), ("1h", 360), ("30d", 360)):
                updates = tab.tick(span).updates
                mean = [t for t in updates["graph-cpu.figure"]["data"] if t["name"] == "CPU"]
                assert len(mean[0]["y"]) == expected, (interval, span)
                assert tab.cursor is not None and tab.cursor["link"] == "up"
            assert tab.cursor["res"] == 7200
        finally:
            api.close()


def test_a_zoom_at_a_fast_interval_shows_every_sample(
    wall: FakeClock, mono: FakeClock, make_monitor: MakeMonitor, new_client: Callable[[str], Client],
) -> None:
    api = ServedApi(make_monitor(interval_seconds=0.2)).start()
    try:
        tab = Tab(new_client(api.url), wall)
        for _ in range(600):
            wall.advance(0.2)
            mono.advance(0.2)
            api.sample()
        zoom = Span(None, round(wall.now - 111.123, 3), round(wall.now - 0.5, 3))
        traces = tab.tick(zoom).updates["graph-cpu.figure"]["data"]
        assert tab.cursor is not None and tab.cursor["mode"] == "fixed"
        assert tab.cursor["res"] == pytest.approx(0.2)
        assert [trace["name"] for trace in traces] == ["CPU", "firing"]  # single samples: no band
        y = traces[0]["y"]
        assert 553 <= len(y) <= 555 and y == [25.0] * len(y)  # a point per sample, none lost or doubled
    finally:
        api.close()


def test_changing_the_range_rebuilds_for_that_range(tab: Tab, publish: Callable[[int], int]) -> None:
    publish(2)
    tab.tick()
    assert "graph-cpu.figure" in tab.tick("6h").updates
    assert "graph-cpu.figure" in tab.tick("5m").updates
    publish(1)
    assert tab.tick().updates["graph-cpu.extendData"][2] == 300


def test_a_zoom_stays_as_loaded_until_the_tab_leaves_it(
    tab: Tab, publish: Callable[[int], int], api: ServedApi, make_monitor: MakeMonitor, wall: FakeClock,
) -> None:
    publish(20)
    zoom = Span(None, wall.now - 15.2, wall.now - 5.3)
    view = tab.tick(zoom)
    y = view.updates["graph-cpu.figure"]["data"][0]["y"]
    assert len(y) == 11 and y == [25.0] * 11  # every sample from the 15th to the 5th last
    assert view.updates["graph-cpu.figure"]["layout"]["uirevision"] == zoom.key
    publish(5)
    assert not [key for key in tab.tick(zoom).updates if key.startswith("graph-")]
    api.stop()
    api.start(make_monitor(process_interval_seconds=1.0))
    publish(1)
    updates = tab.tick(zoom).updates
    assert "kpi-cpu-value.children" in updates and "graph-cpu.figure" not in updates  # a restart keeps it
    assert "graph-cpu.figure" in tab.tick("5m").updates


def test_a_host_without_swap_has_no_swap_on_its_chart(
    tab: Tab, publish: Callable[[int], int], fake_ps: FakePsutil,
) -> None:
    fake_ps.swap = Swap(0, 0, 0, 0.0, 0, 0)
    publish(2)
    memory = tab.tick().updates["graph-memory.figure"]
    assert [trace["name"] for trace in memory["data"]] == ["memory", "firing"]
    publish(1)
    assert len(tab.tick().updates["graph-memory.extendData"][0]["y"]) == 2  # memory and the alerts' band
    fake_ps.swap = Swap(2 * 2**30, 2**30, 2**30, 50.0, 0, 0)  # swap switched on: the chart gains it
    publish(1)
    memory = tab.tick().updates["graph-memory.figure"]
    assert [trace["name"] for trace in memory["data"]] == ["memory", "swap", "firing"]


def test_views_are_numbered_and_a_missed_one_has_the_screen_sent_whole(
    tab: Tab, publish: Callable[[int], int], api: ServedApi,
) -> None:
    publish(2)
    first = tab.tick()
    assert (first.n, first.full) == (1, True)
    publish(1)
    second = tab.tick()
    assert (second.n, second.full) == (2, False) and "status.children" not in second.updates
    publish(1)
    again = tab.tick(resync=True).updates  # the browser says it missed a view: everything again
    assert "graph-cpu.figure" in again and "kpi-cpu-value.children" in again
    assert again["status.children"] == "Connected" and "host-name.children" in again
    assert again["raw-json.className"] == "raw hidden"
    assert tab.cursor is not None and tab.cursor["n"] == 3
    api.stop()
    for _ in range(3):
        tab.tick()
    down = tab.tick(resync=True).updates  # while disconnected: the badge again, the failures still counted
    assert down["status.children"] == "Disconnected" and tab.cursor["fails"] == 4


def test_raw_data_only_while_open(tab: Tab, publish: Callable[[int], int]) -> None:
    publish(1)
    assert "raw-json.children" not in tab.tick().updates
    opened = tab.tick(raw_open=True).updates
    assert opened["raw-json.className"] == "raw"
    assert '"seq": 1' in opened["raw-json.children"]
    assert "raw-json.children" not in tab.tick(raw_open=True).updates  # same sample
    publish(1)
    assert '"seq": 2' in tab.tick(raw_open=True).updates["raw-json.children"]
    closed = tab.tick(raw_open=False).updates
    assert closed == {"raw-json.className": "raw hidden", "raw-json.children": ""}
    assert "raw-json.className" not in tab.tick(raw_open=False).updates  # closed is closed


def test_the_raw_panel_opens_and_closes_even_when_the_page_drops_the_tick_the_toggle_set_off(
        tab: Tab, publish: Callable[[int], int]) -> None:
    publish(1)
    tab.tick()
    assert tab.tick(raw_open=True, dropped=True).updates["raw-json.className"] == "raw"
    opened = tab.tick(raw_open=True).updates  # the next tick, from the cursor the page kept
    assert opened["raw-json.className"] == "raw" and '"seq": 1' in opened["raw-json.children"]
    tab.tick(raw_open=False, dropped=True)
    assert tab.tick(raw_open=False).updates == {"raw-json.className": "raw hidden", "raw-json.children": ""}


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
    sub = updates["kpi-swap-sub.children"]["props"]  # a few words, the API's whole reason on hover
    assert "no /proc/swaps" in sub["title"] and "no /proc/swaps" in sub["children"]
    assert len(sub["children"]) <= 40
    assert updates["kpi-swap.className"] == "card na"


def test_a_hung_api_cannot_hold_a_tick_past_its_budget(wall: FakeClock) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = Client(f"http://127.0.0.1:{silent.getsockname()[1]}", wall, 0.5)  # closed below
        tab = Tab(client, wall, TickConfig(poll_interval_seconds=0.5))
        started = time.monotonic()
        updates = tab.tick().updates
        assert time.monotonic() - started < 2.0  # the budget is 0.3 s; generous for a busy machine
        assert "no answer" in updates["status-detail.children"]
        client.close()


def test_a_card_says_a_reason_in_a_few_plain_words() -> None:
    from perfmon.ui.screen.cards import glued, short_reason

    assert short_reason("no swap space is configured: percent is undefined") == "no swap configured"
    assert short_reason("OSError: no /proc/swaps") == "no /proc/swaps"
    assert len(short_reason("x" * 300)) == 40
    assert glued("2 CPUs at 2.45 GHz") == "2\u00a0CPUs at 2.45\u00a0GHz"
