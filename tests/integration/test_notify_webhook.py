"""Notifications to a real webhook receiver (aiohttp, on loopback) that checks the signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from perfmon.alerts.notify import dispatcher
from perfmon.alerts.rules import parse
from perfmon.api.app import Monitor, create_app
from tests.support.alerting import sample
from tests.support.fakes import FakePsutil, Partition, Usage

Client = TestClient[web.Request, web.Application]
SECRET = "webhook-secret-0123456789"


class Receiver:
    """A webhook receiver: checks each POST's signature, keeps what it got, fails when told to."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.failing = 0  # answer this many POSTs with a 503 first
        self.arrived = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/hook", self.hook)

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = request.headers["X-Perfmon-Signature"]
        stamp, mac = dict(part.split("=", 1) for part in signed.split(",")).values()
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(mac, expected), "a bad signature"
        assert abs(int(stamp) - time.time()) < 60
        if self.failing:
            self.failing -= 1
            return web.Response(status=503)
        self.got.append((await request.json(), dict(request.headers)))
        self.arrived.set()
        return web.Response(status=204)

    async def next(self, count: int = 1) -> None:
        async with asyncio.timeout(10):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> Any:
    made = Receiver()
    server = TestServer(made.app, host="127.0.0.1")
    await server.start_server()
    made.url = str(server.make_url("/hook"))  # type: ignore[attr-defined]
    yield made
    await server.close()


@pytest.fixture
async def served(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                 make_monitor: Callable[..., Monitor], receiver: Receiver,
                 monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    rules = parse(f"""\
builtin_rules: false
rules:
  - {{name: RootFull, select: "disks[mountpoint=/].percent", above: 90, clear: 85, severity: critical}}
  - {{name: DataFull, select: "disks[mountpoint=/data].percent", above: 90, severity: critical}}
channels:
  ops: {{type: webhook, url: "{receiver.url}", secret_env: HOOK_SECRET}}
""", "rules.yml")  # type: ignore[attr-defined]
    monitor = make_monitor(clock=time.time, alerts=rules, collector_intervals=(("disks", 0.1),))
    app = create_app(monitor.config, monitor=monitor, sample=False)
    client = await aiohttp_client(app)
    yield client, monitor, app
    monitor.sampler.shutdown_worker()


async def test_a_firing_and_a_resolution_reach_the_receiver_signed_with_stable_ids(
        served: Any, receiver: Receiver, fake_ps: FakePsutil) -> None:
    _, monitor, app = served
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    began = time.monotonic()
    await sample(monitor, app)
    await receiver.next()
    assert time.monotonic() - began < 2  # the target: within 2 s of the sample that completes the rule
    body, headers = receiver.got[0]
    assert headers["X-Perfmon-Id"] == body["id"] and body["id"].startswith("pm-")
    assert (body["kind"], body["channel"], len(body["alerts"])) == ("firing", "ops", 1)
    assert body["title"].startswith("[FIRING] RootFull on ") and body["title"].endswith(
        ": mountpoint=/,device=/dev/sda1,fstype=ext4 95 > 90")
    alert = body["alerts"][0]
    assert (alert["alertname"], alert["state"], alert["value"], alert["kind"]) == ("RootFull", "firing", 95.0,
                                                                                   "firing")
    fake_ps.usage["/"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    await sample(monitor, app)
    await receiver.next(2)
    resolved = receiver.got[1][0]
    assert (resolved["kind"], resolved["alerts"][0]["reason"]) == ("resolved", "cleared")
    assert resolved["id"] != body["id"]


async def test_firings_a_sample_apart_reach_the_receiver_as_one_message_within_2_s(
        served: Any, receiver: Receiver, fake_ps: FakePsutil) -> None:
    _, monitor, app = served
    fake_ps.partitions.append(Partition("/dev/sdb1", "/data", "ext4", "rw"))
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    fake_ps.usage["/data"] = Usage(100 * 2**30, 40 * 2**30, 60 * 2**30, 40.0)
    began = time.monotonic()
    await sample(monitor, app)
    fake_ps.usage["/data"] = Usage(100 * 2**30, 96 * 2**30, 4 * 2**30, 96.0)
    await sample(monitor, app)  # the next sample: its firing joins the first one's, still waiting
    await receiver.next()
    assert time.monotonic() - began < 2
    ((body, headers),) = receiver.got
    assert [(a["alertname"], a["value"]) for a in body["alerts"]] == [("RootFull", 95.0), ("DataFull", 96.0)]
    assert body["kind"] == "firing" and body["title"].endswith(" (and 1 more)")
    assert headers["X-Perfmon-Id"] == body["id"]


async def test_a_receiver_that_fails_is_tried_again_until_it_takes_it(
        served: Any, receiver: Receiver, fake_ps: FakePsutil, monkeypatch: pytest.MonkeyPatch) -> None:
    _, monitor, app = served
    monkeypatch.setattr(dispatcher, "FIRST_RETRY_SECONDS", 0.05)  # the backoff's shape, not its pace
    receiver.failing = 2
    fake_ps.usage["/"] = Usage(100 * 2**30, 95 * 2**30, 5 * 2**30, 95.0)
    await sample(monitor, app)
    await receiver.next()
    assert receiver.failing == 0 and len(receiver.got) == 1 and receiver.got[0][0]["kind"] == "firing"


def test_the_backoff_doubles_from_5_s_to_5_minutes() -> None:
    assert [dispatcher.backoff(n) for n in (1, 2, 3, 4, 7, 20)] == [5, 10, 20, 40, 300, 300]
