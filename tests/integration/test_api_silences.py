"""/api/silences through a real server: set, listed, keeping a firing alert from its channel, lifted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from perfmon.alerts.rules import parse
from perfmon.api.app import Monitor, create_app
from tests.support.alerting import sample
from tests.support.fakes import FakePsutil, Usage

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def hooked() -> Any:
    got: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield got, str(server.make_url("/hook"))
    await server.close()


@pytest.fixture
async def served(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                 make_monitor: Callable[..., Monitor], hooked: Any, tmp_path: Any) -> Any:
    rules = parse(f"""\
builtin_rules: false
rules:
  - {{name: RootFull, select: "disks[mountpoint=/].percent", above: 90, clear: 85}}
channels:
  ops: {{type: webhook, url: "{hooked[1]}"}}
silences: [{{match: {{alertname: Never}}, until: "2100-01-01T00:00Z", comment: from the file}}]
""", "rules.yml")
    monitor = make_monitor(clock=time.time, alerts=rules, collector_intervals=(("disks", 0.1),),
                           data_dir=tmp_path / "data")
    app = create_app(monitor.config, monitor=monitor, sample=False)
    client = await aiohttp_client(app)
    yield client, monitor, app
    monitor.sampler.shutdown_worker()


async def test_a_silence_keeps_a_firing_alert_from_its_channel_until_it_is_lifted(
        served: Any, hooked: Any, fake_ps: FakePsutil) -> None:
    client, monitor, app = served
    got, _ = hooked
    asked = {"match": {"alertname": "RootFull", "mountpoint": "/"}, "until": time.time() + 3600,
             "comment": "disk swap tonight"}
    made = await client.post("/api/silences", json=asked)
    assert made.status == 201
    silence = await made.json()
    assert silence["id"].startswith("api-") and silence["source"] == "api"
    assert (silence["match"], silence["comment"]) == (asked["match"], "disk swap tonight")
    listed = (await (await client.get("/api/silences")).json())["silences"]
    assert [(s["source"], s["comment"]) for s in listed] == [("file", "from the file"),
                                                             ("api", "disk swap tonight")]
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    assert [a["state"] for a in (await (await client.get("/api/alerts")).json())["alerts"]] == ["firing"]
    lifted = await client.delete("/api/silences", params={"id": silence["id"]})
    assert lifted.status == 204
    fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    await sample(monitor, app)  # resolved: not told, as nobody heard it fire
    fake_ps.usage["/"] = Usage(100 * 2**30, 96 * 2**30, 4 * 2**30, 96.0)
    await sample(monitor, app)  # fires again, the silence lifted: told
    async with asyncio.timeout(10):
        while not got:
            await asyncio.sleep(0.005)
    assert [(n["kind"], n["alerts"][0]["value"]) for n in got] == [("firing", 96.0)]  # the first firing, no
    # resolution: the delivery loop sends in order, so anything told before this one would be here


async def test_an_alert_a_silence_kept_quiet_resolves_quietly_after_a_restart_too(
        served: Any, hooked: Any, fake_ps: FakePsutil, make_monitor: Any, tmp_path: Any,
        aiohttp_client: Any) -> None:
    client, monitor, app = served
    got, _ = hooked
    silence = await (await client.post("/api/silences", json={"match": {"alertname": "RootFull"},
                                                              "until": time.time() + 3600})).json()
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)  # fires, silenced: nobody hears of it
    assert (await client.delete("/api/silences", params={"id": silence["id"]})).status == 204
    await client.close()  # the API stops, and starts again from its data directory
    monitor.sampler.shutdown_worker()
    again = make_monitor(clock=time.time, alerts=monitor.config.alerts, data_dir=tmp_path / "data",
                         collector_intervals=(("disks", 0.1),))
    second_app = create_app(again.config, monitor=again, sample=False)
    await aiohttp_client(second_app)
    try:
        fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
        await sample(again, second_app)  # resolved after the restart: not told either
        fake_ps.usage["/"] = Usage(100 * 2**30, 96 * 2**30, 4 * 2**30, 96.0)
        await sample(again, second_app)  # fires again, no silence now: told
        async with asyncio.timeout(10):
            while not got:
                await asyncio.sleep(0.005)
        assert [(n["kind"], n["alerts"][0]["value"]) for n in got] == [("firing", 96.0)]
    finally:
        again.sampler.shutdown_worker()


async def test_silences_set_through_the_api_survive_a_restart(served: Any, make_monitor: Any, tmp_path: Any,
                                                              aiohttp_client: Any) -> None:
    client, monitor, _ = served
    asked = {"match": {"host": "db1"}, "until": "2100-01-01T00:00Z"}
    made = await (await client.post("/api/silences", json=asked)).json()
    await client.close()
    monitor.sampler.shutdown_worker()
    again = make_monitor(clock=time.time, alerts=monitor.config.alerts, data_dir=tmp_path / "data")
    second = await aiohttp_client(create_app(again.config, monitor=again, sample=False))
    try:
        listed = (await (await second.get("/api/silences")).json())["silences"]
        assert made["id"] in [s["id"] for s in listed]
    finally:
        again.sampler.shutdown_worker()


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"match": {}, "until": 4e9}, 400, "'match' must map 1 to 20 label names"),
    ({"match": {"a": 1}, "until": 4e9}, 400, "'match'"),
    ({"match": {"a": "b"}}, 400, "'until' is missing"),
    ({"match": {"a": "b"}, "until": 10}, 400, "'until' must come after"),
    ({"match": {"a": "b"}, "until": "tomorrow"}, 400, "'until' must be Unix seconds"),
    ({"match": {"a": "b"}, "until": "2100-01-01T00:00"}, 400, "with its zone"),
    ({"match": {"a": "b"}, "until": 4e9, "why": "x"}, 400, "unknown field 'why'"),
    ({"match": {"a": "b"}, "until": 4e9, "comment": "x" * 501}, 400, "'comment'"),
    ([1, 2], 400, "a JSON object"),
])
async def test_a_bad_silence_is_a_400_naming_the_field(served: Any, body: Any, status: int,
                                                       words: str) -> None:
    client, _, _ = served
    answer = await client.post("/api/silences", json=body)
    message = (await answer.json())["error"]["message"]
    assert answer.status == status and words in message, message


async def test_writes_take_json_only_refuse_other_origins_and_lift_only_what_the_api_set(served: Any) -> None:
    client, _, _ = served
    plain = await client.post("/api/silences", data='{"match": {"a": "b"}, "until": 4e9}',
                              headers={"Content-Type": "text/plain"})
    assert plain.status == 415  # a form post from a web page cannot be JSON without a preflight
    foreign = await client.post("/api/silences", json={"match": {"a": "b"}, "until": 4e9},
                                headers={"Origin": "https://evil.example"})
    assert foreign.status == 403 and "evil.example" in (await foreign.json())["error"]["message"]
    huge = await client.post("/api/silences", data=b"{" + b" " * 20000 + b"}",
                             headers={"Content-Type": "application/json"})
    assert huge.status == 413
    broken = await client.post("/api/silences", data=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert broken.status == 400
    file_silence = (await (await client.get("/api/silences")).json())["silences"][0]["id"]
    assert (await client.delete("/api/silences", params={"id": file_silence})).status == 409
    assert (await client.delete("/api/silences", params={"id": "api-0123456789ab"})).status == 404
    assert (await client.delete("/api/silences", params={"id": "nope"})).status == 400
    assert (await client.delete("/api/silences")).status == 400
    assert (await client.put("/api/silences")).status == 405
