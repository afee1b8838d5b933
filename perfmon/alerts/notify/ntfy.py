"""The ntfy channel: ntfy's publish API (a POST of the text to the topic's URL, the title and the
priority in headers), as ntfy.sh or a self-hosted ntfy server takes it.

Priority follows the severity (info 3, warning 4, critical 5) unless the channel says one;
resolutions go at the default priority with the ``white_check_mark`` tag. A token (``token_file``
or ``token_env``) is sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import aiohttp

from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.webhook import USER_AGENT, request

PRIORITY = {"info": "3", "warning": "4", "critical": "5"}
NAMED = {"min": "1", "low": "2", "default": "3", "high": "4", "max": "5"}
TAGS = {"firing": "rotating_light", "repeat": "rotating_light", "resolved": "white_check_mark",
        "test": "test_tube"}


class Ntfy:
    """Publishes notifications to one ntfy topic."""

    def __init__(self, url: str, token: str | None, priority: object, tags: Sequence[str], timeout: float,
                 session: Callable[[], aiohttp.ClientSession]) -> None:
        self.url, self.token, self.timeout, self._session = url, token, timeout, session
        self.priority = None if priority is None else NAMED.get(str(priority), str(priority))
        self.tags = tuple(tags)

    def headers(self, notification: Notification) -> dict[str, str]:
        """The publish request's headers."""
        severities = [a["severity"] for a in notification.alerts]
        worst = max(severities, key=list(PRIORITY).index) if severities else "info"
        priority = "3" if notification.kind in ("resolved", "test") else self.priority or PRIORITY[worst]
        headers = {"Title": notification.title(), "Priority": priority, "User-Agent": USER_AGENT,
                   "Tags": ",".join((TAGS[notification.kind], *self.tags)), "X-Perfmon-Id": notification.id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def send(self, notification: Notification) -> None:
        """Publish one; SendError when the server did not take it."""
        await request(self._session(), "POST", self.url, notification.text().encode(),
                      self.headers(notification), self.timeout)
