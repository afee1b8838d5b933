"""The edge toolkit both servers share (perfmon.core.edge): Accept-Encoding, the log limiter, the failure
throttle. Pure: fake clocks, hypothesis for the parser; the servers using it are in test_edge_servers.py."""

from __future__ import annotations

import logging
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfmon.core.edge import (
    FailureThrottle,
    LogLimiter,
    ThrottleRules,
    accepts_gzip,
    address_key,
    coding_quality,
)
from tests.support.fakes import FakeClock

RULES = ThrottleRules()
LOG = logging.getLogger("tests.edge")


# --- Accept-Encoding -----------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    ("gzip", True), ("gzip, deflate, br", True), ("GZIP;Q=0.3", True), ("x-gzip", True), ("*", True),
    ("*;q=0, gzip", True), ("deflate;q=1, gzip;q=0.5", True), ("gzip;q=1.000", True), ("gzip;q=0.001", True),
    ("gzip ; q = 0.5 ", True), ("\tgzip\t", True), (",, gzip ,", True), ("gzip;level=9", True),
    ("x-gzip;q=0, gzip", True), ("*;q=0.5", True), ("br, *", True),
    # refusals: by name (which wins over the wildcard, in either order), or anywhere it is named
    ("gzip;q=0, *", False), ("*;q=1, gzip;q=0", False), ("gzip;q=0.000", False), ("GZIP;Q=0", False),
    ("gzip, gzip;q=0", False), ("gzip;q=0, x-gzip", False), ("gzip;q=0.5;q=0", False), ("*;q=0", False),
    # codings that are not gzip, and no header at all
    ("identity", False), ("br", False), ("deflate, br, zstd", False), ("", False), (None, False),
    (";q=1", False), ("gzipx", False), ("g zip", False),
    # a malformed q refuses the coding (RFC 9110 12.4.2: 0 to 1, at most three decimals)
    ("gzip;q=abc", False), ("gzip;q=", False), ("gzip;q=2", False), ("gzip;q=-1", False),
    ("gzip;q=1.5", False), ("gzip;q=0.5000", False), ("gzip;q=nan", False), ("gzip;q=inf", False),
    ("gzip;q=1e0", False), ("gzip;q=.5", False),
])
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(("header", "identity"), [
    (None, 1.0), ("", 1.0), ("gzip", 1.0), ("gzip;q=0", 1.0), ("identity;q=0.5", 0.5),
    ("identity;q=0", 0.0), ("*;q=0", 0.0), ("*;q=0, identity", 1.0), ("*;q=0.2", 0.2),
    ("IDENTITY;Q=0", 0.0), ("identity;q=bad", 0.0),
])
def test_identity_is_acceptable_unless_refused_by_name_or_by_the_wildcard(header: str | None,
                                                                          identity: float) -> None:
    assert coding_quality(header, "identity") == identity


def test_codings_not_named_take_the_wildcard_and_no_header_takes_any() -> None:
    assert coding_quality("gzip, *;q=0.3", "br") == 0.3
    assert coding_quality("gzip", "br") == 0.0
    assert coding_quality(None, "br") == 1.0
    assert coding_quality("X-GZIP;q=0.7", "gzip") == 0.7  # the same coding by its old name


SPACES = ["", " ", "\t", "  "]
QVALUES = ["0", "0.0", "0.5", "0.001", "1", "1.000", "abc", "", "2", "0.1234"]
ELEMENTS = st.tuples(
    st.sampled_from(["gzip", "x-gzip", "GZip", "*", "identity", "br", "deflate", "zstd", "compress"]),
    st.one_of(st.none(), st.sampled_from(QVALUES)),
)


def render(elements: list[tuple[str, str | None]], space: str = "") -> str:
    return f"{space},{space}".join(coding if q is None else f"{coding}{space};{space}q={q}"
                                   for coding, q in elements)


@given(st.text(max_size=200))
def test_any_text_is_an_answer_never_an_exception(header: str) -> None:
    assert accepts_gzip(header) in (True, False)
    assert 0.0 <= coding_quality(header, "identity") <= 1.0


@given(st.lists(ELEMENTS, max_size=8), st.randoms(use_true_random=False), st.sampled_from(SPACES))
def test_order_case_and_whitespace_change_nothing(elements: list[tuple[str, str | None]], random: Random,
                                                  space: str) -> None:
    verdict = accepts_gzip(render(elements))
    shuffled = list(elements)
    random.shuffle(shuffled)
    assert accepts_gzip(render(shuffled, space)) is verdict
    assert accepts_gzip(render(elements).upper()) is verdict
    assert accepts_gzip(f"{space}{render(elements, space)}{space}") is verdict


@given(st.lists(ELEMENTS, max_size=8))
def test_gzip_refused_anywhere_is_never_sent(elements: list[tuple[str, str | None]]) -> None:
    for refusal in ("gzip;q=0", "GZIP; q=0.000", "gzip;q=nonsense"):
        assert not accepts_gzip(render([*elements, (refusal, None)]))
        assert not accepts_gzip(render([(refusal, None), *elements]))


@given(st.lists(ELEMENTS, max_size=8))
def test_gzip_named_with_q_above_0_and_never_refused_is_sent(elements: list[tuple[str, str | None]]) -> None:
    named = [(coding, q) for coding, q in elements if coding.lower() == "gzip"]
    if all(q in (None, "0.5", "0.001", "1", "1.000") for _, q in named):
        assert accepts_gzip(render([*elements, ("gzip", "0.5")]))


# --- the log limiter -----------------------------------------------------------------------------

def test_the_log_limiter_admits_one_event_per_window_and_counts_the_rest() -> None:
    clock = FakeClock(0.0)
    limiter = LogLimiter(60, clock)
    assert limiter.admit() == 0
    for _ in range(5):
        clock.advance(11.5)
        assert limiter.admit() is None  # up to t = 57.5
    clock.advance(2.5)
    assert limiter.admit() == 5  # t = 60: a new window, naming the five counted in the last one
    clock.advance(59.75)
    assert limiter.admit() is None  # the window starts at the line logged, not on a fixed grid
    clock.advance(3600)
    assert limiter.admit() == 1
    clock.advance(60)
    assert limiter.admit() == 0


def test_the_log_limiter_names_the_count_in_its_next_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    limiter = LogLimiter(60, clock)
    assert [limiter.warning(LOG, "flood from %s", "here") for _ in range(4)] == [True, False, False, False]
    clock.advance(60)
    assert limiter.warning(LOG, "flood from %s", "there")
    assert [r.getMessage() for r in caplog.records] == [
        "flood from here (further ones for 60 s are counted, not logged)",
        "flood from there (3 more since the last such line; further ones for 60 s are counted, not logged)",
    ]


def test_each_key_has_its_own_window() -> None:
    clock = FakeClock(0.0)
    limiter = LogLimiter(60, clock)
    assert [limiter.admit(key) for key in ("a", "b", "a", "a", "b", "c")] == [0, 0, None, None, None, 0]
    clock.advance(60)
    assert [limiter.admit(key) for key in ("b", "a", "c")] == [1, 2, 0]


def test_keys_beyond_the_table_share_one_window_until_windows_end() -> None:
    clock = FakeClock(0.0)
    limiter = LogLimiter(60, clock, max_keys=3)
    assert [limiter.admit(f"k{n}") for n in range(3)] == [0, 0, 0]
    assert [limiter.admit(f"new{n}") for n in range(100)] == [0] + [None] * 99  # one line for them all
    assert len(limiter) == 4  # three keys and the shared window, however many keys came
    assert limiter.admit("k1") is None  # the keys in the table keep their windows
    clock.advance(60)
    assert limiter.admit("later") == 0  # ended windows are forgotten, so a new key has room again
    assert limiter.admit("later") is None and len(limiter) <= 3


def test_a_renewed_window_is_the_newest_so_the_ended_ones_before_it_go_first() -> None:
    clock = FakeClock(0.0)
    limiter = LogLimiter(60, clock, max_keys=2)
    assert limiter.admit("a") == 0
    clock.advance(1)
    assert limiter.admit("b") == 0  # ends at 61
    clock.advance(60)
    assert limiter.admit("a") == 0  # t = 61: a's new window ends at 121, after b's
    clock.advance(1)
    assert limiter.admit("c") == 0  # b's ended window goes, not a's running one: c has a window of its own
    assert len(limiter) == 2 and limiter.admit("a") is None and limiter.admit("c") is None


# --- the failure throttle ------------------------------------------------------------------------

def guess(throttle: FailureThrottle, remote: str, times: int = RULES.max_guesses) -> None:
    for _ in range(times):
        throttle.fail(remote, "wrong token")


def test_five_guesses_in_a_minute_start_a_penalty_that_doubles_up_to_ten_minutes() -> None:
    clock = FakeClock(0.0)
    throttle = FailureThrottle(LOG, "sign-in", clock)
    guess(throttle, "10.0.0.1", RULES.max_guesses - 1)
    assert throttle.retry_after("10.0.0.1") is None and not throttle.blocked
    seconds = RULES.first_penalty_seconds
    while seconds <= RULES.max_penalty_seconds:
        guess(throttle, "10.0.0.1")
        assert throttle.retry_after("10.0.0.1") == seconds
        assert throttle.retry_after("10.0.0.2") is None  # another address is not slowed down
        clock.advance(seconds - 0.5)
        assert throttle.retry_after("10.0.0.1") == 1
        clock.advance(0.5)
        assert throttle.retry_after("10.0.0.1") is None
        seconds *= 2
    guess(throttle, "10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == RULES.max_penalty_seconds


def test_guesses_spread_wider_than_the_window_and_failures_without_a_token_never_start_one() -> None:
    clock = FakeClock(0.0)
    throttle = FailureThrottle(LOG, "authentication", clock)
    for _ in range(4 * RULES.max_guesses):
        throttle.fail("10.0.0.1", "wrong token")
        throttle.fail("10.0.0.2", "no token", guess=False)
        clock.advance(61 / (RULES.max_guesses - 1))
    assert throttle.retry_after("10.0.0.1") is None and throttle.retry_after("10.0.0.2") is None


def test_a_quiet_address_starts_again_at_the_first_penalty() -> None:
    clock = FakeClock(0.0)
    throttle = FailureThrottle(LOG, "authentication", clock)
    for seconds in (RULES.first_penalty_seconds, 2 * RULES.first_penalty_seconds):
        guess(throttle, "10.0.0.1")
        assert throttle.retry_after("10.0.0.1") == seconds
        clock.advance(seconds)
    clock.advance(RULES.forget_after_seconds + 1)
    guess(throttle, "10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == RULES.first_penalty_seconds


def test_the_table_is_bounded_and_forgets_quiet_addresses(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOG.name)
    clock = FakeClock(0.0)
    throttle = FailureThrottle(LOG, "authentication", clock, ThrottleRules(max_addresses=3))
    guess(throttle, "10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == RULES.first_penalty_seconds
    for number in range(2, 200):  # many addresses: the oldest are dropped, penalties with them
        throttle.fail(f"10.0.{number // 256}.{number % 256}", "no token", guess=False)
    assert len(throttle) == 3 and throttle.retry_after("10.0.0.1") is None
    assert len(throttle.log) <= 4
    logged = [r for r in caplog.records if "authentication failed" in r.getMessage()]
    assert len(logged) <= 3  # the address that guessed, one more, then one line for the crowd
    clock.advance(RULES.forget_after_seconds + 1)
    throttle.fail("10.9.9.9", "no token", guess=False)
    assert len(throttle) == 1


def test_failures_are_logged_once_per_address_per_window_and_refusals_only_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, LOG.name)
    clock = FakeClock(0.0)
    throttle = FailureThrottle(LOG, "authentication", clock)
    guess(throttle, "10.0.0.1")
    guess(throttle, "2001:db8::1", 2)
    guess(throttle, "2001:db8::2", 1)  # the same /64
    for _ in range(100):  # refused in the penalty: counted, never a line each
        assert throttle.retry_after("10.0.0.1") is not None
    clock.advance(RULES.first_penalty_seconds)
    guess(throttle, "10.0.0.1")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "authentication failed from 10.0.0.1: wrong token (further ones for 60 s are counted, not logged)",
        "slowing down 10.0.0.1: 5 failed authentications within 60 s; for 10 s its attempts without the "
        "right token get 429 (the right token is still served)",
        "authentication failed from 2001:db8::1: wrong token (further ones for 60 s are counted, not logged)",
        "slowing down 10.0.0.1: 5 failed authentications within 60 s; for 20 s its attempts without the "
        "right token get 429 (the right token is still served); 100 attempts refused in its last penalty",
    ]
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in caplog.records)


@pytest.mark.parametrize(("address", "key"), [
    ("10.0.0.1", "10.0.0.1"), ("2001:db8::1", "2001:db8::/64"), ("2001:db8::ffff:1", "2001:db8::/64"),
    ("2001:db8:0:1::1", "2001:db8:0:1::/64"), ("::ffff:10.0.0.1", "10.0.0.1"), (None, "unknown"),
    ("fe80::1%eth0", "fe80::/64"), ("fe80::1%a%b", "fe80::/64"), ("fe80::1%", "fe80::/64"),
    ("", "unknown"), ("not:an:address", "not:an:address"),
])
def test_an_ipv6_host_counts_as_its_64(address: str | None, key: str) -> None:
    assert address_key(address) == key


def test_an_ipv6_64_shares_one_penalty() -> None:
    throttle = FailureThrottle(LOG, "authentication", FakeClock(0.0))
    for host in range(RULES.max_guesses):
        throttle.fail(f"2001:db8::{host + 1:x}", "wrong token")
    assert throttle.retry_after("2001:db8::ffff") == RULES.first_penalty_seconds
    assert throttle.retry_after("2001:db8:0:1::1") is None
