"""/api/history?series=SELECTOR: the picked series by cursor and by range, JSON and CSV, and refusals.

Real aiohttp app on the in-process test server, over the fake psutil (one filesystem at ``/``, one
disk ``sda``, interfaces ``eth0`` and ``lo``, two CPUs); memory store unless a test says otherwise.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from perfmon.api.app import Monitor, create_app
from perfmon.store.sqlite.store import SqliteStore
from tests.support.fakes import FakeClock, FakePsutil, Partition, Usage

Client = TestClient[web.Request, web.Application]
T0 = 1_700_000_000.0  # the fake wall clock's start (tests/conftest.py)
ROOT = "disks[mountpoint=/].percent"


EVERY_SAMPLE = (("disks", 1.0),)  # the filesystems read every sample (a user's --collector-intervals)


@pytest.fixture
def mono(wall: FakeClock) -> FakeClock:
    """The sampler's monotonic clock moves with the wall clock, which publish() advances."""
    return wall


@pytest.fixture
def monitor(make_monitor: Callable[..., Monitor]) -> Monitor:
    return make_monitor(collector_intervals=EVERY_SAMPLE)


@pytest.fixture
async def client(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                 monitor: Monitor) -> AsyncIterator[Client]:
    yield await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    monitor.sampler.shutdown_worker()


async def publish(monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil, root_percent: list[float]) -> None:
    """One sample per value, a second apart, with that share of ``/`` in use."""
    for value in root_percent:
        fake_ps.usage["/"] = Usage(100 * 2**30, int(value * 2**30), int((100 - value) * 2**30), value)
        await monitor.sampler.sample_once()
        wall.advance(1.0)


def add_boot_disk(fake_ps: FakePsutil, percent: float) -> None:
    """A second filesystem, mounted from now on."""
    fake_ps.partitions = [*fake_ps.partitions, Partition("/dev/sda2", "/boot", "ext4", "rw")]
    fake_ps.usage["/boot"] = Usage(2**30, int(percent / 100 * 2**30), 2**30 - int(percent / 100 * 2**30),
                                   percent)


async def error(response: object) -> str:
    assert response.status == 400  # type: ignore[attr-defined]
    return str((await response.json())["error"]["message"])  # type: ignore[attr-defined]


async def test_a_cursor_read_answers_the_picked_series_by_key_with_their_description(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0, 20.0, 30.0])
    body = await (await client.get("/api/history", params={"series": f"{ROOT},memory.percent"})).json()
    series = body["series"]
    assert list(series) == ["seq", "timestamp", ROOT, "memory.percent"]
    assert series["seq"] == [1, 2, 3] and series["timestamp"] == [T0, T0 + 1, T0 + 2]
    assert series[ROOT] == [10.0, 20.0, 30.0] and series["memory.percent"] == [25.0] * 3
    assert body["keys"] == [
        {"key": ROOT, "group": "disks", "field": "percent", "labels": {"mountpoint": "/"}, "unit": "percent",
         "kind": "gauge"},
        {"key": "memory.percent", "group": "memory", "field": "percent", "labels": {}, "unit": "percent",
         "kind": "gauge"}]
    assert body["truncated"] is False and body["instance_id"] == monitor.hub.instance_id


async def test_selectors_repeat_or_list_and_pick_rows_by_label(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0])
    query = [("series", "network[interface!=lo].recv_bytes_per_s"),
             ("series", "cpu[cpu=1].percent,cpu.load_1")]
    body = await (await client.get("/api/history", params=query)).json()
    assert [k["key"] for k in body["keys"]] == ["network[interface=eth0].recv_bytes_per_s",
                                                 "cpu[cpu=1].percent", "cpu.load_1"]
    assert body["series"]["cpu[cpu=1].percent"] == [30.0] and body["series"]["cpu.load_1"] == [0.5]


async def test_a_row_that_appears_later_is_null_before_and_a_selector_matching_nothing_adds_nothing(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0, 11.0])
    add_boot_disk(fake_ps, 50.0)
    await publish(monitor, wall, fake_ps, [12.0])
    query = {"series": 'disks[mountpoint=~"/.*"].percent,disks[mountpoint=/nowhere].percent'}
    body = await (await client.get("/api/history", params=query)).json()
    assert [k["key"] for k in body["keys"]] == [ROOT, "disks[mountpoint=/boot].percent"]
    assert body["series"]["disks[mountpoint=/boot].percent"] == [None, None, 50.0]


async def test_a_range_read_gives_mean_min_and_max_of_each_picked_series(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0, 20.0, 30.0, 40.0])
    add_boot_disk(fake_ps, 50.0)
    await publish(monitor, wall, fake_ps, [50.0, 60.0])
    query = {"start": f"{T0:.0f}", "end": f"{T0 + 6:.0f}", "points": "3",
             "series": "disks.percent,cpu[].percent"}
    body = await (await client.get("/api/history", params=query)).json()
    series = body["series"]
    boot = "disks[mountpoint=/boot].percent"
    assert list(series) == ["timestamp", ROOT, f"{ROOT}_min", f"{ROOT}_max", boot, f"{boot}_min",
                            f"{boot}_max", "cpu.percent", "cpu.percent_min", "cpu.percent_max"]
    assert series["timestamp"] == [T0, T0 + 2, T0 + 4]
    assert series[ROOT] == [15.0, 35.0, 55.0]
    assert series[f"{ROOT}_min"] == [10.0, 30.0, 50.0] and series[f"{ROOT}_max"] == [20.0, 40.0, 60.0]
    assert series[boot] == [None, None, 50.0] and series["cpu.percent"] == [25.0] * 3
    assert [k["key"] for k in body["keys"]] == [ROOT, boot, "cpu.percent"]


async def test_csv_has_a_column_per_picked_series(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0, 20.0])
    tail = await client.get("/api/history", params={"series": ROOT, "format": "csv"})
    assert list(csv.reader(io.StringIO(await tail.text()))) == [
        ["seq", "timestamp", ROOT], ["1", str(T0), "10.0"], ["2", str(T0 + 1), "20.0"]]
    ranged = await client.get("/api/history", params={"series": ROOT, "format": "csv", "start": f"{T0:.0f}",
                                                      "end": f"{T0 + 2:.0f}", "points": "1"})
    rows = list(csv.reader(io.StringIO(await ranged.text())))
    assert rows == [["timestamp", ROOT, f"{ROOT}_min", f"{ROOT}_max"], [str(T0), "15.0", "10.0", "20.0"]]


async def test_without_series_the_answer_has_no_keys(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0])
    body = await (await client.get("/api/history")).json()
    assert "keys" not in body and "cpu_percent" in body["series"] and ROOT not in body["series"]


@pytest.mark.parametrize(("selector", "says"), [
    ("gpu.percent", "no metric group 'gpu'"),
    ("disks[mount=/].percent", "disks has no label 'mount'"),
    ("memory.total_bytes", "memory.total_bytes is not kept in history"),
    ("disks[mountpoint=/", "expected"),
    ("", "expected a group name"),
    ("memory.percent,,cpu.percent", "expected a group name"),
])
async def test_a_bad_selector_is_400_naming_series_and_saying_why(client: Client, selector: str,
                                                                  says: str) -> None:
    message = await error(await client.get("/api/history", params={"series": selector}))
    assert message.startswith("parameter 'series': ") and says in message


async def test_at_most_50_selectors_and_500_series(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10.0])
    fifty = ",".join(["memory.percent"] * 50)
    assert (await client.get("/api/history", params={"series": fifty})).status == 200
    message = await error(await client.get("/api/history", params={"series": fifty + ",cpu.percent"}))
    assert "parameter 'series': at most 50 selectors" in message
    fake_ps.partitions = [Partition(f"/dev/x{i}", f"/m{i}", "ext4", "rw") for i in range(501)]
    fake_ps.usage = {f"/m{i}": Usage(100, 10, 90, 10.0) for i in range(501)}
    await publish(monitor, wall, fake_ps, [])
    await monitor.sampler.sample_once()
    message = await error(await client.get("/api/history", params={"series": "disks.percent"}))
    assert "parameter 'series': the selectors match 502 series, at most 500" in message  # and / before


async def test_the_sqlite_store_answers_series_from_the_file_and_its_minutes(
        aiohttp_client: Callable[[web.Application], Awaitable[Client]], make_monitor: Callable[..., Monitor],
        wall: FakeClock, fake_ps: FakePsutil, tmp_path: Path) -> None:
    monitor = make_monitor(history_size=5, data_dir=tmp_path, collector_intervals=EVERY_SAMPLE)
    store = monitor.store
    assert isinstance(store, SqliteStore)
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    try:  # T0 is 20 s before a whole minute: the minutes start at T0 + 40, T0 + 100 ...
        await publish(monitor, wall, fake_ps, [float(k % 60) for k in range(150)])
        add_boot_disk(fake_ps, 50.0)
        await publish(monitor, wall, fake_ps, [1.0] * 30)
        wall.advance(60)
        assert store.flush()
        # a cursor read beyond the ring's 5 rows: from the file, series decoded
        query = {"since": "0", "limit": "200", "series": ROOT}
        tail = await (await client.get("/api/history", params=query)).json()
        assert tail["series"][ROOT] == [float(k % 60) for k in range(150)] + [1.0] * 30
        query = {"start": f"{T0 + 40:.0f}", "end": f"{T0 + 160:.0f}", "points": "2",
                 "series": "disks.percent"}
        body = await (await client.get("/api/history", params=query)).json()
        assert body["tier"] == "minute"
        # samples 40..99 (k % 60: 0..59), then 100..149 (40..59 and 0..29) and ten at 1.0
        assert body["series"][ROOT] == [29.5, round((990 + 435 + 10) / 60, 3)]
        assert body["series"][f"{ROOT}_min"] == [0.0, 0.0] and body["series"][f"{ROOT}_max"] == [59.0, 59.0]
        assert body["series"]["disks[mountpoint=/boot].percent"] == [None, 50.0]
        assert body["series"]["disks[mountpoint=/boot].percent_max"] == [None, 50.0]
    finally:
        monitor.sampler.shutdown_worker()
