"""The poll callback's inputs: what a real page sends passes unchanged; anything else raises Forged."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick import inputs, step
from perfmon.ui.tick.config import TickConfig
from perfmon.ui.tick.cursor import FIELDS, Cursor
from perfmon.ui.tick.inputs import (
    CURSOR_DEFAULTS,
    Forged,
    read_cursor,
    read_raw_open,
    read_rendered,
    read_sort,
)
from perfmon.ui.tick.ranges import Span, fixed
from tests.support.apiserver import ServedApi
from tests.support.fakes import FakeClock

MB = "x" * 1_000_000
NAN, INF = float("nan"), float("inf")

RAW: dict[str, Any] = {  # charts following every sample of the last 5 minutes
    "instance": "3f9c0a1b2c4d", "seq": 42, "perf": 42, "procs": "cpu:1795600000.123",
    "disks": "0a1b2c3d4e5f", "host": "a1b2c3d4e5f6", "link": "up", "fails": 0, "since": 1795599000.1,
    "reason": None, "view": "5m", "mode": "raw", "res": 1.0, "max": 300, "next": None, "swap": True,
    "n": 17, "rows": "0a1b2c3d4e5f" * 4,
    "rseq": 42, "rhist": False, "raw": True, "alerts": "0a1b2c3d4e5f6a7b",
}
BUCKETS = {**RAW, "seq": None, "view": "24h", "mode": "buckets", "res": 300, "max": 288,
           "next": 1795599900.5, "swap": False, "procs": "memory:1795600000"}
FIXED = {**RAW, "seq": None, "view": "1795600000.25-1795603600.125", "mode": "fixed", "res": 10.0,
         "max": 360}
DOWN = {**RAW, "link": "down", "fails": 4, "reason": "connection refused by 127.0.0.1:8000: "
        "is the API server running?", "n": 2**53}
FRESH = {**CURSOR_DEFAULTS, "n": 1}


def as_browser(value: Any) -> Any:
    """``value`` after a trip through the browser's store: JSON, with whole numbers written as ints."""
    return json.loads(json.dumps(value), parse_float=lambda text: int(float(text))
                      if float(text).is_integer() else float(text))


@pytest.mark.parametrize("cursor", [RAW, BUCKETS, FIXED, DOWN, FRESH], ids=lambda c: str(c["mode"] or c["n"]))
def test_a_real_cursor_passes_unchanged(cursor: dict[str, Any]) -> None:
    assert stored(read_cursor(cursor)) == cursor
    assert stored(read_cursor(as_browser(cursor))) == as_browser(cursor)


def stored(cursor: Cursor | None) -> dict[str, Any] | None:
    """The cursor as the page's store would keep it."""
    return None if cursor is None else cursor.store()


def test_a_new_tab_has_no_cursor() -> None:
    assert read_cursor(None) is None


def test_keys_an_older_page_lacks_are_filled_from_the_defaults() -> None:
    older = {key: value for key, value in RAW.items() if key not in ("swap", "next")}
    assert stored(read_cursor(older)) == {**RAW, "swap": None, "next": None}
    assert read_cursor({}) == Cursor()


def test_the_cursor_read_is_frozen_and_leaves_what_was_sent_alone() -> None:
    sent = dict(RAW)
    read = read_cursor(sent)
    assert isinstance(read, Cursor)
    with pytest.raises(AttributeError):  # immutable: a tick makes a new one with but()
        read.seq = 43  # type: ignore[misc]
    assert read.but(seq=43).seq == 43 and read.seq == 42 and sent["seq"] == 42


def test_the_cursor_type_and_its_checks_are_one_list() -> None:
    assert tuple(inputs.CURSOR_CHECKS) == FIELDS == tuple(CURSOR_DEFAULTS)
    assert dict(CURSOR_DEFAULTS) == Cursor().store()
    assert read_cursor(Cursor().store()) == Cursor()  # a new tab's cursor passes the checks


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


async def test_every_cursor_a_real_tick_writes_passes_unchanged(
    api: ServedApi, wall: FakeClock, mono: FakeClock,
) -> None:
    client = PerformanceClient(api.url, wall=wall, monotonic=mono)
    settings, cursor, seen = TickConfig(), None, []

    async def poll(span: Span, sort: str = "cpu", raw_open: bool = False, samples: int = 1) -> None:
        nonlocal cursor
        for _ in range(samples):
            wall.advance(1)
            mono.advance(1)
            api.sample()
        mono.advance(10)  # past any answer the client shares between ticks
        _, written = await step.tick(client, read_cursor(cursor), settings, span=span, sort=sort,
                                     raw_open=raw_open, now=wall, monotonic=mono)
        cursor = as_browser(written.store())  # what the browser sends back next tick
        assert stored(read_cursor(cursor)) == cursor
        seen.append(cursor)

    try:
        await poll(Span("5m"), samples=3)
        await poll(Span("5m"), sort="memory", raw_open=True)
        await poll(Span("24h"), samples=0)
        await poll(Span("24h"), samples=400)  # buckets settle and are appended
        zoom = fixed(wall.now - 100.25, wall.now - 10.5)
        assert zoom is not None
        await poll(zoom)
        api.stop()
        for _ in range(3):
            await poll(Span("5m"), samples=0)
    finally:
        await client.close()
    assert [c["mode"] for c in seen][:5] == ["raw", "raw", "buckets", "buckets", "fixed"]
    assert [c["link"] for c in seen][4:] == ["up", "retry", "retry", "down"]
    assert seen[-1]["reason"] and seen[-1]["fails"] == 3


FORGED_CURSORS: list[tuple[Any, str]] = [
    ("{}", "cursor: not an object"),
    ([], "cursor: not an object"),
    (["seq", 1], "cursor: not an object"),
    (1, "cursor: not an object"),
    (True, "cursor: not an object"),
    ({"evil": 1}, "cursor: unknown key 'evil'"),
    ({**RAW, MB: 1}, f"cursor: unknown key {'x' * 32!r}"),
    ({"seq": "1&x"}, "cursor.seq: not an integer"),
    ({"seq": 2.5}, "cursor.seq: not an integer"),
    ({"seq": 2.0}, "cursor.seq: not an integer"),
    ({"seq": True}, "cursor.seq: not an integer"),
    ({"seq": [1]}, "cursor.seq: not an integer"),
    ({"seq": -1}, "cursor.seq: out of range"),
    ({"seq": 2**60}, "cursor.seq: out of range"),
    ({"perf": {"seq": 1}}, "cursor.perf: not an integer"),
    ({"n": None}, "cursor.n: not an integer"),
    ({"n": -1}, "cursor.n: out of range"),
    ({"fails": None}, "cursor.fails: not an integer"),
    ({"fails": "0"}, "cursor.fails: not an integer"),
    ({"instance": 12}, "cursor.instance: not a string"),
    ({"instance": ""}, "cursor.instance: unexpected characters"),
    ({"instance": "a/../b"}, "cursor.instance: unexpected characters"),
    ({"instance": "a" * 65}, "cursor.instance: too long"),
    ({"procs": {"cpu": 1}}, "cursor.procs: not a string"),
    ({"procs": "cpu:1\n2"}, "cursor.procs: unexpected characters"),
    ({"disks": MB}, "cursor.disks: too long"),
    ({"host": "<script>"}, "cursor.host: unexpected characters"),
    ({"link": "sideways"}, "cursor.link: unknown value"),
    ({"link": ["up"]}, "cursor.link: unknown value"),
    ({"since": NAN}, "cursor.since: not finite"),
    ({"since": INF}, "cursor.since: not finite"),
    ({"since": -INF}, "cursor.since: not finite"),
    ({"since": -1}, "cursor.since: out of range"),
    ({"since": 5e9}, "cursor.since: out of range"),
    ({"since": 10**400}, "cursor.since: out of range"),
    ({"since": "1795600000"}, "cursor.since: not a number"),
    ({"since": True}, "cursor.since: not a number"),
    ({"reason": "x" * 501}, "cursor.reason: too long"),
    ({"reason": MB}, "cursor.reason: too long"),
    ({"reason": ["down"]}, "cursor.reason: not a string"),
    ({"view": 5}, "cursor.view: not a string"),
    ({"view": "5m" * 33}, "cursor.view: too long"),
    ({"mode": "live"}, "cursor.mode: unknown value"),
    ({"res": 0}, "cursor.res: out of range"),
    ({"res": -1.0}, "cursor.res: out of range"),
    ({"res": 1e-300}, "cursor.res: out of range"),
    ({"res": 1e9}, "cursor.res: out of range"),
    ({"res": NAN}, "cursor.res: not finite"),
    ({"res": INF}, "cursor.res: not finite"),
    ({"max": -1}, "cursor.max: out of range"),
    ({"max": 10_001}, "cursor.max: out of range"),
    ({"max": 2.5}, "cursor.max: not an integer"),
    ({"max": True}, "cursor.max: not an integer"),
    ({"next": NAN}, "cursor.next: not finite"),
    ({"next": -INF}, "cursor.next: not finite"),
    ({"next": -1}, "cursor.next: out of range"),
    ({"next": 5e9}, "cursor.next: out of range"),
    ({"swap": "yes"}, "cursor.swap: not a boolean"),
    ({"swap": 1}, "cursor.swap: not a boolean"),
    ({"rows": {"disks": "0a1b2c3d4e5f"}}, "cursor.rows: not a string"),
    ({"rows": "0A1B"}, "cursor.rows: unexpected characters"),
    ({"rows": "0" * 385}, "cursor.rows: too long"),
    ({"rseq": -1}, "cursor.rseq: out of range"),
    ({"rhist": "yes"}, "cursor.rhist: not a boolean"),
    ({"raw": "open"}, "cursor.raw: not a boolean"),
    ({**RAW, "max": None}, "cursor.max: missing in mode raw"),
    ({**RAW, "res": None}, "cursor.res: missing in mode raw"),
    ({**BUCKETS, "next": None}, "cursor.next: missing in mode buckets"),
    ({**RAW, "max": 0}, "cursor.max: out of range in mode raw"),  # limit=0: the API answers 400
    ({**RAW, "max": 3601}, "cursor.max: out of range in mode raw"),
    ({**BUCKETS, "max": 0}, "cursor.max: out of range in mode buckets"),
]


@pytest.mark.parametrize(("value", "message"), FORGED_CURSORS, ids=[m for _, m in FORGED_CURSORS])
def test_a_forged_cursor_raises_naming_the_field(value: Any, message: str) -> None:
    with pytest.raises(Forged) as raised:
        read_cursor(value)
    assert str(raised.value) == message  # a few words for one debug line, never the value


def test_a_cursor_too_large_as_a_whole_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "CURSOR_MAX_CHARS", 100)
    with pytest.raises(Forged, match=r"^cursor: too large$"):
        read_cursor(RAW)


def test_the_largest_valid_cursor_fits_the_whole_cursor_cap() -> None:
    largest = {**RAW, "instance": "a" * 64, "procs": "b" * 64, "disks": "c" * 64, "host": "d" * 64,
               "view": "e" * 64, "reason": "\x00" * 500,  # each control character takes six in JSON
               "rows": "f" * 32 * 12, "alerts": "9" * 64}
    assert stored(read_cursor(largest)) == largest


@pytest.mark.parametrize(("value", "lost"), [(None, False), ({"n": 5}, False), ({"n": 0}, False),
                                             ({"lost": True}, True)])
def test_what_the_browser_made_of_the_last_view(value: Any, lost: bool) -> None:
    assert read_rendered(value) is lost
    assert read_rendered(as_browser(value)) is lost


@pytest.mark.parametrize(("value", "message"), [
    ({"lost": False}, "rendered.lost: not true"),
    ({"lost": 1}, "rendered.lost: not true"),
    ({"lost": "true"}, "rendered.lost: not true"),
    ({"n": "5"}, "rendered.n: not an integer"),
    ({"n": 2.5}, "rendered.n: not an integer"),
    ({"n": True}, "rendered.n: not an integer"),
    ({"n": -1}, "rendered.n: out of range"),
    ({"n": 2**60}, "rendered.n: out of range"),
    ({"n": 1, "lost": True}, "rendered: neither {n} nor {lost}"),
    ({"n": 1, "x": 2}, "rendered: neither {n} nor {lost}"),
    ({}, "rendered: neither {n} nor {lost}"),
    ([], "rendered: neither {n} nor {lost}"),
    ("lost", "rendered: neither {n} nor {lost}"),
    (True, "rendered: neither {n} nor {lost}"),
])
def test_a_forged_rendered_raises(value: Any, message: str) -> None:
    with pytest.raises(Forged) as raised:
        read_rendered(value)
    assert str(raised.value) == message


@pytest.mark.parametrize("sort", ["cpu", "memory"])
def test_the_two_sorts_pass(sort: str) -> None:
    assert read_sort(sort) == sort


@pytest.mark.parametrize("value", ["CPU", "cpu&x", "", MB, None, ["cpu"], {"cpu": 1}, 1])
def test_a_forged_sort_raises(value: Any) -> None:
    with pytest.raises(Forged, match=r"^sort: unknown value$"):
        read_sort(value)


@pytest.mark.parametrize(("value", "is_open"), [([], False), (["open"], True), (["other"], False)])
def test_the_raw_toggle(value: list[str], is_open: bool) -> None:
    assert read_raw_open(value) is is_open


@pytest.mark.parametrize(("value", "message"), [
    (None, "raw: not a list"),
    ("open", "raw: not a list"),
    ({"open": 1}, "raw: not a list"),
    (["open"] * 5, "raw: too many items"),
    ([1], "raw: not a list of short strings"),
    ([None], "raw: not a list of short strings"),
    ([["open"]], "raw: not a list of short strings"),
    ([MB], "raw: not a list of short strings"),
])
def test_a_forged_raw_toggle_raises(value: Any, message: str) -> None:
    with pytest.raises(Forged) as raised:
        read_raw_open(value)
    assert str(raised.value) == message
