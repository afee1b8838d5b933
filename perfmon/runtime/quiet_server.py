"""uvicorn's server, woken once a second instead of ten times.

uvicorn's ``main_loop`` wakes every 0.1 s to look at ``should_exit`` and, every tenth time, to
renew its ``Date`` header. An idle dashboard spent most of its CPU there (the thread's 2.7 ms
a second with no tab open, BENCHMARKS.md). This loop sleeps to the turn of each second (the
``Date`` header changes then, so it is never stale), and ``stop()`` wakes it at once, so a
stop is no slower.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import uvicorn


class QuietServer(uvicorn.Server):
    """A ``uvicorn.Server`` whose housekeeping runs once a second, and at once on ``stop()``."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    async def main_loop(self) -> None:
        """Run uvicorn's tick (its counter at 0: the Date header is renewed each time) every second."""
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        while not await self.on_tick(0):
            self._woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 1.0 - time.time() % 1.0 + 0.001)

    def stop(self) -> None:
        """Ask the server to stop, from any thread; its loop notices at once."""
        self.should_exit = True
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to wake
                loop.call_soon_threadsafe(woken.set)
