"""Hypothesis against ``/_dash-update-component`` on the real uvicorn server, with a real API behind it.

Three kinds of body: random bytes, random JSON or deep nesting; and a real call of one of the page's
server callbacks (the poll, the span, the download) mutated in one to three places (a part
replaced by random JSON, removed, buried 20 to 3,000 levels deep, or its type changed), or
with random values in every value slot (a cursor of the real keys with random values, say),
which reach the callbacks themselves. Every answer is below 500, every 4xx is the JSON
error shape, and nothing logs a traceback or a line at ERROR (checked per example, so
Hypothesis shrinks a failure to its smallest body). Bounded and derandomized: about 500
posts in about 10 s here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfmon.api.app import Monitor
from perfmon.settings import DashboardConfig
from perfmon.ui.tick import inputs, signature
from tests.integration.test_dashboard import Web, unshared
from tests.integration.test_dashboard_input import DOWNLOAD, POLL, SPAN, body_for, callbacks, raw_post
from tests.support.apiserver import ServedApi
from tests.support.fakes import FakeClock

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SCALARS = st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats() | st.text(max_size=20)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
CURSORS = st.dictionaries(st.sampled_from(sorted(inputs.CURSOR_DEFAULTS)), JSON | SCALARS, max_size=6)
VALUES = {"cursor.data": CURSORS | JSON, "span.data": st.fixed_dictionaries(
    {}, optional={"range": st.text(max_size=4) | JSON, "start": SCALARS, "end": SCALARS, "back": JSON})}


@pytest.fixture
def web(make_monitor: Callable[..., Monitor], wall: FakeClock) -> Iterator[Web]:
    api = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    api.sample(3)
    with Web(DashboardConfig(api_url=api.url, poll_interval_seconds=5), unshared(api.url, wall)) as served:
        yield served
    api.close()


class Checked:
    """Posts a body and checks the answer and every log line it caused."""

    def __init__(self, web: Web, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
        self.web, self.caplog, self.capfd = web, caplog, capfd
        caplog.set_level(logging.DEBUG)
        self.statuses: dict[int, int] = {}

    def post(self, body: bytes) -> None:
        """Post ``body``: below 500, a 4xx in the JSON error shape, no traceback, no ERROR line."""
        seen = len(self.caplog.records)
        response = raw_post(self.web, body)
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["status"] == response.status_code and isinstance(error["message"], str)
        logged = self.caplog.records[seen:]
        assert not [r for r in logged if r.exc_info or r.levelno >= logging.ERROR], logged
        out, err = self.capfd.readouterr()
        assert "Traceback" not in out + err


@pytest.fixture
def checked(web: Web, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Checked:
    return Checked(web, caplog, capfd)


def real_bodies(web: Web) -> dict[str, dict[str, Any]]:
    """A call of each server callback as the page makes it."""
    map_ = callbacks(web)
    span, download = body_for(SPAN, map_[SPAN]), body_for(DOWNLOAD, map_[DOWNLOAD])
    span["inputs"][1]["value"] = "5m"
    download["inputs"][0]["value"] = 1
    download["state"][0]["value"] = {"range": "5m"}
    return {POLL: signature.request_body(1), SPAN: span, DOWNLOAD: download}


def paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every part of a JSON value, as the keys and indices that reach it (the root is ``()``)."""
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from paths(item, (*path, key))


BURIED = "\u2603buried\u2603"  # stands in for a buried part until the body is text (json.dumps recurses)


def mutated(body: Any, path: tuple[Any, ...], how: str, new: Any) -> tuple[Any, str | None]:
    """``body`` with the part at ``path`` replaced by ``new``, removed, retyped or buried.

    A part is buried ``new`` levels deep in the text: the second value is its JSON, for
    ``BURIED`` to be replaced by once the body is written out.
    """
    parent, key = None, None
    old = body
    for key in path:
        parent, old = old, old[key]
    buried = None
    if how == "bury":
        buried, new = "[" * new + json.dumps(old) + "]" * new, BURIED
    elif how == "retype":
        new = str(old) if not isinstance(old, str) else len(old)
    if parent is None:
        return (new if how != "remove" else {}), buried
    if how == "remove":
        del parent[key]
    else:
        parent[key] = new
    return body, buried


DEEP = st.builds(lambda depth, opener: (opener * depth).encode(), st.integers(0, 5000),
                 st.sampled_from(["[", '{"a":', '[{"output":']))


@FUZZ
@given(body=st.binary(max_size=300) | JSON.map(lambda value: json.dumps(value).encode()) | DEEP)
def test_random_bodies_are_4xx_never_a_5xx_or_a_traceback(checked: Checked, body: bytes) -> None:
    checked.post(body)


@FUZZ
@given(data=st.data())
def test_mutated_calls_of_every_callback_are_4xx_never_a_5xx_or_a_traceback(checked: Checked,
                                                                          data: st.DataObject) -> None:
    output = data.draw(st.sampled_from([POLL, SPAN, DOWNLOAD]))
    body: Any = json.loads(json.dumps(real_bodies(checked.web)[output]))
    buried: list[str] = []
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(paths(body))))
        how = data.draw(st.sampled_from(["replace", "remove", "bury", "retype"]))
        body, deep = mutated(body, path, how, data.draw(st.integers(20, 3000) if how == "bury" else JSON))
        buried += [deep] if deep else []
    text = json.dumps(body)
    for deep in buried:  # each stands where it was buried (a later mutation may have dropped it)
        text = text.replace(json.dumps(BURIED), deep, 1)
    checked.post(text.encode())


@FUZZ
@given(data=st.data())
def test_random_values_reach_the_callbacks_and_never_a_5xx_or_a_traceback(checked: Checked,
                                                                          data: st.DataObject) -> None:
    output = data.draw(st.sampled_from([POLL, SPAN, DOWNLOAD]))
    body = json.loads(json.dumps(real_bodies(checked.web)[output]))
    for element in body["inputs"] + body.get("state", []):
        prop_id = f"{element['id']}.{element['property']}"
        element["value"] = data.draw(VALUES.get(prop_id, JSON), label=prop_id)
    checked.post(json.dumps(body).encode())
    assert set(checked.statuses) <= {200, 204, 400, 413}
