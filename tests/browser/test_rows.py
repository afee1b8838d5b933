"""The dashboard shows the rows, in Chromium: a card per disk, interface, sensor and filesystem, a trace each.

A fake host (the real API over a fake psutil, sampled by this test every 0.5 s, on a real
loopback socket) has two disks, two filesystems, two interfaces and two sensors; the real
dashboard server, in this process, polls it every second. The page shows two cards and two
traces (a read and a write for each disk) per group; then a third disk, interface and sensor
appear on the host, and the page adds their cards and traces without a reload, while the
others keep their colours and go on appending points and updating values. Skips without
Chromium, except under ``CI=true``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import DashboardConfig, ServerConfig
from perfmon.ui.app import create_dashboard
from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip
from tests.support.apiserver import ServedApi
from tests.support.fakes import DiskIO, FakePsutil, NetIO, NicStats, Partition, Temperature, Usage

TIMEOUT_MS = 30_000
SAMPLE_EVERY_S = 0.5  # 5 minutes are 600 samples: the charts follow them one by one
CARDS_JS = "(group) => document.querySelectorAll('#rows-' + group + '-cards .row-card').length"
# name, colour and how many values of each trace of a group's chart
TRACES_JS = ("(group) => { const plot = document.querySelector('#graph-rows-' + group + ' .js-plotly-plot');"
             " if (!plot || !plot.data) return []; return plot.data.map((t) => [t.name, t.line.color,"
             " (t.y || []).filter((v) => v !== null).length]); }")
VALUE_JS = ("([row, i]) => { const id = JSON.stringify({i: i, row: row, type: 'row-value'});"
            " const el = document.getElementById(id); return el ? el.textContent : null; }")


@dataclass
class Host:
    """The fake host, its API and the dashboard's URL; ``lock`` guards the fake between samples."""

    ps: FakePsutil
    api: ServedApi
    url: str
    lock: threading.Lock


def two_of_everything(ps: FakePsutil) -> None:
    """Two disks, two filesystems, two interfaces, two sensors."""
    ps.disks = {"sda": DiskIO(100, 50, 1_000_000, 500_000), "sdb": DiskIO(10, 5, 100_000, 50_000)}
    ps.partitions = [Partition("/dev/sda1", "/", "ext4", "rw"), Partition("/dev/sdb1", "/data", "xfs", "rw")]
    ps.usage = {"/": Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0),
                "/data": Usage(500 * 2**30, 485 * 2**30, 15 * 2**30, 97.0)}
    ps.nics = {"eth0": NetIO(10_000, 20_000, 10, 20), "lo": NetIO(5_000, 5_000, 5, 5)}
    ps.temperatures = {"coretemp": [Temperature("Core 0", 45.0, 80.0, 100.0),
                                    Temperature("Core 1", 47.0, 80.0, 100.0)]}


def grow(ps: FakePsutil, lock: threading.Lock, step: int) -> None:
    """Every counter moves on, so each sample has new rates."""
    with lock:
        ps.disks = {name: DiskIO(c.read_count + 1, c.write_count + 1, c.read_bytes + 4096 * step,
                                 c.write_bytes + 8192) for name, c in ps.disks.items()}
        ps.nics = {name: NetIO(n.bytes_sent + 1000, n.bytes_recv + 2000 * step, 1, 1)
                   for name, n in ps.nics.items()}


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    ps, lock = FakePsutil(), threading.Lock()
    two_of_everything(ps)
    config = ServerConfig(interval_seconds=SAMPLE_EVERY_S)
    monitor = Monitor.build(config, ps=ps, clock=time.time, monotonic=time.monotonic,
                            whole_disk=lambda _: True)
    api = ServedApi(monitor).start()
    stop = threading.Event()

    def sampler() -> None:  # the host's own cadence, as the API's sampler keeps it
        step = 0
        while not stop.wait(SAMPLE_EVERY_S):
            step += 1
            grow(ps, lock, step)
            with lock:
                api.sample()

    thread = threading.Thread(target=sampler, name="fake-host", daemon=True)
    api.sample()
    thread.start()
    config_ui = DashboardConfig(api_url=api.url, poll_interval_seconds=1)
    dashboard = DashboardServerThread(replace(config_ui, port=0), app=create_dashboard(config_ui))
    dashboard.start()
    yield Host(ps, api, dashboard.url, lock)
    dashboard.stop()
    dashboard.join(10)
    stop.set()
    thread.join(10)
    api.close()


def wait_for(page: Any, js: str, arg: Any, predicate: str) -> Any:
    """Wait until ``predicate`` (JS, of ``v``) holds for ``js(arg)``; return ``js(arg)`` then."""
    page.wait_for_function(f"(arg) => {{ const v = ({js})(arg); return {predicate}; }}", arg=arg,
                           timeout=TIMEOUT_MS)
    return page.evaluate(js, arg)


def test_two_disks_show_two_and_a_third_that_appears_is_added_without_a_reload(host: Host) -> None:
    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(host.url, timeout=TIMEOUT_MS)
        for group in ("disk_io", "disks", "network", "sensors"):
            assert wait_for(page, CARDS_JS, group, "v === 2") == 2, group
        traces = wait_for(page, TRACES_JS, "disk_io", "v.length === 4 && v.every((t) => t[2] >= 2)")
        assert [t[0] for t in traces] == ["sda read", "sda write", "sdb read", "sdb write"]
        assert traces[0][1] != traces[2][1]  # a colour per disk
        assert [t[0] for t in page.evaluate(TRACES_JS, "sensors")] == ["coretemp Core 0", "coretemp Core 1"]
        assert [t[0] for t in page.evaluate(TRACES_JS, "network")] == [
            "eth0 sent", "eth0 recv", "lo sent", "lo recv"]
        assert page.evaluate(VALUE_JS, ["disks[mountpoint=/data]", 3]) == "97.0 %"
        assert "crit" in page.locator("#rows-disks-cards .row-card").nth(1).get_attribute("class")
        # the values on the cards follow the host (set by their row ids, not redrawn)
        first = page.evaluate(VALUE_JS, ["network[interface=eth0]", 1])
        wait_for(page, VALUE_JS, ["network[interface=eth0]", 1], f"v !== {first!r}")
        page.evaluate("() => { window.notReloaded = true; }")
        with host.lock:
            host.ps.disks["sdc"] = DiskIO(1, 1, 4096, 4096)
            host.ps.nics["wlan0"] = NetIO(1, 1, 1, 1)
            host.ps.nic_stats["wlan0"] = NicStats(True, 0, 100, 1500, "up")
            host.ps.temperatures = {"coretemp": [*host.ps.temperatures["coretemp"],
                                                 Temperature("Core 2", 50.0, 80.0, 100.0)]}
        for group in ("disk_io", "network", "sensors"):
            assert wait_for(page, CARDS_JS, group, "v === 3") == 3, group
        later = wait_for(page, TRACES_JS, "disk_io", "v.length === 6 && v.every((t) => t[2] >= 2)")
        assert [t[0] for t in later] == ["sda read", "sda write", "sdb read", "sdb write", "sdc read",
                                        "sdc write"]
        assert [t[1] for t in later[:4]] == [t[1] for t in traces]  # the disks there before keep colours
        assert page.evaluate(CARDS_JS, "disks") == 2  # the filesystems did not change
        assert page.evaluate("() => window.notReloaded === true")
        assert len(page.evaluate(TRACES_JS, "sensors")) == 3
        browser.close()
    assert errors == []
