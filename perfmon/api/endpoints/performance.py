"""GET /api/performance: the latest sample, 304 while it is unchanged, and long-polls for the next one.

Handlers read the hub (latest snapshot, process table, long-poll waiters) and the
history store from the application; they never see the sampler.
"""

from __future__ import annotations

from aiohttp import web

from perfmon.api.edge.responses import etag_matches, not_modified, sends_gzip, snapshot_response
from perfmon.api.endpoints.longpoll import after_seq, starting_error, wait_or_shutdown, wait_seconds
from perfmon.api.endpoints.prebuilt import wait_parked
from perfmon.api.endpoints.state import HUB


async def performance(request: web.Request) -> web.StreamResponse:
    """GET /api/performance: the latest snapshot, 304 if unchanged, long-poll with ?wait=S.

    The long-poll holds while the client has the latest sample: If-None-Match names it, or
    ``after`` is its seq. It ends when the next sample is published or ``wait`` ends, so no poll
    outlasts an interval: an ``after`` that is not the latest seq (older, or ahead of this API,
    which restarted since) is answered at once.
    """
    hub = request.app[HUB]
    wait, after = (wait_seconds(request), after_seq(request)) if request.query_string else (None, None)
    snapshot = hub.latest
    if snapshot is None and wait:
        snapshot = await wait_or_shutdown(hub, None, wait)  # the first sample is news to anyone
    if snapshot is None:
        raise starting_error()
    unchanged = etag_matches(request, snapshot.etag, snapshot.etag_gzip)
    if wait and (unchanged or after == snapshot.seq):
        answer = await wait_parked(request, hub, snapshot, wait)
        if answer is not None:
            return answer
    if unchanged:  # a 304 names the tag of what a 200 would send this client now (RFC 9110 15.4.5)
        return not_modified(snapshot.etag_gzip if sends_gzip(request, snapshot) else snapshot.etag)
    return snapshot_response(request, snapshot)
