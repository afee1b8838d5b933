"""Failed authentications per client address: logged without flooding, and guessers slowed down.

A token of 16+ random characters cannot be guessed over HTTP, but an address that keeps
sending wrong ones still costs log lines and CPU, and a short token would be at risk. So:

- Every failure is a WARNING naming the address and the reason ("no token", "wrong token",
  "not a Bearer token"), never the token or the Authorization header; one line per address per
  minute, the rest counted (:class:`LogLimiter`).
- ``MAX_GUESSES`` wrong tokens (or non-Bearer Authorization headers) within ``GUESS_WINDOW_SECONDS``
  from one address start a penalty: every request from that address gets 429 with
  ``Retry-After`` until it ends. Penalties grow for an address that goes on guessing: 10 s,
  then 20, 40, ... up to 10 minutes; an address quiet for longer than the window and the longest
  penalty is forgotten, so it starts at 10 s again.
- Requests without any token count in the log, not toward a penalty: they guess nothing, and any
  web page can make its visitors' browsers send them (a cross-origin GET needs no permission), so
  counting them would let a page lock out the users at its visitors' addresses. A page cannot
  make a browser send an Authorization header to another origin without the CORS permission of
  ``--cors-origin``.
- IPv6 clients are grouped by their /64 (one host usually holds a whole /64), and the table holds
  at most ``MAX_ADDRESSES`` addresses, the least recently failing dropped first, so an attacker
  with many addresses cannot grow memory without bound; while it is full, failures of addresses
  new to it share one log line per window.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from perfmon.api.limits import LogLimiter

log = logging.getLogger(__name__)

MAX_GUESSES = 5
GUESS_WINDOW_SECONDS = 60.0
FIRST_PENALTY_SECONDS = 10.0
MAX_PENALTY_SECONDS = 600.0
LOG_WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 10_000
FORGET_AFTER_SECONDS = GUESS_WINDOW_SECONDS + MAX_PENALTY_SECONDS


@dataclass(slots=True)
class Record:
    """One address's recent failures."""

    log: LogLimiter
    last_failure: float
    guesses: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_GUESSES))
    penalties: int = 0  # in a row, without a quiet spell between them


class Failures:
    """The failure table of one server; ``blocked`` is empty unless some address is in a penalty."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self._clock = clock
        self.max_addresses = max_addresses
        self._records: OrderedDict[str, Record] = OrderedDict()  # least recently failing first
        self.blocked: dict[str, float] = {}  # address key: when its penalty ends
        self._last_end = -math.inf  # when the last penalty ends: then ``blocked`` is emptied at once
        self._crowd_log = LogLimiter(LOG_WINDOW_SECONDS, clock)

    def __len__(self) -> int:
        return len(self._records)

    def retry_after(self, remote: str | None) -> int | None:
        """Whole seconds until ``remote`` may try again, or None when it is not in a penalty."""
        now = self._clock()
        if now >= self._last_end:
            self.blocked.clear()  # so that the next requests skip this lookup again
            return None
        ends = self.blocked.get(address_key(remote))
        return None if ends is None or ends <= now else max(1, math.ceil(ends - now))

    def fail(self, remote: str | None, reason: str, guess: bool) -> None:
        """Log a failed authentication; a ``guess`` (a token was sent) counts toward a penalty."""
        now = self._clock()
        key = address_key(remote)
        record = self._record(key, now)
        crowded = len(self._records) >= self.max_addresses  # many addresses: one line for them all
        (self._crowd_log if crowded else record.log).warning(
            log, "authentication failed from %s: %s", remote, reason)
        if not guess:
            return
        record.guesses.append(now)
        if len(record.guesses) < MAX_GUESSES or now - record.guesses[0] > GUESS_WINDOW_SECONDS:
            return
        record.guesses.clear()
        record.penalties += 1
        seconds = min(FIRST_PENALTY_SECONDS * 2 ** (record.penalties - 1), MAX_PENALTY_SECONDS)
        self.blocked[key] = now + seconds
        self._last_end = max(self._last_end, now + seconds)
        message = "slowing down %s: %d failed tokens within %g s; its requests get 429 for %g s"
        if crowded:
            self._crowd_log.warning(log, message, remote, MAX_GUESSES, GUESS_WINDOW_SECONDS, seconds)
        else:
            log.warning(message, remote, MAX_GUESSES, GUESS_WINDOW_SECONDS, seconds)

    def _record(self, key: str, now: float) -> Record:
        """The address's record, now the most recent; forgets quiet ones and the oldest beyond the cap."""
        record = self._records.get(key)
        if record is None or now - record.last_failure > FORGET_AFTER_SECONDS:
            record = Record(LogLimiter(LOG_WINDOW_SECONDS, self._clock), now)  # its penalties start over
        record.last_failure = now
        self._records[key] = record
        self._records.move_to_end(key)
        while len(self._records) > 1:
            oldest, first = next(iter(self._records.items()))
            if len(self._records) <= self.max_addresses and now - first.last_failure <= FORGET_AFTER_SECONDS:
                break
            del self._records[oldest]
            self.blocked.pop(oldest, None)
        return record


def address_key(remote: str | None) -> str:
    """The key of a client address: IPv4 as it is, IPv6 by its /64 (IPv4-mapped ones as IPv4)."""
    if remote is None or ":" not in remote:
        return remote or "unknown"
    try:
        address = ipaddress.IPv6Address(remote.split("%", 1)[0])
    except ValueError:
        return remote
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))
