"""Every cursor a real tick writes, against a real API on a socket, is read back unchanged as input.

Forged cursors are in tests/unit/ui/test_inputs.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from perfmon.api.app import Monitor
from perfmon.ui import tick
from perfmon.ui.client import PerformanceClient
from perfmon.ui.inputs import read_cursor
from perfmon.ui.ranges import Span, fixed
from tests.support.apiserver import ServedApi
from tests.support.fakes import FakeClock
from tests.unit.ui.test_inputs import as_browser


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


async def test_every_cursor_a_real_tick_writes_passes_unchanged(
    api: ServedApi, wall: FakeClock, mono: FakeClock,
) -> None:
    client = PerformanceClient(api.url, wall=wall, monotonic=mono)
    settings, cursor, seen = tick.Settings(), None, []

    async def poll(span: Span, sort: str = "cpu", raw_open: bool = False, samples: int = 1) -> None:
        nonlocal cursor
        for _ in range(samples):
            wall.advance(1)
            mono.advance(1)
            api.sample()
        mono.advance(10)  # past any answer the client shares between ticks
        _, written = await tick.tick(client, cursor, settings, span=span, sort=sort, raw_open=raw_open,
                                     now=wall, monotonic=mono)
        cursor = as_browser(written)  # what the browser sends back next tick
        assert read_cursor(cursor) == cursor
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
