"""The hub: what the sampler published, and the requests waiting for the next sample.

Request handlers read the hub (and the history store), never the sampler: the latest
snapshot with its ETag, the latest process table, and one event that wakes every
long-polling request at once when a sample is published.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from perfmon.sampling.snapshot import ProcessTable, Snapshot


class ShuttingDown(Exception):
    """The server stopped while a request was waiting for a sample."""


class Hub:
    """The latest snapshot and process table of one server instance, and its long-poll waiters."""

    def __init__(self, interval_seconds: float, *, clock: Callable[[], float] = time.time,
                 instance_id: str | None = None, max_waiters: int = 10_000) -> None:
        self.instance_id = instance_id or uuid.uuid4().hex[:12]
        self.interval_seconds = interval_seconds
        self.started_at = clock()
        self.latest: Snapshot | None = None
        self.processes: ProcessTable | None = None
        # Each collector's state as of the latest snapshot (perfmon.sampling.slot.Slot.status), set by the
        # sampler just before it publishes: /api/health and /metrics read it.
        self.collectors: Mapping[str, Mapping[str, Any]] = {}
        self.waiters = 0  # requests parked in wait_for_sample right now
        self.max_waiters = max_waiters  # the most that may be parked at once (the API refuses more)
        self._changed = asyncio.Event()
        self._closed = False
        # Called with each new snapshot before the waiters wake: the API answers parked
        # long-polls from here, all at once, rather than one woken task at a time.
        self.on_publish: list[Callable[[Snapshot], None]] = []

    def publish(self, snapshot: Snapshot, table: ProcessTable | None = None) -> None:
        """Make a snapshot (and a new process scan) current and wake everyone waiting."""
        if table is not None:
            self.processes = table
        self.latest = snapshot
        for listener in self.on_publish:
            listener(snapshot)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_sample(self, after_seq: int | None, timeout: float) -> Snapshot | None:
        """The first snapshot newer than ``after_seq``, or None if ``timeout`` passes first."""
        deadline = asyncio.get_running_loop().time() + timeout
        self.waiters += 1
        try:
            while self.latest is None or (after_seq is not None and self.latest.seq <= after_seq):
                if self._closed:
                    raise ShuttingDown
                try:
                    async with asyncio.timeout_at(deadline):
                        await self._changed.wait()
                except TimeoutError:
                    return None
            return self.latest
        finally:
            self.waiters -= 1

    def close(self) -> None:
        """Release every waiting request: the server is stopping."""
        self._closed = True
        self._changed.set()

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed
