"""PerformanceClient against real sockets: ETags, cursors, and every failure said in words."""

from __future__ import annotations

import http.server
import logging
from collections.abc import Callable, Iterator

import pytest
import requests

from perfmon.api.app import Monitor
from perfmon.ui.client import ApiStarting, ApiUnavailable, PerformanceClient
from tests.apiserver import ServedApi, serving
from tests.processes import free_port


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor()).start()
    yield served
    served.close()


def recording_session(statuses: list[int]) -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(lambda response, *_, **__: statuses.append(response.status_code))
    return session


def test_an_unchanged_sample_is_revalidated_not_resent(api: ServedApi) -> None:
    statuses: list[int] = []
    client = PerformanceClient(api.url + "/", recording_session(statuses))
    api.sample(1)
    first = client.performance(2)
    assert client.performance(2) is first
    api.sample(1)
    assert client.performance(2)["seq"] == 2
    assert statuses == [200, 304, 200]
    client.processes("cpu", 5, 2)
    client.processes("cpu", 5, 2)
    assert statuses[-2:] == [200, 304]


def test_history_by_cursor(api: ServedApi) -> None:
    client = PerformanceClient(api.url)
    api.sample(5)
    assert client.history(None, 2, 2)["series"]["seq"] == [4, 5]
    assert client.history(3, 100, 2)["series"]["seq"] == [4, 5]


def test_no_sample_yet_is_starting(api: ServedApi) -> None:
    with pytest.raises(ApiStarting, match="not ready: no sample yet"):
        PerformanceClient(api.url).performance(2)


def test_nothing_listening_is_connection_refused() -> None:
    port = free_port()
    refused = f"connection refused by 127.0.0.1:{port}: is the API server running"
    with pytest.raises(ApiUnavailable, match=refused):
        PerformanceClient(f"http://127.0.0.1:{port}").performance(2)


def test_a_json_error_is_quoted(api: ServedApi) -> None:
    quoted = "the API answered 404: no such endpoint: /elsewhere/api/performance"
    with pytest.raises(ApiUnavailable, match=quoted):
        PerformanceClient(api.url + "/elsewhere").performance(2)


def test_a_server_that_is_not_perfmon_is_named_as_such() -> None:
    with serving(http.server.SimpleHTTPRequestHandler) as url, \
            pytest.raises(ApiUnavailable, match="without JSON: is it a perfmon API"):
        PerformanceClient(url).performance(2)


def test_unavailability_is_logged_once_and_so_is_the_recovery(
    make_monitor: Callable[..., Monitor], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="perfmon.ui.client")
    api = ServedApi(make_monitor())
    client = PerformanceClient(api.url)
    try:
        for _ in range(3):
            with pytest.raises(ApiUnavailable):
                client.performance(2)
        api.start()
        api.sample(1)
        client.performance(2)
        client.performance(2)
    finally:
        api.close()
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "perfmon.ui.client"]
    assert messages == [
        ("WARNING", f"API {api.url} unavailable: connection refused by 127.0.0.1:{api.port}: "
                    "is the API server running? (pages keep retrying; logged once)"),
        ("INFO", f"API {api.url} answers again"),
    ]
