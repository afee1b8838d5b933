"""The webhook channel: the notification's JSON POSTed to a URL, signed when a secret is set.

Headers: ``X-Perfmon-Id`` (the notification's stable id: drop a second delivery of the same one)
and, with ``secret_file`` or ``secret_env``, ``X-Perfmon-Signature: t=<unix seconds>,sha256=<hex>``,
the HMAC-SHA256 with the secret of ``<t>.`` followed by the body's bytes (the time is signed too,
so a receiver can refuse an old message replayed). Any 2xx is delivered; anything else is tried
again later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import aiohttp

from perfmon.alerts.notify.message import Notification

USER_AGENT = "perfmon-alerts"


class SendError(Exception):
    """A delivery that failed; the message says why, in words."""


async def request(session: aiohttp.ClientSession, method: str, url: str, body: bytes | None,
                  headers: dict[str, str], timeout: float) -> None:
    """One HTTP request a channel (or the heartbeat) makes; SendError in words unless it answers 2xx."""
    try:
        async with session.request(method, url, data=body, headers=headers,
                                   timeout=aiohttp.ClientTimeout(total=timeout)) as answer:
            if not 200 <= answer.status < 300:
                raise SendError(f"{url} answered {answer.status} {answer.reason or ''}".rstrip())
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise SendError(f"cannot reach {url}: {type(exc).__name__}: {exc}".rstrip(": ")) from None


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Perfmon-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={mac}"


class Webhook:
    """POSTs notifications to one URL."""

    def __init__(self, url: str, secret: bytes | None, timeout: float,
                 session: Callable[[], aiohttp.ClientSession],
                 clock: Callable[[], float] = time.time) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout
        self._session, self._clock = session, clock

    async def send(self, notification: Notification) -> None:
        """Deliver one; SendError when the receiver did not take it."""
        body = json.dumps(notification.body(), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Perfmon-Id": notification.id}
        if self.secret is not None:
            headers["X-Perfmon-Signature"] = signature(self.secret, int(self._clock()), body)
        await request(self._session(), "POST", self.url, body, headers, self.timeout)
