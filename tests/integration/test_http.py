"""The API's HTTP helpers: strict query parameters, gzip as negotiated (tests/test_edge.py has the parser),
ETag matching, JSON responses."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.responses import (
    COMPRESS_MIN_BYTES,
    etag_matches,
    json_response,
    query_choice,
    query_number,
)

Client = TestClient[web.Request, web.Application]


def test_integer_bounds_read_as_integers() -> None:
    with pytest.raises(ApiError) as error:
        query_number({"since": "-3"}, "since", low=0, high=2**63 - 1, integer=True)
    assert error.value.status == 400
    assert error.value.message == (
        "parameter 'since' must be a whole number from 0 to 9223372036854775807, got '-3'")


def test_open_lower_bound_is_said() -> None:
    with pytest.raises(ApiError) as error:
        query_number({"wait": "0"}, "wait", low=0, high=60, low_open=True)
    assert error.value.message == "parameter 'wait' must be a number greater than 0 to 60, got '0'"


def test_fractional_bounds_are_said_as_they_are() -> None:
    with pytest.raises(ApiError) as error:
        query_number({"wait": "3"}, "wait", low=0.5, high=2.5)
    assert error.value.message == "parameter 'wait' must be a number from 0.5 to 2.5, got '3'"


def test_absent_parameter_is_none_and_valid_one_is_parsed() -> None:
    assert query_number({}, "limit", low=1, high=10, integer=True) is None
    assert query_number({"limit": "7"}, "limit", low=1, high=10, integer=True) == 7
    assert query_number({"wait": "0.5"}, "wait", low=0, high=60, low_open=True) == 0.5


def test_choice() -> None:
    assert query_choice({}, "sort", {"cpu": 1, "memory": 2}, "cpu") == "cpu"
    with pytest.raises(ApiError) as error:
        query_choice({"sort": "pid"}, "sort", {"cpu": 1, "memory": 2}, "cpu")
    assert error.value.message == "parameter 'sort' must be one of cpu|memory, got 'pid'"


# --- ETags --------------------------------------------------------------------------------

TAGS = ("3f9c-7", "3f9c-7-gzip")


@pytest.mark.parametrize(("header", "expected"), [
    ('"3f9c-7"', True), ('"3f9c-7-gzip"', True), ('"3f9c-6"', False), ('"0123-7"', False),
    ('W/"3f9c-7"', True), ('"x-1", "3f9c-7-gzip"', True), ('"x-1", "x-2"', False), ("*", True),
    ("3f9c-7", False), ("W/3f9c-7", False), ("", False), (None, False),
])
def test_if_none_match_names_one_of_the_tags(header: str | None, expected: bool) -> None:
    """Weak comparison, lists and ``*`` match; an unquoted (malformed) or absent header never does."""
    headers = {} if header is None else {"If-None-Match": header}
    assert etag_matches(make_mocked_request("GET", "/", headers=headers), *TAGS) is expected


# --- JSON responses -----------------------------------------------------------------------

def payload_of(size: int) -> str:
    """A payload whose JSON body is exactly ``size`` bytes (a string and its two quotes)."""
    return "x" * (size - 2)


def test_json_response_is_compact_json_with_status_200() -> None:
    response = json_response(make_mocked_request("GET", "/"), {"a": [1, 2], "b": None},
                             headers={"Cache-Control": "no-cache"})
    assert response.status == 200
    assert response.body == b'{"a":[1,2],"b":null}'
    assert response.headers["Content-Type"] == "application/json"  # as sent, not as aiohttp parses it
    assert response.headers["Cache-Control"] == "no-cache"
    assert json_response(make_mocked_request("GET", "/"), {}, 503).status == 503


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_json_response_refuses_numbers_json_does_not_have(number: float) -> None:
    with pytest.raises(ValueError, match="JSON"):
        json_response(make_mocked_request("GET", "/"), {"value": number})


@pytest.mark.parametrize(("size", "accept_encoding", "compressed"), [
    (COMPRESS_MIN_BYTES, "gzip", True), (COMPRESS_MIN_BYTES - 1, "gzip", False),
    (10 * COMPRESS_MIN_BYTES, None, False), (10 * COMPRESS_MIN_BYTES, "identity", False),
    (10 * COMPRESS_MIN_BYTES, "gzip;q=0", False),
])
def test_json_response_is_compressed_when_accepted_and_worth_it(
    size: int, accept_encoding: str | None, compressed: bool
) -> None:
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    response = json_response(make_mocked_request("GET", "/", headers=headers), payload_of(size))
    assert len(response.body) == size  # type: ignore[arg-type]
    assert response.compression is compressed


@pytest.mark.parametrize("accept_encoding", ["gzip", "*", "deflate;q=0, gzip", "deflate, gzip;q=0.5"])
async def test_json_response_is_sent_gzip_encoded(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], accept_encoding: str
) -> None:
    """gzip is chosen by accepts_gzip, not by aiohttp's own negotiation (which ignores q and ``*``)."""
    payload = {"series": list(range(1000))}

    async def handler(request: web.Request) -> web.Response:
        return json_response(request, payload)

    app = web.Application()
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    response = await client.get("/", headers={"Accept-Encoding": accept_encoding})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(await response.read()) == payload  # the client decompresses
