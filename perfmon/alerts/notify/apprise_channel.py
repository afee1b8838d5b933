"""The apprise channel: Apprise's hundred-odd services, from the URLs of a file or a variable.

Optional: ``pip install 'perfmon[apprise]'``. Apprise blocks, so a send runs in a worker thread;
it reports only success or failure, which is what the outbox needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.webhook import SendError


def available() -> bool:
    """Whether Apprise is installed."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True


class AppriseChannel:
    """Sends notifications to every URL of one channel through Apprise."""

    def __init__(self, urls: Sequence[str]) -> None:
        import apprise

        self.urls = tuple(urls)
        self._apprise: Any = apprise.Apprise()
        for url in self.urls:
            if not self._apprise.add(url):
                raise ValueError(f"Apprise does not read the URL {url.split(':', 1)[0]}://...")

    async def send(self, notification: Notification) -> None:
        """Deliver one to every URL; SendError when Apprise says any failed."""
        done = await asyncio.to_thread(self._apprise.notify, title=notification.title(),
                                       body=notification.text())
        if not done:
            raise SendError(f"Apprise could not deliver to every URL of the channel ({len(self.urls)} URLs)")
