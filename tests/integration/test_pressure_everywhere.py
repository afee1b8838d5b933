"""The pressure group, one declaration and one collector, reaches every output with no edit of its own.

Real aiohttp app over the fake psutil, its procfs the recorded tree of this machine
(``tests/fixtures/pressure/linux-6.18``): the sample, history by selector, ``/metrics`` and the
OpenAPI document all carry it; no module outside ``core/metrics/groups/pressure.py`` and
``sampling/collectors/pressure.py`` names it.
"""

from __future__ import annotations

import tokenize
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from perfmon.api.app import Monitor, create_app
from tests.support.fakes import FakeClock

Client = TestClient[web.Request, web.Application]
PACKAGE = Path(__file__).resolve().parents[2] / "perfmon"
SOME_CPU = "pressure[resource=cpu,kind=some].avg10_percent"


@pytest.fixture
async def client(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                 make_monitor: Callable[..., Monitor]) -> AsyncIterator[tuple[Client, Monitor]]:
    monitor = make_monitor()
    yield await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False)), monitor
    monitor.sampler.shutdown_worker()


async def test_pressure_is_in_the_sample_history_metrics_and_the_document(
        client: tuple[Client, Monitor], wall: FakeClock) -> None:
    http, monitor = client
    for _ in range(3):
        await monitor.sampler.sample_once()
        wall.advance(1.0)
    sample = await (await http.get("/api/performance")).json()
    rows = {(r["resource"], r["kind"]): r for r in sample["pressure"]}
    assert set(rows) == {(r, k) for r in ("cpu", "memory", "io") for k in ("some", "full")}
    assert rows["cpu", "some"]["stalled_seconds_total"] > 0
    picked = {"series": "pressure[kind=some].avg10_percent"}
    history = await (await http.get("/api/history", params=picked)).json()
    assert [k["key"] for k in history["keys"]] == [
        f"pressure[resource={r},kind=some].avg10_percent" for r in ("cpu", "memory", "io")]
    assert history["series"][SOME_CPU] == [rows["cpu", "some"]["avg10_percent"]] * 3
    metrics = await (await http.get("/metrics")).text()
    assert "# TYPE perfmon_pressure_stalled_seconds_total counter" in metrics
    assert 'perfmon_pressure_stalled_seconds_total{kind="some",resource="cpu"}' in metrics or \
        'perfmon_pressure_stalled_seconds_total{resource="cpu",kind="some"}' in metrics
    document = await (await http.get("/api/openapi.json")).json()
    pressure = document["components"]["schemas"]["Sample"]["properties"]["pressure"]
    assert pressure["x-group"] == "pressure" and pressure["x-key"] == ["resource", "kind"]


def names_in_code(path: Path) -> set[str]:
    """The identifiers of a module's code (its docstrings, comments and messages left out)."""
    with path.open("rb") as source:
        return {t.string for t in tokenize.tokenize(source.readline) if t.type == tokenize.NAME}


def test_no_code_but_the_declaration_the_collector_and_the_two_registrations_names_the_group() -> None:
    naming = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                    if p.name != "pressure.py" and {"pressure", "Pressure", "PressureRow"} & names_in_code(p))
    # the two registries import it, and core/shapes.py is generated (python -m perfmon.core.shapes_gen)
    assert naming == ["core/metrics/registry.py", "core/shapes.py", "sampling/registry.py"]
