"""The rows' history over HTTP: the query ``perfmon.ui.row_history`` sends, and what it makes of answers.

A plain HTTP server on a loopback socket stands in for an API that keeps per-row history
(answering as the series contract says), for one that ignores ``series=`` (today's), and for
one that refuses it: the row charts then follow the samples, and the tick goes on.
"""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from perfmon.ui import row_history
from perfmon.ui.client import PerformanceClient
from perfmon.ui.view import View
from tests.apiserver import serving

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
    view = View(rows_range=(1_700_000_000.0, 1_700_000_300.0, 300))
    seen.clear()
    try:
        history = await row_history.fetch(client, view, lambda: 2.0)
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
        assert await row_history.fetch(client, View(), lambda: 2.0) is None
    finally:
        await client.close()
    assert seen == []
