"""The Dash app over HTTP (Flask's test client) against a real API server on a socket."""

from __future__ import annotations

import http.server
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.settings import DashboardConfig
from perfmon.ui import poll
from perfmon.ui.app import create_dash_app
from perfmon.ui.ids import RENDER_KEYS
from tests.apiserver import ServedApi, serving


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


@pytest.fixture
def web(api: ServedApi) -> Any:
    app = create_dash_app(DashboardConfig(api_url=api.url, poll_interval_seconds=5))
    return app.server.test_client()


def post(web: Any, payload: dict[str, Any]) -> Any:
    response = web.post(poll.URL_PATH, json=payload)
    assert response.status_code == 200, response.data[:500]
    return response


def test_the_page_layout_and_assets_are_served(web: Any) -> None:
    page = web.get("/")
    assert page.status_code == 200 and b"<title>perfmon</title>" in page.data
    assert b"perfmon.js" in page.data and b"perfmon.css" in page.data
    layout = json.dumps(web.get("/_dash-layout").get_json())
    assert json.dumps(list(RENDER_KEYS)) in layout
    dependencies = web.get("/_dash-dependencies").get_json()
    clientside = [d["clientside_function"]["function_name"]
                  for d in dependencies if d.get("clientside_function")]
    assert sorted(clientside) == ["age", "render"]
    assert web.get("/assets/perfmon.js").status_code == 200


def test_a_tick_over_http_returns_indexed_updates_and_the_cursor(web: Any, api: ServedApi) -> None:
    api.sample(2)
    updates, view, cursor = poll.read_response(post(web, poll.request_body(0)).data)
    assert updates["status.children"] == "Connected"
    assert "graph-cpu.figure" in updates and "x" not in view
    assert cursor["seq"] == 2
    api.sample(1)
    updates, view, cursor = poll.read_response(post(web, poll.request_body(1, cursor=cursor)).data)
    assert updates["graph-cpu.extendData"][0]["y"] == [[25.0]]
    assert len(view["x"]) == 1 and cursor["seq"] == 3


def test_forged_inputs_fall_back_to_defaults(web: Any, api: ServedApi) -> None:
    api.sample(1)
    forged = poll.request_body(window="ever", sort="rm -rf", raw="yes")
    updates, _, cursor = poll.read_response(post(web, forged).data)
    assert cursor["window"] == 300
    assert "by cpu" in updates["processes-note.children"]
    assert "raw-json.children" not in updates


def test_a_steady_tick_costs_the_same_whatever_the_window(web: Any, api: ServedApi) -> None:
    sizes = {}
    for window in (300, 3600):
        api.sample(1)
        _, _, cursor = poll.read_response(post(web, poll.request_body(window=window)).data)
        api.sample(5)  # five new points, as at the defaults (sampling 1 s, polling 5 s)
        payload = poll.request_body(2, window=window, cursor=cursor)
        response = post(web, payload)
        sizes[window] = len(json.dumps(payload)) + len(response.data)
    # 12 times as many points on screen; only the digits of maxPoints and the window differ
    assert abs(sizes[300] - sizes[3600]) < 32, sizes
    assert max(sizes.values()) <= 4096, sizes


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
    with serving(AnswersEmptyJson) as url:
        app = create_dash_app(DashboardConfig(api_url=url))
        updates, _, cursor = poll.read_response(post(app.server.test_client(), poll.request_body()).data)
    assert updates["status.children"] == "Reconnecting"
    assert "could not read the API's answer (KeyError)" in updates["status-detail.children"]
    assert cursor["fails"] == 1
