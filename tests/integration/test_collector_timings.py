"""Each collector's last run in /api/health and /metrics, and --collectors at work, through aiohttp."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import psutil
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from perfmon.api.app import Monitor, create_app
from perfmon.sampling import registry
from tests.support.fakes import FakePsutil

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[tuple[Client, Monitor]]]


@pytest.fixture
async def serve(make_monitor: Callable[..., Monitor],
                aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> AsyncIterator[MakeClient]:
    monitors: list[Monitor] = []

    async def make(**settings: object) -> tuple[Client, Monitor]:
        monitor = make_monitor(clock=time.time, **settings)
        monitors.append(monitor)
        return await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False)), monitor

    yield make
    for monitor in monitors:
        monitor.sampler.shutdown_worker()


def scraped(text: str) -> dict[tuple[str, str], float]:
    """(metric name, collector label) -> value of the two collector families."""
    return {(s.name, s.labels["collector"]): s.value for family in parse_text(text) for s in family.samples
            if s.name.startswith(("perfmon_collector_duration", "perfmon_collector_success"))}


async def test_health_lists_every_collector_with_its_last_run(serve: MakeClient, fake_ps: FakePsutil) -> None:
    client, monitor = await serve(collectors=("-sensors",), process_interval_seconds=2.5)
    fake_ps.failures["virtual_memory"] = psutil.AccessDenied()
    before = time.time()
    await monitor.sampler.sample_once()
    body = await (await client.get("/api/health")).json()
    collectors = body["collectors"]
    assert set(collectors) == set(registry.names())
    cpu = collectors["cpu"]
    assert cpu["enabled"] is True and cpu["last_success"] is True and cpu["last_error"] is None
    assert cpu["cadence_seconds"] == 1.0 and cpu["timeout_seconds"] > 0
    assert 0 <= cpu["last_duration_seconds"] < cpu["timeout_seconds"] and cpu["last_run"] >= before - 1
    assert collectors["processes"]["cadence_seconds"] == 2.5  # --process-interval is its cadence
    assert collectors["memory"]["last_success"] is False
    assert collectors["memory"]["last_error"] == "access denied (the server's user may not read this)"
    assert collectors["sensors"] == {"enabled": False, "cadence_seconds": None, "timeout_seconds": None,
                                     "last_duration_seconds": None, "last_success": None, "last_error": None,
                                     "last_run": None}


async def test_metrics_has_each_collectors_duration_and_success(serve: MakeClient,
                                                                 fake_ps: FakePsutil) -> None:
    client, monitor = await serve(collectors=("-sensors",))
    fake_ps.failures["getloadavg"] = OSError("no /proc/loadavg")
    await monitor.sampler.sample_once()
    text = await (await client.get("/metrics")).text()
    got = scraped(text)
    assert got[("perfmon_collector_success", "cpu")] == 1.0
    assert got[("perfmon_collector_success", "load_average")] == 0.0
    assert 0 <= got[("perfmon_collector_duration_seconds", "cpu")] < 2
    assert {collector for _, collector in got} == set(registry.enabled_names(("-sensors",)))
    assert "# TYPE perfmon_collector_duration_seconds gauge" in text
    om = await (await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})).text()
    assert {f.name for f in parse_openmetrics(om)} >= {"perfmon_collector_duration_seconds",
                                                       "perfmon_collector_success"}


async def test_a_collector_switched_off_is_not_run_and_its_fields_are_null(
    serve: MakeClient, fake_ps: FakePsutil
) -> None:
    client, monitor = await serve(collectors=("cpu", "memory"))
    snapshot = await monitor.sampler.sample_once()
    assert snapshot.data["cpu"]["percent"] == 25.0 and snapshot.data["memory"]["percent"] == 25.0
    assert snapshot.data["disks"] is None and snapshot.data["processes"]["count"] is None
    assert "process_iter" not in fake_ps.calls and "disk_partitions" not in fake_ps.calls
    response = await client.get("/api/processes")
    assert response.status == 404
    assert "processes collector is off" in (await response.json())["error"]["message"]
