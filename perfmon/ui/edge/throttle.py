"""The dashboard's sign-in throttle: the edge toolkit's failure throttle (perfmon.core.edge), for sign-ins.

The same policy as the API's Bearer tokens: wrong tokens from one address are logged once a
minute, and five within a minute start a penalty (10 s, doubling up to 10 minutes) in which
its wrong sign-ins get a 429 page; the right token signs in all the same, so nobody at that
address (everyone behind one proxy) is locked out by someone else's guesses.
"""

from __future__ import annotations

import logging
import time

from perfmon.core.edge import Clock, FailureThrottle

log = logging.getLogger(__name__)


class FailedLogins(FailureThrottle):
    """Failed sign-ins per address (IPv6 by /64), their log lines and penalties."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        super().__init__(log, "dashboard sign-in", clock)
