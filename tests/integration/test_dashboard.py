"""The dashboard on its real server and socket, over HTTP, against a real API server on a socket."""

from __future__ import annotations

import http.server
import itertools
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from perfmon.api.app import Monitor
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import DashboardConfig
from perfmon.store.buckets import VALUE_COLUMNS
from perfmon.ui.app import create_dashboard
from perfmon.ui.screen import ids
from perfmon.ui.screen.ids import RENDER_KEYS
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick import ranges, signature
from tests.support.apiserver import ServedApi, serving
from tests.support.fakes import FakeClock, FakePsutil

SWITCH_BUDGET_BYTES = 150_000  # what a range switch may cost on the wire, headers included
HEADERS_BYTES = 1_000  # a generous allowance for the request's and the response's headers


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


def unshared(url: str, wall: FakeClock | None = None) -> PerformanceClient:
    """A client whose every tick is a poll interval after the last: answers are never reused.

    Here each test's ticks follow each other within milliseconds, each after new samples:
    sharing (tested in test_client.py) would answer them from the tick before.
    """
    ticks = itertools.count(step=60.0)
    return PerformanceClient(url, 5.0, wall=wall or time.time, monotonic=lambda: float(next(ticks)))


class Web:
    """The dashboard served on a loopback port in a thread, as the launcher serves it."""

    def __init__(self, config: DashboardConfig, client: PerformanceClient) -> None:
        self.client = client
        self.thread = DashboardServerThread(replace(config, port=0), app=create_dashboard(config, client))
        self.thread.start()
        self.session = requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.thread.url.rstrip("/") + path, timeout=10)

    def post(self, path: str, json: Any) -> requests.Response:
        return self.session.post(self.thread.url.rstrip("/") + path, json=json, timeout=10)

    def __enter__(self) -> Web:
        return self

    def __exit__(self, *_: object) -> None:
        self.session.close()
        self.thread.stop()
        self.thread.join(10)


@pytest.fixture
def web(api: ServedApi, wall: FakeClock) -> Iterator[Web]:
    """The dashboard, polling every 5 s, as its server runs it."""
    with Web(DashboardConfig(api_url=api.url, poll_interval_seconds=5), unshared(api.url, wall)) as web:
        yield web


def post(web: Web, payload: dict[str, Any]) -> Any:
    response = web.post(signature.URL_PATH, json=payload)
    assert response.status_code == 200, response.content[:500]
    return response


def test_the_page_layout_and_assets_are_served(web: Web) -> None:
    page = web.get("/")
    assert page.status_code == 200 and b"<title>perfmon</title>" in page.content
    assert b"perfmon.js" in page.content and b"perfmon.css" in page.content
    layout = json.dumps(web.get("/_dash-layout").json())
    assert json.dumps(list(RENDER_KEYS)) in layout
    dependencies = web.get("/_dash-dependencies").json()
    clientside = [d["clientside_function"]["function_name"]
                  for d in dependencies if d.get("clientside_function")]
    assert sorted(clientside) == ["age", "render", "zoom"]
    assert web.get("/assets/perfmon.js").status_code == 200


def test_a_tick_over_http_returns_indexed_updates_and_the_cursor(web: Web, api: ServedApi) -> None:
    api.sample(2)
    updates, view, cursor = signature.read_response(post(web, signature.request_body(0)).content)
    assert updates["status.children"] == "Connected"
    assert "graph-cpu.figure" in updates and len(view["x"]) == 300  # the figures' one list of times
    assert cursor["seq"] == 2
    api.sample(1)
    body = signature.request_body(1, cursor=cursor)
    updates, view, cursor = signature.read_response(post(web, body).content)
    assert updates["graph-cpu.extendData"][0]["y"] == [[25.0], []]  # the value; the alerts' band: no run
    assert len(view["x"]) == 1 and cursor["seq"] == 3
    assert view["n"] == 2 and "full" not in view  # numbered, so the browser notices one it missed
    lost = signature.request_body(2, cursor=cursor, rendered={"lost": True})  # as perfmon.js says then
    updates, view, cursor = signature.read_response(post(web, lost).content)
    assert view["full"] == 1 and "graph-cpu.figure" in updates and updates["status.children"] == "Connected"


def test_a_forged_span_falls_back_to_the_default(web: Web, api: ServedApi) -> None:
    api.sample(1)
    for span in ({"range": "ever", "start": "now"}, {"range": ["5m"]}, {"start": 10**400, "end": 10**401},
                 {"start": 1.7e9, "end": 1.7e9 + 60, "back": {}}):
        _, _, cursor = signature.read_response(post(web, signature.request_body(span=span)).content)
        assert cursor["view"] in ("5m", "1700000000-1700000060"), span


MB = "x" * 1_000_000
FORGED_POLLS = {  # what no page sends: each refused (400) with one debug line, before any request
    "a string cursor": {"cursor": "seq=1"},
    "a list cursor": {"cursor": [1, 2]},
    "a query in seq": {"cursor": {"seq": "1&limit=1"}},
    "a fractional seq": {"cursor": {"seq": 2.5, "mode": "raw", "res": 1, "max": 300}},
    "a 60 KB field": {"cursor": {"reason": MB[:60_000]}},  # a bigger body is a 413 (test_dashboard_input.py)
    "a sort no table has": {"sort": "rm -rf"},
    "a raw toggle that is no list": {"raw": "yes"},
    "a rendered that is neither": {"rendered": "all of it"},
}


@pytest.mark.parametrize("forged", FORGED_POLLS.values(), ids=FORGED_POLLS.keys())
def test_a_forged_poll_is_refused_with_one_debug_line_and_no_request(
    web: Web, api: ServedApi, forged: dict[str, Any], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="perfmon.ui")
    api.sample(1)
    before = web.client.requests
    response = web.post(signature.URL_PATH, json=signature.request_body(**forged))
    assert response.status_code == 400  # nothing changes on the page
    message = response.json()["error"]["message"]
    assert message.split(".")[0].split(":")[0] in forged, message  # names the field
    assert web.client.requests == before
    lines = [r for r in caplog.records if r.name.startswith("perfmon.ui")]
    assert len(lines) == 1 and lines[0].levelname == "DEBUG" and lines[0].exc_info is None
    assert lines[0].getMessage() == f"refused a callback post no page sends: {message}"
    assert len(lines[0].getMessage()) < 200  # names the field, never echoes the value


BAD_POSTS = {  # not a callback of this page at all: a 4xx with a JSON body saying why
    "not JSON": (b"{seq", 400, "the body is not JSON"),
    "not an object": (b"[1]", 400, "the body is not a JSON object"),
    "no such callback": (b'{"output": "x.y", "inputs": []}', 400, "output: not a callback of this page"),
    "inputs not a list": (b'{"output": "..view.data...cursor.data..", "inputs": 5}', 400,
                          "inputs: not a list"),
    "over a megabyte": (b"[" + b"1," * 600_000 + b"1]", 413, "request body over 1048576 bytes"),
}


@pytest.mark.parametrize(("body", "status", "message"), BAD_POSTS.values(), ids=BAD_POSTS.keys())
def test_a_post_that_is_no_callback_is_a_4xx_with_json(web: Web, body: bytes, status: int, message: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    response = web.session.post(web.thread.url.rstrip("/") + signature.URL_PATH, data=body,
                                headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == status
    assert response.json() == {"error": {"status": status, "message": message}}
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def whole_bucket_drawn(web: Web, api: ServedApi, wall: FakeClock, mono: FakeClock, span: dict[str, Any],
                       cursor: dict[str, Any]) -> dict[str, Any]:
    """The cursor after a young install's first bucket is whole: the charts drew it while it was
    still filling (cursor ``seq`` in buckets mode), and are drawn once more when it is whole."""
    if cursor["mode"] != "buckets" or cursor["seq"] is None:
        return cursor
    wait = cursor["next"] + cursor["res"] - wall.now
    wall.advance(wait)
    mono.advance(wait)
    api.sample(1)
    body = signature.request_body(1, span=span, cursor=cursor)
    updates, _, cursor = signature.read_response(post(web, body).content)
    assert "graph-cpu.figure" in updates and cursor["seq"] is None, cursor  # redrawn once, whole
    return cursor


def test_a_steady_tick_stays_small_in_every_range(web: Web, api: ServedApi, wall: FakeClock,
                                                  mono: FakeClock) -> None:
    sizes = {}
    for preset in ranges.PRESETS:
        span = {"range": preset}
        api.sample(1)
        _, _, cursor = signature.read_response(post(web, signature.request_body(span=span)).content)
        cursor = whole_bucket_drawn(web, api, wall, mono, span, cursor)
        for _ in range(5):  # five new points, as at the defaults (sampling 1 s, polling 5 s)
            wall.advance(1)
            mono.advance(1)
            api.sample(1)
        payload = signature.request_body(2, span=span, cursor=cursor)
        response = post(web, payload)
        sizes[preset] = len(json.dumps(payload)) + len(response.content)
    assert max(sizes.values()) <= 4096 - HEADERS_BYTES, sizes


def test_a_cursor_that_went_through_the_browser_still_appends(web: Web, api: ServedApi, wall: FakeClock,
                                                             mono: FakeClock) -> None:
    """JSON in the browser writes 1795677000.0 as 1795677000: the cursor comes back with ints."""
    span = {"range": "24h"}  # buckets of 4 min, on whole seconds
    api.sample(1)
    _, _, cursor = signature.read_response(post(web, signature.request_body(span=span)).content)
    cursor = whole_bucket_drawn(web, api, wall, mono, span, cursor)
    cursor = json.loads(json.dumps(cursor).replace(".0,", ",").replace(".0}", "}"))
    assert isinstance(cursor["next"], int) and isinstance(cursor["res"], int)
    for _ in range(240):
        wall.advance(1)
        mono.advance(1)
        api.sample(1)
    body = signature.request_body(1, span=span, cursor=cursor)
    updates, _, cursor = signature.read_response(post(web, body).content)
    assert len(updates["graph-cpu.extendData"][0]["y"][2]) == 1  # the bucket that ended


def callback_body(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]],
                  states: list[tuple[str, str, Any]], changed: str) -> dict[str, Any]:
    """What the Dash renderer posts for a callback (as signature.request_body does for the tick)."""
    return {
        "output": ".." + "...".join(f"{component}.{prop}" for component, prop in outputs) + "..",
        "outputs": [{"id": component, "property": prop} for component, prop in outputs],
        "inputs": [{"id": component, "property": prop, "value": value} for component, prop, value in inputs],
        "changedPropIds": [changed],
        "state": [{"id": component, "property": prop, "value": value} for component, prop, value in states],
    }


def choose_span(web: Web, changed: str, search: str | None = None, preset: str | None = "5m",
                zoom: Any = None, current: Any = None) -> dict[str, Any]:
    """Post the span callback as the page does; its answer, keyed ``component.property``."""
    outputs = [(ids.SPAN, "data"), (ids.URL, "search"), (ids.RANGE, "value"), (ids.RANGE_NOTE, "children")]
    body = callback_body(outputs, [(ids.URL, "search", search), (ids.RANGE, "value", preset),
                                   (ids.ZOOM, "data", zoom)], [(ids.SPAN, "data", current)], changed)
    response = web.post(signature.URL_PATH, json=body)
    if response.status_code == 204:  # PreventUpdate: nothing changes
        return {}
    assert response.status_code == 200, response.content[:500]
    answer = json.loads(response.content)["response"]
    return {f"{component}.{prop}": value
            for component, props in answer.items() for prop, value in props.items()}


def test_the_url_a_preset_and_a_zoom_choose_the_span(web: Web) -> None:
    shared = choose_span(web, "url.search", search="?range=6h")  # a shared link, or a reload
    assert shared == {"span.data": {"range": "6h"}, "range.value": "6h", "range-note.children": ""}
    picked = choose_span(web, "range.value", preset="1h", current={"range": "6h"})
    assert picked["url.search"] == "?range=1h" and picked["span.data"] == {"range": "1h"}
    zoom = {"xaxis.range[0]": "2026-11-26 14:00:00", "xaxis.range[1]": "2026-11-26 14:10:00", "at": 1}
    zoomed = choose_span(web, "zoom.data", zoom=zoom, current={"range": "1h"})
    start, end = (ranges.parse_chart_time(zoom[f"xaxis.range[{i}]"]) for i in (0, 1))
    assert zoomed["span.data"] == {"start": start, "end": end, "back": "1h"}
    assert zoomed["url.search"] == f"?start={start:.0f}&end={end:.0f}"
    assert zoomed["range.value"] is None and "double-click" in zoomed["range-note.children"]
    back = choose_span(web, "zoom.data", zoom={"xaxis.autorange": True, "at": 2}, current=zoomed["span.data"])
    assert back["span.data"] == {"range": "1h"} and back["url.search"] == "?range=1h"
    assert choose_span(web, "zoom.data", zoom={"autosize": True}, current={"range": "1h"}) == {}


def test_the_download_is_the_shown_range_as_csv(web: Web, api: ServedApi, wall: FakeClock,
                                                mono: FakeClock) -> None:
    for _ in range(5):
        wall.advance(1)
        mono.advance(1)
        api.sample(1)
    outputs = [(ids.DOWNLOAD, "data"), (ids.DOWNLOAD_NOTE, "children")]
    body = callback_body(outputs, [(ids.DOWNLOAD_BUTTON, "n_clicks", 1)],
                         [(ids.SPAN, "data", {"range": "5m"})], f"{ids.DOWNLOAD_BUTTON}.n_clicks")
    answer = json.loads(post(web, body).content)["response"]
    download = answer[ids.DOWNLOAD]["data"]
    assert download["filename"].startswith("perfmon-") and download["filename"].endswith(".csv")
    assert download["type"] == "text/csv" and download["base64"] is False
    header, *rows = download["content"].splitlines()
    assert header.startswith("timestamp,cpu_percent,cpu_percent_min,cpu_percent_max")
    assert len(rows) == 300  # a row per second of the five minutes: per sample
    assert [row.split(",")[1] for row in rows[-5:]] == ["25.0"] * 5
    assert answer[ids.DOWNLOAD_NOTE]["children"] == ""


def test_a_download_without_the_api_says_why(web: Web, api: ServedApi) -> None:
    api.stop()
    body = callback_body([(ids.DOWNLOAD, "data"), (ids.DOWNLOAD_NOTE, "children")],
                         [(ids.DOWNLOAD_BUTTON, "n_clicks", 1)], [(ids.SPAN, "data", {"range": "1h"})],
                         f"{ids.DOWNLOAD_BUTTON}.n_clicks")
    answer = json.loads(post(web, body).content)["response"]
    assert ids.DOWNLOAD not in answer
    assert "could not download: connection refused" in answer[ids.DOWNLOAD_NOTE]["children"]


class FullHistory(PerformanceClient):  # answers never shared, as unshared()
    """Answers a range as if the API had sampled all of it, every value as long as it gets in practice."""

    async def history_range(self, start: float, end: float, points: int, timeout: float) -> dict[str, Any]:
        answer = await super().history_range(start, end, points, timeout)
        count, rng = len(answer["series"]["timestamp"]), random.Random(points)
        series: dict[str, list[Any]] = {"timestamp": answer["series"]["timestamp"]}
        for column in VALUE_COLUMNS:
            low, high = ((10.0, 99.9) if "percent" in column else (10.0, 99.99) if "load" in column
                         else (1e8, 1e9 - 1))  # a busy host: 100 MB/s to 1 GB/s, nine digits
            for suffix in ("", "_min", "_max"):
                series[column + suffix] = [round(rng.uniform(low, high), 3) for _ in range(count)]
        cores = len(answer["series"]["per_cpu_percent"][-1] or [0, 0])
        series["per_cpu_percent"] = [[round(rng.uniform(10, 99.9), 1) for _ in range(cores)]
                                     for _ in range(count)]
        return {**answer, "series": series}


@pytest.mark.parametrize("interval", [1.0, 0.1])
@pytest.mark.parametrize("cores", [2, 64])
def test_a_range_switch_stays_within_its_budget_whatever_the_range(
    make_monitor: Callable[..., Monitor], fake_ps: FakePsutil, interval: float, cores: int,
) -> None:
    fake_ps.cpu_per_core = [50.0] * cores
    api = ServedApi(make_monitor(interval_seconds=interval, process_interval_seconds=1.0)).start()
    ticks = itertools.count(step=60.0)
    try:
        api.sample(2)
        full = FullHistory(api.url, 5.0, monotonic=lambda: float(next(ticks)))
        with Web(DashboardConfig(api_url=api.url), full) as web:
            switch_every_range(web, interval, cores)
    finally:
        api.close()


def switch_every_range(web: Web, interval: float, cores: int) -> None:
    """From 30 d to 5 min, then each to the next; each switch within the budget."""
    _, _, cursor = signature.read_response(post(web, signature.request_body(span={"range": "30d"})).content)
    sizes = {}
    for preset in ranges.PRESETS:  # from 30 d to 5 min, then each to the next
        payload = signature.request_body(2, span={"range": preset}, cursor=cursor)
        response = post(web, payload)
        updates, _, cursor = signature.read_response(response.content)
        assert "graph-cpu.figure" in updates and "graph-cores.figure" in updates
        sizes[preset] = len(json.dumps(payload)) + len(response.content) + HEADERS_BYTES
    print(f"\nbytes per switch at {interval} s, {cores} CPUs: {sizes}")
    assert max(sizes.values()) <= SWITCH_BUDGET_BYTES, sizes


class AnswersEmptyJson(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the name http.server dispatches to
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_api_that_answers_nonsense_is_reported_not_a_500() -> None:
    with serving(AnswersEmptyJson) as url, Web(DashboardConfig(api_url=url), unshared(url)) as web:
        updates, _, cursor = signature.read_response(post(web, signature.request_body()).content)
    assert updates["status.children"] == "Reconnecting"
    assert "could not read the API's answer (KeyError)" in updates["status-detail.children"]
    assert cursor["fails"] == 1


def test_the_edge_answers_the_poll_itself_as_dash_would(api: ServedApi, wall: FakeClock) -> None:
    """The poll skips Dash's dispatch (perfmon.ui.edge.direct) and answers what Dash answers."""
    config = DashboardConfig(api_url=api.url, poll_interval_seconds=5)
    edge = create_dashboard(config, unshared(api.url, wall))
    spec = edge.callbacks()[signature.OUTPUT_KEY]
    dispatched = []
    through_dash = spec["callback"]

    async def counted(*args: Any, **kwargs: Any) -> Any:
        dispatched.append(1)
        return await through_dash(*args, **kwargs)

    spec["callback"] = counted
    api.sample(3)
    answers = []
    for app in (edge, edge.app):  # the edge, then Dash's own app behind it
        served = DashboardServerThread(replace(config, port=0), app=app)
        served.start()
        try:
            response = requests.post(served.url.rstrip("/") + signature.URL_PATH,
                                     json=signature.request_body(0), timeout=10)
        finally:
            served.stop()
            served.join(10)
        assert response.status_code == 200
        if app is edge:  # compressed, as the edge compresses Dash's answers
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["content-type"] == "application/json"
        answers.append(json.loads(response.content))
        assert len(dispatched) == (0 if app is edge else 1)
    direct, through = answers
    assert direct.keys() == through.keys() == {"multi", "response"}
    for answer in answers:  # what moves with the clock: when the next tick is due, the data's age,
        view = answer["response"][ids.VIEW]["data"]  # and the start of the history shown
        for key in ("next", "age"):
            view.pop(key, None)
        view["o"].pop(str(RENDER_KEYS.index("status-detail.children")))
        answer["response"][ids.CURSOR]["data"].pop("since")
    assert direct == through
    assert signature.read_response(json.dumps(direct))[2]["seq"] == 3
