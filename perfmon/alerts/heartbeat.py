"""``heartbeat:`` of a rules file: a URL fetched while sampling is healthy (a dead-man's switch)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

from perfmon.alerts.model import Heartbeat
from perfmon.alerts.notify.webhook import USER_AGENT, SendError, request
from perfmon.alerts.readers import mapping, seconds
from perfmon.alerts.yamlfile import Located

log = logging.getLogger(__name__)


def heartbeat(node: Located | None, source: str) -> Heartbeat | None:
    """``heartbeat: {url: https://hc-ping.com/<uuid>, every: 60s}`` (every: 10 s to a day)."""
    if node is None:
        return None
    keys = mapping(node, source, "heartbeat", ("url", "every"))
    url = keys.get("url")
    if url is None or not isinstance(url.value, str) or urlsplit(url.value).scheme not in ("http", "https") \
            or not urlsplit(url.value).hostname:
        raise (url or node).at(source, "heartbeat: url must be an http:// or https:// URL")
    every = seconds(keys, "every", source, "heartbeat")
    if every is not None and not 10 <= every <= 86400:
        raise keys["every"].at(source, f"heartbeat: every must be from 10s to 1d, not "
                                       f"{keys['every'].value!r}")
    return Heartbeat(url.value, 60.0 if every is None else every, node.line)


class Pinger:
    """Fetches the heartbeat's URL every interval while ``healthy()`` says sampling is; one line in the
    log when a ping fails, and one when they work again."""

    def __init__(self, heartbeat: Heartbeat, healthy: Callable[[], bool],
                 session: Callable[[], aiohttp.ClientSession]) -> None:
        self.heartbeat, self.healthy, self._session = heartbeat, healthy, session
        self.pings = 0  # that reached the URL (for tests)
        self._failing = False

    async def run(self) -> None:
        """Ping until cancelled: at once, then every interval."""
        while True:
            if self.healthy():
                await self.ping()
            await asyncio.sleep(self.heartbeat.every_seconds)

    async def ping(self) -> None:
        """One ping; its failure is logged, never raised."""
        url = self.heartbeat.url
        try:
            await request(self._session(), "GET", url, None, {"User-Agent": USER_AGENT}, 10.0)
        except SendError as exc:
            if not self._failing:
                self._failing = True
                log.warning("heartbeat failed: %s (logged once until it works)", exc)
            return
        self.pings += 1
        if self._failing:
            self._failing = False
            log.info("heartbeat %s works again", url)
