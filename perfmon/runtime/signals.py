"""Signals on the main thread, and stopping every component within a budget."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from perfmon.runtime.servers import Component

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_SECONDS = 1.0  # how often the main thread looks at the threads (a signal wakes it at once)
STOP_SECONDS = 4.0  # for all components together, so a stop takes under 5 s


class StopSignals:
    """While entered, SIGINT and SIGTERM request a stop instead of interrupting the main thread.

    A signal wakes ``wait`` at once: Python's C handler writes its number to a pipe
    (``signal.set_wakeup_fd``) that ``wait`` selects on, so the main thread need not wake
    several times a second to look (it cost the idle launcher 1 ms of CPU a second at five).
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self.event = threading.Event()  # lets another thread (or a test) request a stop
        self._previous: dict[int, Any] = {}
        self._pipe: tuple[int, int] | None = None
        self._previous_fd = -1

    def __enter__(self) -> StopSignals:
        read, write = os.pipe()
        for fd in (read, write):
            os.set_blocking(fd, False)
        self._pipe = (read, write)
        self._previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        if self._pipe is not None:
            for fd in self._pipe:
                os.close(fd)
            self._pipe = None

    def _record(self, signum: int, frame: FrameType | None) -> None:
        # Only append: Event.set() in a handler deadlocks if the signal lands while the main
        # thread holds that Event's lock, and raising would leave from wherever it was.
        self.received.append(signum)

    def requested(self) -> bool:
        """Whether a signal arrived or another thread asked to stop."""
        return bool(self.received) or self.event.is_set()

    def request(self) -> None:
        """Ask for a stop from any thread; wakes ``wait`` at once."""
        self.event.set()
        if self._pipe is not None:
            with contextlib.suppress(OSError):  # full (a wake is pending anyway) or closed
                os.write(self._pipe[1], b"\0")

    def wait(self, seconds: float) -> bool:
        """Sleep up to seconds (less on a signal or a ``request``); True once a stop is requested."""
        if self.requested():
            return True
        if self._pipe is None:
            self.event.wait(seconds)
            return self.requested()
        read = self._pipe[0]
        if select.select([read], [], [], seconds)[0]:
            with contextlib.suppress(OSError):
                os.read(read, 512)
        return self.requested()


def stop_all(components: Sequence[Component], timeout: float = STOP_SECONDS) -> bool:
    """Stop every component together, all within timeout; False if one is still running."""
    for component in components:
        component.stop()
    deadline = time.monotonic() + timeout
    for component in components:
        component.join(max(0.0, deadline - time.monotonic()))
    running = [component.name for component in components if component.is_alive()]
    if running:
        log.warning("still running after %g s, abandoned: %s", timeout, ", ".join(running))
    return not running


def run_until_stopped(components: Sequence[Component], stop: StopSignals) -> int:
    """Wait for a stop request or a component dying, then stop them all; returns the exit code."""
    dead = None
    while dead is None and not stop.wait(POLL_SECONDS):
        dead = next((component for component in components if not component.is_alive()), None)
    if dead is not None:
        log.error("the %s stopped unexpectedly: stopping the rest", dead.name)
    stop_all(components)
    return 1 if dead is not None else 0


