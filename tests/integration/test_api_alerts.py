"""/api/alerts and /api/alerts/history through a real server: the rules evaluated on every sample."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator, ValidationError

from perfmon.alerts import stall
from perfmon.alerts.rules import parse
from perfmon.api.app import Monitor, create_app
from perfmon.api.endpoints.state import ALERTS
from tests.support.alerting import sample
from tests.support.fakes import FakePsutil, Usage

Client = TestClient[web.Request, web.Application]
RULES = """\
builtin_rules: false
rules:
  - {name: RootFull, select: "disks[mountpoint=/].percent", above: 90, clear: 85, severity: critical,
     summary: the root filesystem is full, labels: {team: ops}}
"""


@pytest.fixture
async def served(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                 make_monitor: Callable[..., Monitor]) -> Any:
    monitor = make_monitor(clock=time.time, alerts=parse(RULES, "rules.yml"),
                           collector_intervals=(("disks", 0.1),))
    app = create_app(monitor.config, monitor=monitor, sample=False)
    client = await aiohttp_client(app)
    yield client, monitor, app
    monitor.sampler.shutdown_worker()


async def test_a_filling_disk_fires_shows_and_resolves(served: Any, fake_ps: FakePsutil) -> None:
    client, monitor, app = served
    await sample(monitor, app)
    quiet = await (await client.get("/api/alerts")).json()
    none = {"info": 0, "warning": 0, "critical": 0}
    assert (quiet["alerts"], quiet["rules"], quiet["firing"]) == ([], 1, none)
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    answer = await client.get("/api/alerts")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-cache"
    body = await answer.json()
    (alert,) = body["alerts"]
    assert {k: alert[k] for k in ("id", "alertname", "state", "severity", "value", "operator", "threshold",
                                  "clear", "unit", "summary")} == {
        "id": "RootFull{mountpoint=/}", "alertname": "RootFull", "state": "firing", "severity": "critical",
        "value": 95.0, "operator": ">", "threshold": 90.0, "clear": 85.0, "unit": "percent",
        "summary": "the root filesystem is full"}
    assert alert["labels"] == {"alertname": "RootFull", "severity": "critical", "mountpoint": "/",
                               "device": "/dev/sda1", "fstype": "ext4", "team": "ops"}
    assert body["firing"] == {"info": 0, "warning": 0, "critical": 1} and body["samples_evaluated"] == 2
    fake_ps.usage["/"] = Usage(100 * 2**30, 87 * 2**30, 13 * 2**30, 87.0)
    await sample(monitor, app)  # under the trigger, over clear: still firing
    assert [a["state"] for a in (await (await client.get("/api/alerts")).json())["alerts"]] == ["firing"]
    fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    await sample(monitor, app)
    assert (await (await client.get("/api/alerts")).json())["alerts"] == []
    history = await (await client.get("/api/alerts/history")).json()
    assert [(t["kind"], t["reason"], t["value"]) for t in history["transitions"]] == [
        ("firing", None, 95.0), ("resolved", "cleared", 40.0)]
    assert history["end"] - history["start"] == 86400


async def test_the_history_takes_a_range(served: Any, fake_ps: FakePsutil) -> None:
    client, monitor, app = served
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    fired = app[ALERTS].history[0].at
    inside = await (await client.get(f"/api/alerts/history?start={fired - 1}&end={fired + 1}")).json()
    assert len(inside["transitions"]) == 1
    before = await (await client.get(f"/api/alerts/history?start={fired - 10}&end={fired}")).json()
    assert before["transitions"] == []  # end is not included


@pytest.mark.parametrize(("query", "words"), [
    ("start=abc", "'start'"), ("end=-1", "'end'"),
    ("start=10&end=5", "'start' (10) must come before 'end' (5)"),
    ("start=5&end=5", "must come before"), ("end=99999999999", "'end'"),
])
async def test_a_bad_range_is_400_naming_the_parameter(served: Any, query: str, words: str) -> None:
    client, _, _ = served
    answer = await client.get(f"/api/alerts/history?{query}")
    body = await answer.json()
    assert answer.status == 400 and words in body["error"]["message"], body


async def test_with_no_rules_file_the_built_in_rules_run_and_say_nothing_on_a_quiet_host(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], make_monitor: Callable[..., Monitor],
) -> None:
    monitor = make_monitor(clock=time.time)
    app = create_app(monitor.config, monitor=monitor, sample=False)
    client = await aiohttp_client(app)
    try:
        await sample(monitor, app)
        body = await (await client.get("/api/alerts")).json()
        assert (body["rules"], body["alerts"], body["samples_evaluated"]) == (10, [], 1)  # SamplerStalled too
    finally:
        monitor.sampler.shutdown_worker()


async def test_the_answers_conform_to_the_openapi_document(served: Any, fake_ps: FakePsutil) -> None:
    client, monitor, app = served
    document = await (await client.get("/api/openapi.json")).json()

    def conforms(path: str, body: Any) -> None:
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": document["components"]}).validate(body)

    await sample(monitor, app)
    conforms("/api/alerts", await (await client.get("/api/alerts")).json())  # none, nothing evaluated yet
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    firing = await (await client.get("/api/alerts")).json()
    assert len(firing["alerts"]) == 1
    conforms("/api/alerts", firing)
    fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    await sample(monitor, app)
    history = await (await client.get("/api/alerts/history")).json()
    assert len(history["transitions"]) == 2
    conforms("/api/alerts/history", history)
    conforms("/api/alerts/rules", await (await client.get("/api/alerts/rules")).json())
    with pytest.raises(ValidationError):  # the schema says something: a wrong state fails it
        conforms("/api/alerts", {**firing, "alerts": [{**firing["alerts"][0], "state": "burning"}]})


async def test_metrics_carry_each_firing_alert_labelled_as_it_is(served: Any, fake_ps: FakePsutil) -> None:
    client, monitor, app = served
    await sample(monitor, app)
    quiet = await (await client.get("/metrics")).text()
    assert "# TYPE perfmon_alert_firing gauge" in quiet and "\nperfmon_alert_firing{" not in quiet
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    firing = await (await client.get("/metrics")).text()
    assert ('\nperfmon_alert_firing{alertname="RootFull",device="/dev/sda1",fstype="ext4",mountpoint="/",'
            'severity="critical",team="ops"} 1.0\n') in firing
    asked = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    openmetrics = await asked.text()
    assert 'perfmon_alert_firing{alertname="RootFull"' in openmetrics and openmetrics.endswith("# EOF\n")
    fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    await sample(monitor, app)
    assert "\nperfmon_alert_firing{" not in await (await client.get("/metrics")).text()


async def test_the_rules_are_listed_as_read(served: Any) -> None:
    client, _, _ = served
    answer = await client.get("/api/alerts/rules")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-cache"
    (rule,) = (await answer.json())["rules"]
    assert rule == {
        "name": "RootFull", "selector": "disks[mountpoint=/].percent", "group": "disks", "field": "percent",
        "rows": True, "operator": ">", "threshold": 90.0, "clear": 85.0, "unit": "percent",
        "for_seconds": 0.0, "severity": "critical", "repeat_seconds": None, "notify": None,
        "summary": "the root filesystem is full", "labels": {"team": "ops"}, "divide_by": None,
        "predict": None, "builtin": False}


async def test_built_in_rules_say_so_with_their_divisor_and_prediction(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], make_monitor: Callable[..., Monitor],
) -> None:
    monitor = make_monitor(clock=time.time)
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    try:
        rules = {r["name"]: r for r in (await (await client.get("/api/alerts/rules")).json())["rules"]}
        assert (rules["HighLoad"]["divide_by"], rules["HighLoad"]["field"]) == ("cpu.count_logical", "load_1")
        assert rules["FilesystemAlmostFull"]["predict"] == {"window_seconds": 21600.0,
                                                            "ahead_seconds": 86400.0, "reaches": 100.0}
        assert all(r["builtin"] for r in rules.values()) and len(rules) == 10
        assert rules["SamplerStalled"]["threshold"] == 30.0 and rules["SamplerStalled"]["for_seconds"] == 120
    finally:
        monitor.sampler.shutdown_worker()


async def test_each_transition_counts_and_a_silence_shows_on_the_alert_it_covers(
    served: Any, fake_ps: FakePsutil,
) -> None:
    client, monitor, app = served
    await sample(monitor, app)
    assert (await (await client.get("/api/alerts")).json())["transitions"] == 0
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    body = await (await client.get("/api/alerts")).json()
    assert body["transitions"] == 1 and body["alerts"][0]["silenced_by"] == []
    until = time.time() + 60
    other = await client.post("/api/silences", json={"match": {"mountpoint": "/home"}, "until": until})
    mine = await client.post("/api/silences", json={"match": {"alertname": "RootFull",
                                                              "host": app[ALERTS].host}, "until": until})
    assert other.status == mine.status == 201
    body = await (await client.get("/api/alerts")).json()
    assert body["alerts"][0]["silenced_by"] == [(await mine.json())["id"]]
    fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    await sample(monitor, app)
    assert (await (await client.get("/api/alerts")).json())["transitions"] == 2


async def test_a_sampler_that_stops_is_told_by_the_watch_on_a_clock_and_the_next_sample_clears_it(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], make_monitor: Callable[..., Monitor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stall, "MIN_SECONDS", 0.2)  # not 30 s and two minutes: the watch itself is tested
    monkeypatch.setattr(stall, "FOR_SECONDS", 0.0)
    monitor = make_monitor(clock=time.time, interval_seconds=0.1)
    app = create_app(monitor.config, monitor=monitor, sample=False)  # no sampler: only the samples we take
    client = await aiohttp_client(app)
    try:
        await sample(monitor, app)
        async with asyncio.timeout(10):  # the watch looks every second
            while not [a for a in (await (await client.get("/api/alerts")).json())["alerts"]
                       if a["alertname"] == "SamplerStalled" and a["state"] == "firing"]:
                await asyncio.sleep(0.05)
        await sample(monitor, app)
        body = await (await client.get("/api/alerts")).json()
        assert body["alerts"] == []
        history = (await (await client.get("/api/alerts/history")).json())["transitions"]
        assert [(t["alertname"], t["kind"]) for t in history] == [("SamplerStalled", "firing"),
                                                                 ("SamplerStalled", "resolved")]
    finally:
        monitor.sampler.shutdown_worker()
