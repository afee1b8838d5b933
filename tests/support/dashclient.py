"""The dashboard server's client as the integration tests drive it: on its own loop, on fake clocks."""

from __future__ import annotations

import asyncio
from typing import Any

from perfmon.ui.source.client import PerformanceClient
from tests.support.fakes import FakeClock


class Client:
    """The dashboard server's client on its own event loop, with ticks a poll interval apart.

    Answers are shared between tabs for most of a poll interval; ``ticks`` is the clock
    that sharing runs on, moved on by a poll interval before each tick, as a page polls.
    """

    def __init__(self, url: str, wall: FakeClock, poll_seconds: float = 5.0) -> None:
        self.runner = asyncio.Runner()
        self.ticks = FakeClock(0.0)
        self.client = PerformanceClient(url, poll_seconds, wall=wall, monotonic=self.ticks)
        self.poll_seconds = poll_seconds

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def close(self) -> None:
        self.run(self.client.close())
        self.runner.close()
