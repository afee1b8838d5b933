"""Bad input to the dashboard on its real uvicorn server: every callback body refused before Dash.

Deep, huge or mistyped JSON in any part of a post to ``/_dash-update-component``, for every
server callback of the page, is a 4xx whose JSON names what is wrong, with one DEBUG line
and no request to the API; an unknown file is a JSON 404; a bug is a JSON 500 logged once
with its traceback, its repeats counted; a WebSocket upgrade is answered as plain HTTP and
said once; the page's config carries no WebSocket. The pure parts (nesting, pattern ids,
the error log) are tested against fakes.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dash._utils import split_callback_id

from perfmon.api.app import Monitor
from perfmon.runtime.servers import UVICORN_LOG, MalformedRequests
from perfmon.settings import DashboardConfig
from perfmon.ui.edge import error_log, payload
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick import signature
from tests.integration.test_dashboard import Web, unshared
from tests.support.apiserver import ServedApi
from tests.support.fakes import FakeClock

POLL = signature.request_body()["output"]
SPAN = "..span.data...url.search...range.value...range-note.children.."
DOWNLOAD = "..download.data...download-note.children.."


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    yield served
    served.close()


@pytest.fixture
def web(api: ServedApi, wall: FakeClock) -> Iterator[Web]:
    with Web(DashboardConfig(api_url=api.url, poll_interval_seconds=5), unshared(api.url, wall)) as web:
        yield web


def body_for(output: str, spec: dict[str, Any]) -> dict[str, Any]:
    """What the renderer posts for the callback keyed ``output``, every value None."""
    return {
        "output": output,
        "outputs": split_callback_id(output),
        "inputs": [{**dependency, "value": None} for dependency in spec["inputs"]],
        "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"],
        "state": [{**dependency, "value": None} for dependency in spec["state"]],
    }


def callbacks(web: Web) -> dict[str, Any]:
    return dict(web.thread._server.config.app.callbacks())  # the map the edge checks posts against


def raw_post(web: Web, body: bytes) -> Any:
    return web.session.post(web.thread.url.rstrip("/") + signature.URL_PATH, data=body,
                            headers={"Content-Type": "application/json"}, timeout=10)


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def replaced(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the part at ``path`` replaced (or removed, for ``...``)."""
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


GOOD_POLL = signature.request_body(1)
MISTYPED = {  # (callback, the part, its new value, the message): the findings of issue 16 first
    "nested JSON": (POLL, None, b"[" * 1000, "the body nests deeper than 32 levels"),
    "a number as changedPropIds": (POLL, ("changedPropIds",), [1], "changedPropIds[0]: not a string"),
    "a number as inputs": (POLL, ("inputs",), [1], "inputs: 1 given, the callback has 4"),
    "deep JSON in a value": (POLL, ("state", 0, "value"), deep(40), "the body nests deeper than 32 levels"),
    "over 64 KiB": (POLL, ("state", 0, "value"), {"reason": "x" * 70_000}, "callback body over 65536 bytes"),
    "NaN": (POLL, None, json.dumps(GOOD_POLL).replace('"value": 1}', '"value": NaN}').encode(),
            "the body is not JSON"),
    "1e999": (POLL, None, json.dumps(GOOD_POLL).replace('"value": 1}', '"value": 1e999}').encode(),
              "the body is not JSON"),
    "not UTF-8": (POLL, None, b'{"output": "\xff"}', "the body is not UTF-8"),
    "an input of another callback": (POLL, ("inputs", 1, "id"), "url", "inputs[1].id: not this callback's"),
    "a wrong property": (POLL, ("inputs", 0, "property"), "disabled",
                         "inputs[0].property: not this callback's"),
    "an input that is a list": (POLL, ("inputs", 0), [], "inputs[0]: not an object"),
    "no state": (POLL, ("state",), ..., "state: not a list"),
    "state null": (POLL, ("state",), None, "state: not a list"),
    "an output too few": (POLL, ("outputs",), [{"id": "view", "property": "data"}],
                          "outputs: 1 given, the callback has 2"),
    "an output of another id": (POLL, ("outputs", 1, "id"), "span", "outputs[1].id: not this callback's"),
    "an output object for a list": (POLL, ("outputs",), {"id": "view", "property": "data"},
                                    "outputs: not a list"),
    "a trigger that is no input": (POLL, ("changedPropIds",), ["cursor.data"],
                                   "changedPropIds[0]: not an input of this callback"),
    "changedPropIds an object": (POLL, ("changedPropIds",), {}, "changedPropIds: not a list"),
    "parsed ids of numbers": (POLL, ("parsedChangedPropsIds",), [1],
                              "parsedChangedPropsIds: not a list of ids"),
    "a clientside callback": (POLL, ("output",), "zoom.data", "output: a callback the browser runs itself"),
    "an output that is a list": (POLL, ("output",), [POLL], "output: not a callback of this page"),
    "the span callback's inputs shuffled": (SPAN, ("inputs", 0, "id"), "range",
                                            "inputs[0].id: not this callback's"),
    "the span callback without state": (SPAN, ("state",), [], "state: 0 given, the callback has 1"),
    "the download callback's trigger": (DOWNLOAD, ("changedPropIds",), ["span.data"],
                                        "changedPropIds[0]: not an input of this callback"),
    "the download callback's outputs": (DOWNLOAD, ("outputs", 0, "property"), "url",
                                        "outputs[0].property: not this callback's"),
}


@pytest.mark.parametrize(("output", "path", "value", "message"), MISTYPED.values(), ids=MISTYPED.keys())
def test_a_bad_callback_body_is_a_4xx_naming_it_with_one_debug_line(
    web: Web, output: str, path: tuple[Any, ...] | None, value: Any, message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    if path is None:
        body = value
    else:
        good = GOOD_POLL if output == POLL else body_for(output, callbacks(web)[output])
        body = json.dumps(replaced(good, path, value)).encode()
    before = web.client.requests
    response = raw_post(web, body)
    status = 413 if "bytes" in message else 400
    assert response.status_code == status
    assert response.json() == {"error": {"status": status, "message": message}}
    assert web.client.requests == before
    lines = [r for r in caplog.records  # uvicorn.access: the access log, on in a debug run
             if r.name.startswith(("perfmon", "uvicorn.error", "dash", "fastapi"))]
    assert [(r.name, r.levelname, r.getMessage()) for r in lines] == [
        ("perfmon.ui.edge.payload", "DEBUG", f"refused a callback post no page sends: {message}")]
    assert not [r for r in caplog.records if r.exc_info]


def test_every_server_callback_as_the_renderer_posts_it_reaches_dash(web: Web, api: ServedApi) -> None:
    api.sample(1)
    served = {key: spec for key, spec in callbacks(web).items() if callable(spec.get("callback"))}
    assert set(served) == {POLL, SPAN, DOWNLOAD}
    statuses = {key: raw_post(web, json.dumps(body_for(key, spec)).encode()).status_code
                for key, spec in served.items()}
    statuses[POLL] = raw_post(web, json.dumps(GOOD_POLL).encode()).status_code
    assert set(statuses.values()) <= {200, 204}, statuses  # 204: PreventUpdate, nothing to change


SPEC = {"callback": print, "inputs": [{"id": '{"i":["MATCH"],"type":"b"}', "property": "n_clicks"}],
        "state": [{"id": '{"i":["ALL"],"type":"s"}', "property": "value"}]}
PATTERN_OUTPUT = '{"i":["MATCH"],"type":"o"}.children'


def pattern_body(**parts: Any) -> dict[str, Any]:
    return {"output": PATTERN_OUTPUT, "outputs": {"id": {"i": 3, "type": "o"}, "property": "children"},
            "inputs": [{"id": {"i": 3, "type": "b"}, "property": "n_clicks", "value": 1}],
            "state": [[{"id": {"i": 1, "type": "s"}, "property": "value", "value": "x"},
                       {"id": {"i": 2, "type": "s"}, "property": "value"}]],
            "changedPropIds": ['{"i":3,"type":"b"}.n_clicks'], **parts}


@pytest.mark.parametrize(("parts", "message"), [
    ({}, None),
    ({"state": [[]]}, None),  # no component matches ALL
    ({"state": [{"id": {"i": 1, "type": "s"}, "property": "value"}]}, "state[0]: not a list"),
    ({"inputs": [{"id": {"i": 3, "type": "x"}, "property": "n_clicks"}]},
     "inputs[0].id.type: not this callback's"),
    ({"inputs": [{"id": {"i": [3], "type": "b"}, "property": "n_clicks"}]},
     "inputs[0].id.i: not a string or number"),
    ({"inputs": [{"id": {"type": "b"}, "property": "n_clicks"}]},
     "inputs[0].id: not of this callback's pattern"),
    ({"state": [[{"id": "s", "property": "value"}]]}, "state[0][0].id: not of this callback's pattern"),
    ({"changedPropIds": ['{"i":3,"type":"b"}.value']}, "changedPropIds[0]: not an input of this callback"),
])
def test_pattern_matching_callbacks_are_checked_against_their_pattern(parts: dict[str, Any],
                                                                      message: str | None) -> None:
    body = json.dumps(pattern_body(**parts)).encode()
    problem = payload.problem(body, {PATTERN_OUTPUT: SPEC})
    assert (None if problem is None else str(problem)) == message


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0), ("[]", 1), ('{"a": [[{}]]}', 4), ('["[[[[", "]]]]"]', 1), (r'["\"[[[", 1]', 1),
    ('"unclosed [[[', 3), ("[" * 10_000, 10_000), ('{"a": "' + "\\" * 3 + '"[[" }', 1),
])
def test_nesting_is_counted_without_recursion_and_strings_do_not_count(text: str, depth: int) -> None:
    assert payload.nesting(text) == depth


def test_bounded_parsing_never_reaches_the_parsers_recursion_limit() -> None:
    for opener in ("[", '{"a":'):
        with pytest.raises(payload.BadPayload, match="nests deeper than 32 levels"):
            payload.parse((opener * 10_000).encode())  # json.loads: RecursionError at about 1,000
    assert payload.parse(('{"a":' * 31 + "1" + "}" * 31).encode())  # 31 levels inside the body: fine


UNKNOWN_FILES = ["/_dash-component-suites/dash/nope.js", "/_dash-component-suites/nope/nope.js",
                 "/_dash-component-suites/dash/dcc/nope.v1_2_3m123.js", "/_dash-component-suites/dash/",
                 "/_dash-component-suites/dash/../../etc/passwd", "/assets/nope.js", "/_dash-nope",
                 "/_dash-ws-callback"]


@pytest.mark.parametrize("path", UNKNOWN_FILES)
def test_an_unknown_file_is_a_json_404(web: Web, path: str, caplog: pytest.LogCaptureFixture) -> None:
    response = web.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": {"status": 404, "message": "no such page or file"}}
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_the_pages_own_files_are_still_served(web: Web) -> None:
    page = web.get("/").text
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert len(scripts) >= 5
    assert all(web.get(script).status_code == 200 for script in scripts)


def test_the_page_config_carries_no_websocket(web: Web) -> None:
    [config] = re.findall(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                          web.get("/").text, re.DOTALL)
    assert "websocket" not in json.loads(config)
    assert "dash-ws-worker" not in web.get("/").text


class BuggyClient(PerformanceClient):
    """A client with a bug: every read of the API raises an exception nobody expects."""

    async def performance(self, timeout: float) -> dict[str, Any]:
        raise ZeroDivisionError("a bug")


def test_a_bug_is_a_json_500_logged_once_with_its_traceback(api: ServedApi,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    with Web(DashboardConfig(api_url=api.url), BuggyClient(api.url, 5.0)) as web:
        responses = [raw_post(web, json.dumps(GOOD_POLL).encode()) for _ in range(5)]
    assert [r.status_code for r in responses] == [500] * 5
    assert responses[0].json()["error"]["status"] == 500
    failed = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failed) == 1 and failed[0].name == "perfmon.ui.edge.asgi", failed
    assert failed[0].exc_info is not None and failed[0].exc_info[0] is ZeroDivisionError
    assert "POST /_dash-update-component" in failed[0].getMessage()


def test_the_error_log_says_each_kind_once_then_counts_its_repeats(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(0.0)
    log = error_log.ErrorLog(logging.getLogger("test.errors"), window_seconds=60, clock=clock)

    def fail(kind: type[Exception]) -> None:
        try:
            raise kind("x" * 1000)
        except Exception as exc:  # reported, as the edge does
            log.report(exc, "POST /x\n")

    for _ in range(3):
        fail(ValueError)
    fail(KeyError)  # another kind: said in full at once
    clock.advance(61)
    fail(ValueError)
    records = [r for r in caplog.records if r.name == "test.errors"]
    assert [bool(r.exc_info) for r in records] == [True, True, False]
    assert "(3 times since the last such line)" in records[2].getMessage()
    assert "\n" not in records[2].getMessage() and len(records[2].getMessage()) < 400


def upgrade(port: int) -> bytes:
    """A WebSocket handshake, as a browser sends it; the first line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /_dash-ws-callback HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                     b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_upgrade_requests_are_answered_as_http_and_said_once(web: Web, caplog: pytest.LogCaptureFixture,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    [limits] = [f for f in UVICORN_LOG.filters if isinstance(f, MalformedRequests)]
    monkeypatch.setattr(limits, "limiter", MalformedRequests().limiter)  # a window of this test's own
    caplog.set_level(logging.WARNING, logger="uvicorn.error")
    port = int(web.thread.url.rsplit(":", 1)[1].strip("/"))
    assert {upgrade(port) for _ in range(20)} == {b"HTTP/1.1 404 Not Found"}
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert len(lines) == 1, lines
    assert lines[0].startswith("the dashboard answered a WebSocket upgrade request as plain HTTP")
