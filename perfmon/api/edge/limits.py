"""Holding up under load a host imposes: the open-files limit, and logs that a flood cannot inflate.

Each idle connection holds a file descriptor, and most Linux sessions start with a soft limit of
1,024 against a hard limit far above it, so a server raises its own soft limit at startup. When
descriptors still run out, asyncio logs ``socket.accept() out of system resource`` with a traceback
on every failed accept (19.9 MB of log in 18 s, measured here); a flood of malformed requests
would do the same through aiohttp. ``LogLimiter`` (perfmon.core.edge, shared with the dashboard) turns
either into one line per window, with a count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from perfmon.core.edge import LogLimiter as LogLimiter  # the API's modules take it from here

log = logging.getLogger(__name__)

MAX_OPEN_FILES = 1_048_576  # the soft limit we ask for when the hard one is unlimited (or higher)
ACCEPT_ERROR_WINDOW_SECONDS = 10.0
ACCEPT_ERROR_MESSAGE = "socket.accept() out of system resource"  # asyncio's context["message"]

ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


def raise_open_files_limit(cap: int = MAX_OPEN_FILES) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (at most ``cap``); returns (soft, hard) after.

    Never fails: where the limit cannot be changed the server runs with what it has, and where it
    cannot even be read (no ``resource`` module) the answer is (-1, -1).
    """
    try:
        import resource  # POSIX only
    except ImportError:
        return (-1, -1)
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as exc:
        log.debug("cannot read the open-files limit: %s", exc)
        return (-1, -1)
    target = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
    log.debug("open-files limit before: soft %d, hard %d", soft, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError) as exc:  # e.g. macOS refuses more than kern.maxfilesperproc
            log.debug("cannot raise the open-files limit to %d: %s", target, exc)
    log.debug("open-files limit after: soft %d, hard %d", soft, hard)
    return (soft, hard)


class AcceptErrorLimiter:
    """A loop exception handler: failed accepts (out of descriptors) become one line per window.

    Every other context goes to the handler that was installed before, or to asyncio's default one.
    """

    def __init__(self, previous: ExceptionHandler | None,
                 window_seconds: float = ACCEPT_ERROR_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.previous = previous
        self.limiter = LogLimiter(window_seconds, clock)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if retry_after_close(context):
            log.debug("a listening socket closed while its accepts were paused: nothing to resume")
            return
        if not str(context.get("message", "")).startswith(ACCEPT_ERROR_MESSAGE):
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        exc = context.get("exception")
        self.limiter.warning(log, "cannot accept new connections: %s; they wait in the listen backlog "
                             "until descriptors are free (close idle connections, or raise `ulimit -n`)",
                             exc if exc is not None else context.get("message"))


def retry_after_close(context: dict[str, Any]) -> bool:
    """Whether ``context`` is asyncio resuming accepts (paused after a failed accept) on a listening
    socket that was closed meanwhile, as at a stop: ``_start_serving`` finds its descriptor -1."""
    handle, exc = context.get("handle"), context.get("exception")
    callback = getattr(handle, "_callback", None)
    return (isinstance(exc, ValueError) and getattr(callback, "__name__", "") == "_start_serving"
            and str(exc) == "Invalid file descriptor: -1")


def install_accept_error_limiter(loop: asyncio.AbstractEventLoop,
                                 window_seconds: float = ACCEPT_ERROR_WINDOW_SECONDS,
                                 clock: Callable[[], float] = time.monotonic) -> AcceptErrorLimiter:
    """Make ``loop`` log failed accepts as one WARNING line per window, without a traceback.

    Idempotent: a loop that has one keeps it (a server restarted on the same loop).
    """
    current = loop.get_exception_handler()
    if isinstance(current, AcceptErrorLimiter):
        return current
    handler = AcceptErrorLimiter(current, window_seconds, clock)
    loop.set_exception_handler(handler)
    return handler
