"""Prepared header sets are handed to aiohttp as they are: an answer's changes never reach them."""

from __future__ import annotations

from aiohttp import hdrs, web
from multidict import CIMultiDict

from perfmon.api.edge.responses import not_modified, not_modified_headers, snapshot_headers
from perfmon.api.endpoints.health_answer import HEADERS


def test_aiohttp_copies_the_headers_it_is_given() -> None:
    """The premise: web.Response copies a CIMultiDict (an aiohttp that stops would fail here)."""
    shared = CIMultiDict({hdrs.CACHE_CONTROL: "no-cache"})
    response = web.Response(body=b"{}", headers=shared)
    response.headers[hdrs.VARY] = "Accept-Encoding"
    response.headers[hdrs.CACHE_CONTROL] = "max-age=5"
    assert response.headers is not shared
    assert dict(shared) == {hdrs.CACHE_CONTROL: "no-cache"}


def test_a_304_has_the_validators_and_no_content_type_and_leaves_the_shared_sets_alone() -> None:
    before = dict(snapshot_headers("i-7", None))
    response = not_modified("i-7")
    response.headers["X-Changed"] = "yes"
    assert response.status == 304
    assert response.headers["ETag"] == '"i-7"'
    assert hdrs.CONTENT_TYPE not in response.headers
    assert "X-Changed" not in not_modified_headers("i-7")
    assert dict(snapshot_headers("i-7", None)) == before  # the 200's set keeps its Content-Type
    assert not_modified_headers("i-7") is not_modified_headers("i-7")  # made once per snapshot


def test_the_health_answer_set_is_not_changed_by_an_answer() -> None:
    before = dict(HEADERS)
    response = web.Response(body=b"{}", headers=HEADERS)
    response.headers[hdrs.VARY] = "Accept-Encoding"
    assert dict(HEADERS) == before
