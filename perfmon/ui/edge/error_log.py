"""The dashboard's unexpected exceptions: each kind logged once with its traceback, repeats counted.

What no page sends is refused before it reaches code that could fail on it
(:mod:`perfmon.ui.edge.payload`), so an exception that still escapes a request is a bug, and
must be seen. But one that every tick of every tab hits would write a traceback per
request (a tick's traceback is about 1.5 KB; 200 posts wrote 300 KB in 0.3 s). So the
first exception of each kind (its type and the line that raised it) is logged at ERROR
with its traceback, and its repeats are counted: one line a minute at most says how many.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
MAX_KINDS = 64  # kinds remembered; the oldest is forgotten (its next occurrence logged in full)
MAX_CHARS = 200  # of an exception's message, or of the request's path, in a line
ANSWER = "the dashboard failed answering this request; its log says why"  # the 500's message


@dataclass
class Seen:
    """One kind of failure: when its next line is due, and the repeats not logged yet."""

    due: float
    repeats: int = 0


def kind_of(exc: BaseException) -> tuple[str, str, int]:
    """An exception's kind: its type and where it was raised (the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1] if frames else None
    return (type(exc).__qualname__, where.filename if where else "", (where.lineno or 0) if where else 0)


def described(exc: BaseException) -> str:
    """``TypeError: 'int' object ...``, cut short, on one line."""
    return f"{type(exc).__name__}: {str(exc)[:MAX_CHARS]!r}"


class ErrorLog:
    """Logs exceptions to ``logger`` as their kind allows: see the module's docstring."""

    def __init__(self, logger: logging.Logger, window_seconds: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.window_seconds = window_seconds
        self._clock = clock
        self._seen: dict[tuple[str, str, int], Seen] = {}

    def report(self, exc: BaseException, request: str) -> None:
        """Log ``exc``, raised answering ``request`` ("POST /path"), as its kind allows."""
        kind, now = kind_of(exc), self._clock()
        request = repr(request[:MAX_CHARS])
        seen = self._seen.get(kind)
        if seen is None:
            if len(self._seen) >= MAX_KINDS:
                del self._seen[next(iter(self._seen))]
            self._seen[kind] = Seen(now + self.window_seconds)
            self.logger.error("the dashboard failed answering %s (a bug: please report it); repeats are "
                              "counted, one line a minute", request, exc_info=exc)
            return
        seen.repeats += 1
        if now >= seen.due:
            self.logger.error("the dashboard failed again answering %s: %s (%d times since the last "
                              "such line)", request, described(exc), seen.repeats)
            seen.due, seen.repeats = now + self.window_seconds, 0
