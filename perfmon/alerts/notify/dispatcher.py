"""The delivery loop: due notifications out of the outbox to their channels, with retries.

At least once: a notification leaves the outbox only once its channel took it. A failed one is
tried again after 5 s, 10 s, 20 s ... at most 5 minutes apart, for a day; then it is given up,
with one line in the log. The loop sleeps until the next one is due, or until woken by new ones.
A new one, when first due, takes the others waiting of its channel and kind into one message
(perfmon.alerts.notify.group); a retry is sent as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from perfmon.alerts.notify.group import grouped, joins
from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.outbox import Outbox
from perfmon.alerts.notify.webhook import SendError

log = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
GIVE_UP_SECONDS = 86400.0
BATCH = 20
Run = Callable[..., Awaitable[Any]]  # runs a blocking outbox call off the loop


class Sender(Protocol):
    """A channel's way to deliver one notification."""

    async def send(self, notification: Notification) -> None: ...


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return float(min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


class Dispatcher:
    """Delivers what the outbox holds."""

    def __init__(self, outbox: Outbox, senders: Mapping[str, Sender], run: Run,
                 clock: Callable[[], float] = time.time) -> None:
        self.outbox, self.senders, self._run, self._clock = outbox, senders, run, clock
        self._woken = asyncio.Event()
        self.delivered = 0  # for tests and /api/health
        self.failures = 0
        self._said: set[str] = set()

    def wake(self) -> None:
        """New notifications are in the outbox (call on the loop)."""
        self._woken.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            self._woken.clear()
            if await self.deliver_due() == BATCH:
                continue
            due = await self._run(self.outbox.next_due)
            wait = None if due is None else max(0.0, due - self._clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), wait)

    async def deliver_due(self) -> int:
        """One pass: deliver what is due now, a batch at most; how many of the outbox's were due."""
        batch = await self._run(self.outbox.due, self._clock(), BATCH)
        taken: set[str] = set()  # grouped into one sent before them
        for row, attempts in batch:
            if row["id"] not in taken:
                await self._deliver(await self._grouped(row, attempts, taken), attempts)
        return len(batch)

    async def _grouped(self, row: dict[str, Any], attempts: int, taken: set[str]) -> Notification:
        """What to send for ``row``: on its first try, it and the others waiting that join it, as one,
        settled in the outbox before it is sent (perfmon.alerts.notify.group); else ``row`` as it is."""
        if attempts > 0 or not joins(row, row):
            return Notification.from_row(row)
        waiting = await self._run(self.outbox.waiting)
        rows = [row, *(r for r in waiting if r["id"] != row["id"] and joins(r, row))]
        merged = grouped(rows)
        await self._run(self.outbox.merge, [r["id"] for r in rows],
                        {**merged.to_row(), "due": self._clock(), "settled": True})
        taken.update(r["id"] for r in rows)
        return merged

    async def _deliver(self, notification: Notification, attempts: int) -> None:
        sender = self.senders.get(notification.channel)
        try:
            if sender is None:
                raise SendError(f"the channel {notification.channel} is no longer in the rules file")
            await sender.send(notification)
        except SendError as exc:
            self.failures += 1
            self._failed(notification, attempts + 1, str(exc))
            if self._clock() - notification.created > GIVE_UP_SECONDS or sender is None:
                await self._run(self.outbox.done, notification.id)
            else:
                await self._run(self.outbox.retry, notification.id, self._clock() + backoff(attempts + 1),
                                attempts + 1)
            return
        self.delivered += 1
        await self._run(self.outbox.done, notification.id)
        if notification.channel in self._said:
            self._said.discard(notification.channel)
            log.info("channel %s delivers again", notification.channel)

    def _failed(self, notification: Notification, attempts: int, why: str) -> None:
        """One warning per channel while it fails; said again once it has recovered."""
        if notification.channel not in self._said:
            self._said.add(notification.channel)
            log.warning("cannot notify channel %s (%s: %s); trying again, for a day at most (logged once "
                        "until it delivers)", notification.channel, notification.title(), why)
        elif self._clock() - notification.created > GIVE_UP_SECONDS:
            log.error("gave up notifying channel %s of %s after %d attempts: %s", notification.channel,
                      notification.id, attempts, why)
