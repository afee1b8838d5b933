"""Long-polling: the ``wait`` parameter, and waiting on the hub for the next sample."""

from __future__ import annotations

from aiohttp import web

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.params import Number
from perfmon.core import bounds
from perfmon.sampling.hub import Hub, ShuttingDown
from perfmon.sampling.snapshot import Snapshot

MAX_WAIT_SECONDS = bounds.WAIT_MAX_SECONDS
WAIT = Number("wait", "long-poll: when the client has the latest sample already (/api/performance: "
                      "If-None-Match names its ETag; /api/history: since is the latest seq), hold the "
                      "request up to this many seconds and answer it as soon as the next sample is "
                      "published; without a new sample by then, the usual answer (304, or no rows)",
              low=0, high=MAX_WAIT_SECONDS, low_open=True)
AFTER = Number("after", "long-poll by seq (/api/performance, with wait): while this is the latest sample's "
                        "seq, hold the request until the next one is published; any other seq (older, or "
                        "of an API that restarted since) is answered at once. A client that knows when "
                        "the next sample is due asks for it in one request, without an ETag",
               low=0, high=2**63 - 1, integer=True)


def wait_seconds(request: web.Request) -> float | None:
    """The long-poll budget asked for with ?wait=S (0 < S <= 60)."""
    return WAIT.read(request.query)


def after_seq(request: web.Request) -> int | None:
    """The seq a long-poll waits to see passed, asked for with ?after=SEQ."""
    after = AFTER.read(request.query)
    return None if after is None else int(after)


async def wait_or_shutdown(hub: Hub, after_seq: int | None, timeout: float) -> Snapshot | None:
    """Long-poll for a newer snapshot; 503 if too many wait already or the server stops meanwhile."""
    if hub.waiters >= hub.max_waiters:
        raise ApiError(503, f"{hub.waiters} requests already wait for the next sample (--max-waiters "
                            f"{hub.max_waiters}): retry in a second", {"Retry-After": "1"})
    try:
        return await hub.wait_for_sample(after_seq, timeout)
    except ShuttingDown:
        raise ApiError(503, "the server is shutting down", {"Retry-After": "1"}) from None


def starting_error() -> ApiError:
    """503 for a request that arrives before the first sample."""
    return ApiError(503, "no sample yet: the sampler is starting, retry in a second",
                    {"Retry-After": "1"})
