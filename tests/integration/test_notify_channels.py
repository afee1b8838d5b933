"""Each channel against a real receiver on loopback: SMTP (aiosmtpd, STARTTLS, TLS and AUTH), a
receiver that speaks ntfy's publish API (no ntfy server can be installed here: see TESTING.md),
and Apprise's json:// to an HTTP receiver."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from perfmon.alerts.heartbeat import Pinger
from perfmon.alerts.model import Heartbeat
from perfmon.alerts.notify.apprise_channel import AppriseChannel
from perfmon.alerts.notify.email import Email
from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.ntfy import Ntfy
from perfmon.alerts.notify.webhook import SendError
from tests.support.processes import free_port

ALERT = {"id": "RootFull{mountpoint=/}", "alertname": "RootFull", "state": "firing", "severity": "critical",
         "labels": {"alertname": "RootFull", "severity": "critical", "mountpoint": "/"},
         "selector": "disks.percent", "value": 96.5, "operator": ">", "threshold": 95.0, "clear": 90.0,
         "unit": "percent", "for_seconds": 0.0, "active_since": 1.0, "fired_at": 1.0,
         "summary": "over 95 % full", "at": 1.0, "kind": "firing", "reason": None}
FIRING = Notification.of("ops", "firing", 1_800_000_000.0, "db1", [ALERT])


class Mailbox:
    """aiosmtpd's handler: keeps each message, with who logged in."""

    def __init__(self) -> None:
        self.messages: list[tuple[bytes, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.content, list(envelope.rcpt_tos)))
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"perfmon", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


def smtp(ca: trustme.CA, *, implicit_tls: bool) -> tuple[Controller, Mailbox]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    box = Mailbox()
    options: dict[str, Any] = {"ssl_context": context} if implicit_tls else {
        "tls_context": context, "require_starttls": True}
    # with implicit TLS the whole session is TLS, which aiosmtpd's auth_require_tls does not count
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=not implicit_tls, **options)
    controller.start()
    return controller, box


@pytest.fixture
def starttls_server(ca: tuple[trustme.CA, Path]) -> Iterator[tuple[Controller, Mailbox]]:
    controller, box = smtp(ca[0], implicit_tls=False)
    yield controller, box
    controller.stop()


@pytest.fixture
def tls_server(ca: tuple[trustme.CA, Path]) -> Iterator[tuple[Controller, Mailbox]]:
    controller, box = smtp(ca[0], implicit_tls=True)
    yield controller, box
    controller.stop()


def email(port: int, ca_file: Path, password: str = "s3cret", **extra: Any) -> Email:
    options = {"host": "127.0.0.1", "port": port, "from": "perfmon@example",
               "to": ("ops@example", "b@example"), "username": "perfmon", "ca_file": str(ca_file), **extra}
    return Email(options, password, timeout=10)


async def test_mail_goes_over_starttls_with_a_login(starttls_server: Any, ca: Any) -> None:
    controller, box = starttls_server
    await email(controller.port, ca[1], starttls=True).send(FIRING)
    ((content, to),) = box.messages
    mail = message_from_bytes(content)
    assert to == ["ops@example", "b@example"]
    assert mail["Subject"] == "[FIRING] RootFull on db1: mountpoint=/ 96.5 > 95"
    assert mail["Message-ID"] == f"<{FIRING.id}@perfmon>" and mail["X-Perfmon-Id"] == FIRING.id
    assert "FIRING RootFull (critical) mountpoint=/: 96.5 > 95 percent; over 95 % full" in mail.get_payload()


async def test_mail_goes_over_implicit_tls_too(tls_server: Any, ca: Any) -> None:
    controller, box = tls_server
    await email(controller.port, ca[1], tls=True).send(FIRING)
    assert len(box.messages) == 1


async def test_a_wrong_password_or_an_untrusted_certificate_is_a_failure_in_words(
        starttls_server: Any, ca: Any, tmp_path: Path) -> None:
    controller, box = starttls_server
    with pytest.raises(SendError, match="refused the login of perfmon: 535"):
        await email(controller.port, ca[1], password="wrong", starttls=True).send(FIRING)
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(SendError, match="CERTIFICATE_VERIFY_FAILED"):
        await email(controller.port, other, starttls=True).send(FIRING)
    with pytest.raises(SendError, match=r"cannot send through 127\.0\.0\.1"):
        await email(free_port(), ca[1], starttls=True).send(FIRING)
    assert box.messages == []


class Receiver:
    """An HTTP receiver that keeps each request (ntfy's publish API is a POST to the topic)."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.app = web.Application()
        self.app.router.add_post("/{topic}", self.publish)

    async def publish(self, request: web.Request) -> web.Response:
        self.got.append((request.match_info["topic"], dict(request.headers), await request.read()))
        return web.json_response({"id": "x", "event": "message"}, status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    made = Receiver()
    server = TestServer(made.app, host="127.0.0.1")
    await server.start_server()
    yield made, str(server.make_url("")).rstrip("/")
    await server.close()


async def test_ntfy_gets_the_title_priority_tags_and_token(receiver: Any) -> None:
    got, base = receiver
    async with aiohttp.ClientSession() as session:
        channel = Ntfy(f"{base}/perfmon-alerts", "tk_abc", None, ("server",), 10, lambda: session)
        await channel.send(FIRING)
        resolved = Notification.of("ops", "resolved", 1_800_000_100.0, "db1", [{**ALERT, "kind": "resolved"}])
        await channel.send(resolved)
        got.status = 429
        with pytest.raises(SendError, match="answered 429"):
            await channel.send(FIRING)
    (topic, headers, body), (_, later, _), _ = got.got
    assert topic == "perfmon-alerts" and body.decode().startswith("FIRING RootFull (critical) mountpoint=/")
    assert (headers["Title"], headers["Priority"]) == (FIRING.title(), "5")
    assert headers["Tags"] == "rotating_light,server"
    assert headers["Authorization"] == "Bearer tk_abc" and headers["X-Perfmon-Id"] == FIRING.id
    assert (later["Priority"], later["Tags"]) == ("3", "white_check_mark,server")


async def test_apprise_delivers_through_its_json_scheme(receiver: Any) -> None:
    got, base = receiver
    channel = AppriseChannel([base.replace("http://", "json://") + "/apprise"])
    await channel.send(FIRING)
    ((topic, _, body),) = got.got
    assert topic == "apprise" and b"RootFull" in body
    with pytest.raises(ValueError, match="Apprise does not read the URL nonsense://"):
        AppriseChannel(["nonsense://x"])
    got.status = 500
    with pytest.raises(SendError, match="Apprise could not deliver"):
        await channel.send(FIRING)
    await asyncio.sleep(0)


class Pings:
    """A push monitor's URL (healthchecks.io, Uptime Kuma): counts the GETs, fails when told to."""

    def __init__(self) -> None:
        self.count, self.status = 0, 200
        self.app = web.Application()
        self.app.router.add_get("/ping/{uuid}", self.ping)

    async def ping(self, request: web.Request) -> web.Response:
        self.count += 1
        return web.Response(text="OK", status=self.status)


async def test_the_heartbeat_pings_only_while_sampling_is_healthy_and_says_a_failure_once(
        caplog: pytest.LogCaptureFixture) -> None:
    pings = Pings()
    server = TestServer(pings.app, host="127.0.0.1")
    await server.start_server()
    checks: list[bool] = []

    def healthy() -> bool:  # unhealthy for the first three looks, then healthy
        checks.append(len(checks) >= 3)
        return checks[-1]

    try:
        async with aiohttp.ClientSession() as session:
            beat = Heartbeat(str(server.make_url("/ping/abc")), every_seconds=0.01)
            pinger = Pinger(beat, healthy, lambda: session)
            task = asyncio.create_task(pinger.run())
            async with asyncio.timeout(10):
                while pinger.pings < 2:
                    await asyncio.sleep(0.005)
            task.cancel()
            assert checks[:3] == [False, False, False] and pings.count == pinger.pings >= 2
            pings.status = 500
            with caplog.at_level(logging.WARNING):
                await pinger.ping()
                await pinger.ping()
            (said,) = [r.getMessage() for r in caplog.records]  # two failures, one line
            assert said.startswith(f"heartbeat failed: {beat.url} answered 500")
    finally:
        await server.close()
