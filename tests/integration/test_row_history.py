"""The rows' history over HTTP: the query ``perfmon.ui.tick.row_history`` sends, and what it makes of answers.

A plain HTTP server on a loopback socket stands in for an API that keeps per-row history
(answering as the series contract says), for one that ignores ``series=`` (today's), and for
one that refuses it: the row charts then follow the samples, and the tick goes on. Then a tab's
ticks against the real API (over a fake psutil), which keeps the rows' series: drawn from them.
"""

from __future__ import annotations

import http.server
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from perfmon.api.app import Monitor
from perfmon.ui.screen import ids
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick import row_history
from tests.integration.test_tick import Tab
from tests.support.apiserver import ServedApi, serving
from tests.support.dashclient import Client
from tests.support.fakes import DiskIO, FakeClock, FakePsutil

KEY = "disks[mountpoint=/].percent"
ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "keeps": (200, {"resolution_seconds": 1.0, "keys": [{"key": KEY, "group": "disks", "field": "percent",
                                                          "labels": {"mountpoint": "/"}, "unit": "percent",
                                                          "kind": "gauge"}],
                    "series": {"timestamp": [1_700_000_000.0, 1_700_000_001.0], KEY: [40.0, None]}}),
    "ignores": (200, {"resolution_seconds": 1.0, "series": {"timestamp": [1_700_000_000.0],
                                                            "cpu_percent": [25.0]}}),
    "refuses": (400, {"error": {"status": 400, "message": "parameter 'series': no"}}),
}
seen: list[dict[str, list[str]]] = []


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers /api/history as the API named by the test's ``kind`` (the path's first part)."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        seen.append(parse_qs(url.query))
        status, body = ANSWERS[url.path.strip("/").split("/")[0]]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(Handler) as base:
        yield base


@pytest.mark.parametrize(("kind", "drawn"), [("keeps", True), ("ignores", False), ("refuses", False)])
async def test_the_rows_history_is_read_over_the_fixed_charts_buckets(
        url: str, kind: str, drawn: bool) -> None:
    client = PerformanceClient(f"{url}/{kind}")
    seen.clear()
    try:
        history = await row_history.fetch(client, (1_700_000_000.0, 1_700_000_300.0, 300), lambda: 2.0)
    finally:
        await client.close()
    (query,) = seen
    assert query["start"] == ["1700000000"] and query["end"] == ["1700000300"] and query["points"] == ["300"]
    assert query["series"] == [",".join(row_history.selectors())]  # one parameter, a comma between
    if drawn:
        assert history is not None and history.columns[KEY] == [40.0, None] and len(history.x) == 2
    else:
        assert history is None  # the row charts follow the samples instead


async def test_no_range_read_in_this_view_asks_nothing(url: str) -> None:
    client = PerformanceClient(f"{url}/keeps")
    seen.clear()
    try:
        assert await row_history.fetch(client, None, lambda: 2.0) is None
    finally:
        await client.close()
    assert seen == []


# --- end to end: a tab's ticks against the real API, which keeps the rows' series --------------

def publish(api: ServedApi, ps: FakePsutil, wall: FakeClock, mono: FakeClock, count: int) -> None:
    """``count`` samples a second apart, every disk having read and written since the last."""
    for _ in range(count):
        wall.advance(1)
        mono.advance(1)
        ps.disks = {name: DiskIO(c.read_count + 1, c.write_count + 1, c.read_bytes + 4096,
                                 c.write_bytes + 8192) for name, c in ps.disks.items()}
        api.sample()


def points(figure: dict[str, Any]) -> dict[str, int]:
    """How many values each trace of a figure has, by trace name."""
    return {trace["name"]: sum(v is not None for v in trace["y"]) for trace in figure["data"]}


def test_a_tab_draws_the_rows_from_the_apis_history_and_redraws_them_when_a_disk_appears(
        make_monitor: Callable[..., Monitor], fake_ps: FakePsutil, wall: FakeClock, mono: FakeClock) -> None:
    fake_ps.disks = {"sda": DiskIO(1, 1, 4096, 4096), "sdb": DiskIO(1, 1, 4096, 4096)}
    api = ServedApi(make_monitor()).start()
    client = Client(api.url, wall)
    try:
        publish(api, fake_ps, wall, mono, 6)
        tab = Tab(client, wall)
        drawn = points(tab.tick().updates[f"{ids.row_graph('disk_io')}.figure"])
        assert tab.cursor is not None and tab.cursor["rhist"] is True  # the API keeps the rows' history
        # every rate since the second sample, from /api/history?series= (a sample alone would be one)
        assert drawn == {"sda read": 5, "sda write": 5, "sdb read": 5, "sdb write": 5}
        fake_ps.disks["sdc"] = DiskIO(1, 1, 4096, 4096)
        publish(api, fake_ps, wall, mono, 2)
        updates = tab.tick().updates
        assert "graph-cpu.figure" in updates  # a row appeared: the view is rebuilt, the rows from history
        drawn = points(updates[f"{ids.row_graph('disk_io')}.figure"])
        assert drawn["sda read"] == 7 and drawn["sdc read"] == 1 and len(drawn) == 6
    finally:
        client.close()
        api.close()
