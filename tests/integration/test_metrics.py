"""``/metrics``: the catalogue against a fake host, parsed back by prometheus-client's own parsers,
and the endpoint through aiohttp_client (formats, gzip, the token, one render per sample)."""

from __future__ import annotations

import dataclasses
import gzip
import re
import subprocess
import time
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import exposition, openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from perfmon import __version__
from perfmon.api.app import Monitor, create_app
from perfmon.api.endpoints.metrics.catalogue import FAMILIES
from perfmon.api.endpoints.metrics.prometheus import (
    EXPOSITION,
    Renderer,
    SampleMetrics,
    metric_names,
    render,
    wants_openmetrics,
)
from perfmon.core.schema import field
from perfmon.sampling.hub import Hub
from perfmon.sampling.sampler import Sampler
from perfmon.settings.security import Security
from tests.support.fakes import CpuFreq, FakeClock, FakePsutil, NetIO, Temperature
from tests.support.programs import program_or_skip

Client = TestClient[web.Request, web.Application]
TOKEN = "a-long-enough-token-1234"
OPENMETRICS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                      "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")  # Prometheus 2.42's


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a text exposition: (name, sorted labels) -> value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parse_text(text) for s in family.samples}


@pytest.fixture
def monitor(make_monitor: Callable[..., Monitor]) -> Monitor:
    return make_monitor(clock=time.time)


async def two_samples(monitor: Monitor, fake_ps: FakePsutil, mono: FakeClock) -> dict:
    await monitor.sampler.sample_once()
    fake_ps.nics = {**fake_ps.nics, "eth0": NetIO(12_000, 26_000, 12, 25, 1, 2, 3, 4)}
    mono.advance(1.0)
    snapshot = await monitor.sampler.sample_once()
    return snapshot.data


async def test_the_catalogue_exposes_the_sample_in_base_units(
    monitor: Monitor, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    sample = await two_samples(monitor, fake_ps, mono)
    busy = next(row for row in sample["processes"]["top_cpu"] if row["pid"] == 42)
    assert busy["cpu_percent"] == 80.0  # the monitor's priming scan gave the first sample its shares
    got = values(render(sample, openmetrics_format=False).decode())
    # as read: 1,020.125 s at the priming read, then 70 more idle of each 100 s, twice
    assert got[("perfmon_cpu_seconds_total", (("cpu", "1"), ("mode", "idle")))] == 1160.12
    assert got[("perfmon_cpu_frequency_hertz", ())] == 2.6e9  # from MHz
    assert got[("perfmon_load5", ())] == 0.25
    assert got[("perfmon_memory_available_bytes", ())] == 6 * 2**30
    fs = (("device", "/dev/sda1"), ("fstype", "ext4"), ("mountpoint", "/"))
    assert got[("perfmon_filesystem_avail_bytes", fs)] == 60 * 2**30
    assert got[("perfmon_disk_read_bytes_total", (("device", "sda"),))] == 1_000_000
    assert got[("perfmon_network_receive_bytes_total", (("interface", "eth0"),))] == 26_000
    assert got[("perfmon_network_transmit_errors_total", (("interface", "eth0"),))] == 2
    assert got[("perfmon_network_receive_drops_total", (("interface", "eth0"),))] == 3
    assert got[("perfmon_temperature_celsius", (("sensor", "coretemp Core 0"),))] == 45.0
    assert got[("perfmon_top_process_cpu_ratio", (("name", "busy"), ("pid", "42")))] == 0.8  # one core = 1
    assert got[("perfmon_top_process_memory_ratio", (("name", "fat"), ("pid", "43")))] == 0.3
    assert got[("perfmon_sample_timestamp_seconds", ())] == sample["timestamp"]
    host = sample["host"]
    info = (("hostname", host["hostname"]), ("platform", host["platform"]), ("version", __version__))
    assert got[("perfmon_info", info)] == 1
    assert {name for name, _ in got} <= metric_names() | {"perfmon_info"}


async def test_unreadable_values_are_absent_and_their_collector_counted(
    monitor: Monitor, fake_ps: FakePsutil
) -> None:
    fake_ps.freq = None
    fake_ps.failures["cpu_times_percpu"] = OSError("no /proc/stat")
    sample = (await monitor.sampler.sample_once()).data
    got = values(render(sample, openmetrics_format=False).decode())
    names = {name for name, _ in got}
    assert "perfmon_cpu_frequency_hertz" not in names and "perfmon_cpu_seconds_total" not in names
    assert "perfmon_disk_io_time_seconds_total" not in names  # the fake platform does not count it
    assert got[("perfmon_collector_errors", (("collector", "cpu"),))] == 1
    assert got[("perfmon_collector_errors", (("collector", "cpu_frequency"),))] == 1
    assert got[("perfmon_memory_total_bytes", ())] == 8 * 2**30


async def test_a_repeated_sensor_label_is_one_series(monitor: Monitor, fake_ps: FakePsutil) -> None:
    zones = [Temperature("zone", 40.0, None, None), Temperature("zone", 41.0, None, None)]
    fake_ps.temperatures = {"acpitz": zones}
    text = render((await monitor.sampler.sample_once()).data, openmetrics_format=False).decode()
    assert text.count('perfmon_temperature_celsius{sensor="acpitz zone"}') == 1  # else the scrape fails


def test_every_family_names_its_type_and_unit_as_prometheus_wants() -> None:
    for family in FAMILIES:
        assert family.name.endswith("_total") == (family.type == "counter"), family.name
        assert family.name.removesuffix("_total").endswith(f"_{family.unit}") or not family.unit
        assert family.documentation == family.help or field(family.path).description in family.documentation
        assert not {"percent", "mhz", "milli"} & set(family.name.split("_"))
        # classic names only: the renderer's faster escaping writes the same bytes for them alone
        assert re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", family.name)
        assert all(re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label) for label in family.labels)


async def test_openmetrics_carries_units_and_parses(
    monitor: Monitor, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    text = render(await two_samples(monitor, fake_ps, mono), openmetrics_format=True).decode()
    families = {f.name: f for f in parse_openmetrics(text)}
    assert text.endswith("# EOF\n")
    cpu_seconds = families["perfmon_cpu_seconds"]
    assert cpu_seconds.type == "counter" and cpu_seconds.unit == "seconds"
    assert families["perfmon_memory_total_bytes"].unit == "bytes"
    assert families["perfmon"].type == "info"


@pytest.mark.parametrize(("accept", "expected"), [
    (OPENMETRICS_ACCEPT, True), ("text/plain;version=0.0.4", False), ("", False), ("*/*", False),
    ("application/openmetrics-text; q=0", False), ("APPLICATION/OpenMetrics-Text;version=1.0.0", True),
    ("application/openmetrics-text;version=banana", True), (",;,;=", False),
])
def test_openmetrics_is_served_to_whoever_lists_it(accept: str, expected: bool) -> None:
    assert wants_openmetrics(accept) is expected


async def test_promtool_finds_nothing_to_say_about_a_real_hosts_scrape() -> None:
    promtool = program_or_skip("promtool", "prometheus")
    sampler = Sampler(Hub(1.0), lambda _: None)  # the real psutil
    try:
        await sampler.sample_once()
        snapshot = await sampler.sample_once()
    finally:
        sampler.shutdown_worker()
    text = render(snapshot.data, openmetrics_format=False)
    assert b"perfmon_cpu_seconds_total{" in text and b"perfmon_network_receive_bytes_total{" in text
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, b"", b"")


# --- the endpoint ---------------------------------------------------------------------------

@pytest.fixture
async def client(aiohttp_client: Callable[[web.Application], Awaitable[Client]], monitor: Monitor) -> Client:
    config = dataclasses.replace(monitor.config, security=Security(token=TOKEN))
    yield await aiohttp_client(create_app(config, monitor=monitor, sample=False))
    monitor.sampler.shutdown_worker()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_metrics_needs_the_token_and_a_sample(client: Client, monitor: Monitor) -> None:
    refused = await client.get("/metrics")
    assert refused.status == 401 and refused.content_type == "application/json"
    starting = await client.get("/metrics", headers=AUTH)
    assert starting.status == 503 and starting.headers["Retry-After"] == "1"
    await monitor.sampler.sample_once()
    served = await client.get("/metrics", headers=AUTH)
    assert served.status == 200
    assert served.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert served.headers["Vary"] == "Accept, Accept-Encoding"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "perfmon_memory_total_bytes 8.589934592e+09" in await served.text()


async def test_prometheus_gets_openmetrics_gzipped(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    response = await client.get("/metrics", headers={**AUTH, "Accept": OPENMETRICS_ACCEPT,
                                                     "Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.headers["Content-Type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(await response.read()).decode()
    assert text.endswith("# EOF\n") and "# UNIT perfmon_memory_total_bytes bytes" in text


async def test_each_sample_is_rendered_once_per_format_however_often_scraped(
    client: Client, monitor: Monitor
) -> None:
    exposition = client.app[EXPOSITION]
    await monitor.sampler.sample_once()
    bodies = {await (await client.get("/metrics", headers=AUTH)).read() for _ in range(3)}
    zipped = await client.get("/metrics", headers={**AUTH, "Accept-Encoding": "gzip"})
    assert len(bodies) == 1 and await zipped.read() in bodies and exposition.renders == 1
    await client.get("/metrics", headers={**AUTH, "Accept": OPENMETRICS_ACCEPT})
    assert exposition.renders == 2
    await monitor.sampler.sample_once()
    newer = await (await client.get("/metrics", headers=AUTH)).read()
    assert exposition.renders == 3 and newer not in bodies


async def test_nobody_scraping_costs_nothing(client: Client, monitor: Monitor) -> None:
    for _ in range(3):
        await monitor.sampler.sample_once()
    assert client.app[EXPOSITION].renders == 0


async def test_reused_family_bytes_make_the_same_exposition_as_one_fresh_render(
    monitor: Monitor, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    renderers = {om: Renderer(openmetrics_format=om) for om in (False, True)}
    for step in range(4):  # some families change between samples, most do not
        fake_ps.nics = {**fake_ps.nics, "eth0": NetIO(10_000 + step, 20_000, 10, 20)}
        fake_ps.freq = None if step == 2 else CpuFreq(2600.0 + step, 0.0, 0.0)
        mono.advance(1.0)
        sample = (await monitor.sampler.sample_once()).data
        fresh_text = exposition.generate_latest(SampleMetrics(sample))
        fresh_openmetrics = openmetrics.exposition.generate_latest(SampleMetrics(sample))
        assert renderers[False].render(sample) == fresh_text
        assert renderers[True].render(sample) == fresh_openmetrics


def test_guest_time_is_not_counted_twice() -> None:
    """Linux counts guest time inside user and nice: the family leaves the guest modes out."""
    cpu_seconds = next(f for f in FAMILIES if f.name == "perfmon_cpu_seconds_total")
    modes = {"user": 10.0, "guest": 4.0, "guest_nice": 1.0, "idle": 5.0}
    sample = {"cpu": {"per_cpu_seconds_total": [modes]}}
    assert cpu_seconds.series(sample) == ((("0", "user"), 10.0), (("0", "idle"), 5.0))
