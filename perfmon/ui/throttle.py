"""Failed sign-ins: counted per address to refuse guessing, logged without flooding the log.

The state is bounded: each address keeps at most its last ``limit`` failures, and at most
``max_addresses`` addresses are followed (those idle longest are forgotten first). A token
has at least 16 characters, so the limit is not what makes guessing hopeless; it keeps a
guesser from costing the server and the log anything much.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5  # per address within the window; the next attempt is refused (429)
WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 4096


class FailedLogins:
    """Failures per address within a sliding window."""

    def __init__(self, limit: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS,
                 max_addresses: int = MAX_ADDRESSES, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_addresses = max_addresses
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}  # in order of the last failure, oldest first

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.get(address, deque())
        start = self.clock() - self.window_seconds
        while failures and failures[0] <= start:
            failures.popleft()
        return failures

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try again (0: it may now)."""
        failures = self._recent(address)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window_seconds - self.clock()))

    def failed(self, address: str) -> None:
        """Count a failure of ``address``."""
        failures = self._recent(address)
        failures.append(self.clock())
        while len(failures) > self.limit:
            failures.popleft()
        self._failures.pop(address, None)
        self._failures[address] = failures  # now the newest
        while len(self._failures) > self.max_addresses:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, address: str) -> None:
        """Forget the failures of ``address``: whoever typed them knows the token."""
        self._failures.pop(address, None)

    def __len__(self) -> int:
        return len(self._failures)


class LogLimiter:
    """At most ``lines`` WARNING lines per window; the rest are counted and the next line says how many."""

    def __init__(self, window_seconds: float = WINDOW_SECONDS, lines: int = MAX_FAILURES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self.lines = lines
        self._clock = clock
        self._window_end = -math.inf
        self._logged = 0  # lines in the current window
        self._suppressed = 0

    def warning(self, logger: logging.Logger, message: str, *args: object) -> bool:
        """Log ``message % args`` if the window admits it; returns whether it was logged."""
        now = self._clock()
        if now >= self._window_end:
            self._window_end, self._logged = now + self.window_seconds, 0
        if self._logged >= self.lines:
            self._suppressed += 1
            return False
        self._logged += 1
        suppressed, self._suppressed = self._suppressed, 0
        note = f"; {suppressed} more since the last such line" if suppressed else ""
        if self._logged == self.lines:
            note += f"; further ones for {self._window_end - now:.0f} s are counted, not logged"
        logger.warning(f"{message}{note}", *args)
        return True
