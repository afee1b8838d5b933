"""The edge toolkit both servers share: Accept-Encoding, log lines a flood cannot inflate, failure throttles.

The API and the dashboard each had their own copy of these, and the copies drifted: the
dashboard's Accept-Encoding parser sent gzip to ``*;q=1, gzip;q=0``, and its sign-in throttle
locked every user at an address out after five wrong posts. One copy, tested once
(tests/test_edge.py), serves both. No I/O here: clocks and loggers are passed in.

The failure throttle's policy, per client address (IPv6 by its /64: one host usually holds a
whole /64):

- Every failure is a WARNING naming the address and the reason, never the token; one line per
  address per minute, the rest counted and said in the next line (:class:`LogLimiter`).
- ``max_guesses`` wrong tokens within ``window_seconds`` start a penalty: 10 s, then 20, 40, ...
  up to 10 minutes for an address that goes on guessing; one quiet for longer than the window
  and the longest penalty is forgotten. During a penalty the address's requests without the
  right token get 429 cheaply (no log line each, only a count), but **the right token is always
  served**: otherwise any local process could cut the dashboard off from its own API (five
  wrong tokens from 127.0.0.1) or lock everyone behind one address out of the sign-in. Guessing
  is hopeless anyway, since tokens have 128 bits at least (the settings refuse shorter ones):
  the throttle bounds log noise and wasted work, it does not guard the token.
- The tables are bounded (``max_addresses``, the least recently failing forgotten first), so an
  attacker with many addresses cannot grow memory; while full, new addresses share one log line.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache

Clock = Callable[[], float]
QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")  # RFC 9110 12.4.2: at most three decimals
GZIP_NAMES = ("gzip", "x-gzip")  # x-gzip is the same coding (RFC 9110 8.4.1.3)
MAX_LOG_KEYS = 10_000


# --- Accept-Encoding (RFC 9110 12.5.3) ---------------------------------------------------------

@lru_cache(maxsize=128)
def qualities(accept_encoding: str) -> tuple[tuple[str, float], ...]:
    """The codings an Accept-Encoding header names, lower case, each with its q (a malformed q is 0).

    A coding named twice keeps its lowest q: nothing the client refused anywhere is sent.
    """
    found: dict[str, float] = {}
    for element in accept_encoding.split(","):
        coding, *params = (part.strip() for part in element.split(";"))
        if not coding:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                quality = float(value) if QVALUE.fullmatch(value) else 0.0
        coding = coding.lower()
        found[coding] = min(quality, found.get(coding, quality))
    return tuple(found.items())


def coding_quality(accept_encoding: str | None, coding: str) -> float:
    """How much the client wants ``coding`` (0: not at all), as RFC 9110 says.

    A coding named is its q; ``*`` covers the codings not named; ``identity`` is acceptable
    unless refused by name or by ``*;q=0``. No header at all accepts every coding; an empty
    one only identity.
    """
    coding = coding.lower()
    if accept_encoding is None:
        return 1.0
    named = dict(qualities(accept_encoding))
    names = GZIP_NAMES if coding in GZIP_NAMES else (coding,)
    for name in names:
        if name in named:
            return named[name]
    if "*" in named:
        return named["*"]
    return 1.0 if coding == "identity" else 0.0


@lru_cache(maxsize=128)
def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether a gzip body may be sent to a client with this Accept-Encoding (None or "": not sent).

    Without the header RFC 9110 allows any coding, but a client that says nothing may not
    decode gzip (curl without ``--compressed``), so it gets identity, as every server does.
    """
    return bool(accept_encoding) and coding_quality(accept_encoding, "gzip") > 0


# --- log lines ---------------------------------------------------------------------------------

class LogLimiter:
    """One log line per key per window: the first event of a key's window is logged, the rest counted.

    The next line logged for the key says how many were counted since the line before it. At
    most ``max_keys`` keys have windows; beyond that, keys new to the table share the window of
    the key None (and windows that ended are forgotten, their counts with them).
    """

    def __init__(self, window_seconds: float, clock: Clock = time.monotonic,
                 max_keys: int = MAX_LOG_KEYS) -> None:
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._windows: OrderedDict[Hashable, list[float]] = OrderedDict()  # key: [end, counted]

    def __len__(self) -> int:
        return len(self._windows)

    def admit(self, key: Hashable = None) -> int | None:
        """None if this event falls in the key's current window (it is counted); else the count of
        the key's last window, and a new window starts."""
        now, windows = self._clock(), self._windows
        window = windows.get(key)
        if window is None and key is not None and len(windows) >= self.max_keys:
            while windows and next(iter(windows.values()))[0] <= now:  # oldest first: ended ones
                windows.popitem(last=False)
            if len(windows) >= self.max_keys:
                key, window = None, windows.get(None)
        if window is not None and now < window[0]:
            window[1] += 1
            return None
        counted = int(window[1]) if window is not None else 0
        windows.pop(key, None)
        windows[key] = [now + self.window_seconds, 0]
        return counted

    def warning(self, logger: logging.Logger, message: str, *args: object, key: Hashable = None) -> bool:
        """Log ``message % args`` at WARNING if the key's window admits it; returns whether it was logged."""
        counted = self.admit(key)
        if counted is None:
            return False
        earlier = f"{counted} more since the last such line; " if counted else ""
        logger.warning(f"{message} ({earlier}further ones for %g s are counted, not logged)",
                       *args, self.window_seconds)
        return True


# --- failure throttle --------------------------------------------------------------------------

@dataclass(frozen=True)
class ThrottleRules:
    """When failures start a penalty, how long it lasts, and how many addresses are followed."""

    max_guesses: int = 5
    window_seconds: float = 60.0
    first_penalty_seconds: float = 10.0
    max_penalty_seconds: float = 600.0
    max_addresses: int = 10_000
    log_window_seconds: float = 60.0

    @property
    def forget_after_seconds(self) -> float:
        """How long an address must be quiet to start again at the first penalty."""
        return self.window_seconds + self.max_penalty_seconds

    def penalty_seconds(self, penalties: int) -> float:
        """The length of an address's ``penalties``-th penalty in a row (1: the first)."""
        return min(self.first_penalty_seconds * 2.0 ** (penalties - 1), self.max_penalty_seconds)


@dataclass(slots=True)
class Record:
    """One address's recent failures."""

    last_failure: float
    guesses: deque[float]
    penalties: int = 0  # in a row, without a quiet spell between them
    refused: int = 0  # requests refused during its penalties since the last penalty line


class FailureThrottle:
    """The failure table of one server; ``blocked`` is empty unless some address is in a penalty.

    ``what`` names the attempts in log lines: "authentication", "dashboard sign-in".
    """

    def __init__(self, logger: logging.Logger, what: str, clock: Clock = time.monotonic,
                 rules: ThrottleRules = ThrottleRules()) -> None:
        self.logger, self.rules, self._clock = logger, rules, clock
        self._failed = f"{what} failed from %s: %s"
        self._slowing = (f"slowing down %s: %d failed {what}s within %g s; for %g s its attempts without "
                         "the right token get 429 (the right token is still served)%s")
        self._records: OrderedDict[str, Record] = OrderedDict()  # least recently failing first
        self.blocked: dict[str, float] = {}  # address key: when its penalty ends
        self._last_end = -math.inf  # when the last penalty ends: then ``blocked`` is emptied at once
        self.log = LogLimiter(rules.log_window_seconds, clock, max_keys=rules.max_addresses)

    def __len__(self) -> int:
        return len(self._records)

    def retry_after(self, remote: str | None) -> int | None:
        """Whole seconds until ``remote``'s penalty ends, counting this attempt as refused in it; or
        None when it is not in a penalty (then the attempt is the caller's to judge)."""
        if not self.blocked:
            return None
        now = self._clock()
        if now >= self._last_end:
            self.blocked.clear()  # so that the next attempts skip this lookup again
            return None
        key = address_key(remote)
        ends = self.blocked.get(key)
        if ends is None or ends <= now:
            return None
        record = self._records.get(key)
        if record is not None:
            record.refused += 1
        return max(1, math.ceil(ends - now))

    def fail(self, remote: str | None, reason: str, guess: bool = True) -> None:
        """Log a failed attempt; a ``guess`` (a token was sent) counts toward a penalty."""
        now, rules = self._clock(), self.rules
        key = address_key(remote)
        record = self._record(key, now)
        crowded = len(self._records) >= rules.max_addresses  # many addresses: one line for them all
        self.log.warning(self.logger, self._failed, remote, reason, key=None if crowded else key)
        if not guess:
            return
        record.guesses.append(now)
        if len(record.guesses) < rules.max_guesses or now - record.guesses[0] > rules.window_seconds:
            return
        record.guesses.clear()
        record.penalties += 1
        seconds = rules.penalty_seconds(record.penalties)
        self.blocked[key] = now + seconds
        self._last_end = max(self._last_end, now + seconds)
        refused, record.refused = record.refused, 0
        args = (remote, rules.max_guesses, rules.window_seconds, seconds,
                f"; {refused} attempts refused in its last penalty" if refused else "")
        if crowded:
            self.log.warning(self.logger, self._slowing, *args)
        else:
            self.logger.warning(self._slowing, *args)

    def _record(self, key: str, now: float) -> Record:
        """The address's record, now the most recent; forgets quiet ones and the oldest beyond the cap."""
        record, rules = self._records.get(key), self.rules
        if record is None or now - record.last_failure > rules.forget_after_seconds:
            record = Record(now, deque(maxlen=rules.max_guesses))  # its penalties start over
        record.last_failure = now
        self._records[key] = record
        self._records.move_to_end(key)
        while len(self._records) > 1:
            oldest, first = next(iter(self._records.items()))
            if len(self._records) <= rules.max_addresses and \
                    now - first.last_failure <= rules.forget_after_seconds:
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
