"""The OpenAPI document: valid 3.1, generated from the routes, the parameters and the schema table, true.

True means: every route is in it and nothing else; every field of ``FIELDS`` is in the sample's
schema with its description, unit and kind; every documented bound of a query parameter is the
one its handler enforces (the value at the bound accepted, one step beyond refused with a 400
naming it); and real answers (fake psutil, every state from "starting" to "all readings failed")
validate against the schemas the document gives for their status. tests/test_fuzz_api.py then
fuzzes a real server with schemathesis against the document it serves.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import UnionType
from typing import Any

import psutil
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from perfmon.api.app import ANONYMOUS, ROUTES, Monitor, create_app
from perfmon.api.endpoints.openapi import BEARER, build_document
from perfmon.api.endpoints.openapi_schemas import json_type
from perfmon.core import shapes
from perfmon.core.schema import FIELDS, Field, Shape
from perfmon.settings import Security
from tests.support.fakes import FakePsutil

Client = TestClient[web.Request, web.Application]
Doc = dict[str, Any]
TOKEN = "openapi-" + "0123456789abcdef" * 2
# query_number's, query_choice's, and the selectors' (a SelectorError's text or a count)
BOUND_REFUSAL = "parameter '{name}'(: | must be a | must be one of | is given )"
SHAPE_ORIGINS: dict[str, type | None] = {"scalar": None, "list": list, "map": dict}
PYTHON_JSON_TYPES = {str: {"string"}, bool: {"boolean"}, int: {"integer"}, float: {"number"}}


@pytest.fixture(scope="module")
def document() -> Doc:
    return build_document(ROUTES)


def schema_of(doc: Doc, path: str, status: int, media: str = "application/json") -> Doc:
    """The body schema the document gives for ``status`` of GET ``path`` (shared responses resolved)."""
    answer = doc["paths"][path]["get"]["responses"][str(status)]
    if "$ref" in answer:
        answer = doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return dict(answer["content"][media]["schema"])


def assert_conforms(doc: Doc, path: str, status: int, body: Any) -> None:
    """``body`` validates against the document's schema for ``status`` of ``path`` ($refs inside it too)."""
    Draft202012Validator({**schema_of(doc, path, status), "components": doc["components"]}).validate(body)


# --- the document itself -------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(document: Doc) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    json.dumps(document, allow_nan=False)  # plain JSON, nothing a client cannot read


def test_every_route_is_documented_with_its_handler_and_nothing_else(document: Doc) -> None:
    assert list(document["paths"]) == [path for path, _ in ROUTES]
    for path, handler in ROUTES:
        summary = document["paths"][path]["get"]["summary"]
        assert summary and summary.lower()[:20] in (handler.__doc__ or "").lower(), (path, summary)
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_a_route_without_documentation_fails_the_build() -> None:
    async def new(request: web.Request) -> web.Response:
        """GET /api/new: nobody wrote its documentation."""
        return web.Response()

    with pytest.raises(KeyError, match="/api/new is routed but not documented"):
        build_document([*ROUTES, ("/api/new", new)])


def test_only_the_anonymous_routes_may_go_without_the_token(document: Doc) -> None:
    """The document's own list of routes without a token is the app's (ANONYMOUS)."""
    assert document["security"] == [{BEARER: []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            anonymous = path in ANONYMOUS and method == "get"
            assert operation.get("security") == ([{}, {BEARER: []}] if anonymous else None), (method, path)
            assert {"401", "421", "429"} <= set(operation["responses"])


# --- the sample's schema, from FIELDS ------------------------------------------------------------

def types(schema: Doc) -> set[str]:
    kind = schema["type"]
    return {kind} if isinstance(kind, str) else set(kind)


def field_schema(doc: Doc, f: Field) -> Doc:
    node = doc["components"]["schemas"]["Sample"]
    for key in f.keys:
        node = node["properties"][key.removesuffix("[]")]
        if key.endswith("[]"):
            assert "array" in types(node), f.path
            node = node["items"]
    return dict(node)


@pytest.mark.parametrize("f", FIELDS, ids=lambda f: f.path)
def test_every_field_of_the_table_is_in_the_sample_schema(document: Doc, f: Field) -> None:
    schema = field_schema(document, f)
    assert f.description in schema["description"] and f.unit in schema["description"]
    assert (schema["x-unit"], schema["x-kind"]) == (f.unit, f.kind)
    if f.kind != "info":
        assert "null" in types(schema), f"{f.path} is measured: it is null when it cannot be read"


def annotation(path: str) -> Any:
    """The type the TypedDicts give the value at ``path`` (``[]`` steps into rows), or None if none."""
    node: Any = shapes.Sample
    for key in path.split("."):
        if not typing.is_typeddict(node):
            return None
        hint = typing.get_type_hints(node).get(key.removesuffix("[]"))
        if hint is None:
            return None
        node = typing.get_args(without_none(hint))[0] if key.endswith("[]") else hint
    return node


def without_none(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


@pytest.mark.parametrize("f", FIELDS, ids=lambda f: f.path)
def test_json_types_follow_the_unit_and_agree_with_the_typed_dicts(f: Field) -> None:
    """The unit gives the JSON type; the TypedDicts (which give the containers) must agree with it."""
    hint = without_none(annotation(f.path))
    assert hint is not None, f"{f.path} has no TypedDict entry in perfmon.core.shapes"
    origin = typing.get_origin(hint)
    assert origin is SHAPE_ORIGINS[f.shape], (
        f"{f.path}: shape {f.shape!r} but its TypedDict says {hint}; a new shape needs a rule in "
        "perfmon.api.endpoints.openapi_schemas (SHAPE_ORIGINS here)")
    while typing.get_args(hint):
        hint = without_none(typing.get_args(hint)[-1])
    allowed = PYTHON_JSON_TYPES[hint] | ({"number"} if hint is int else set())
    assert json_type(f.unit) in allowed, f"{f.path}: unit {f.unit} is {json_type(f.unit)}, its type {hint}"


def test_every_shape_of_the_table_has_a_rule() -> None:
    assert set(typing.get_args(Shape)) == set(SHAPE_ORIGINS)


# --- documented bounds are the enforced ones ------------------------------------------------------

@pytest.fixture
def monitor(make_monitor: Callable[..., Monitor], tmp_path: Path) -> Monitor:
    """History on disk, as a server keeps it by default: the largest limits apply."""
    return make_monitor(clock=time.time, data_dir=tmp_path / "data")


@pytest.fixture
async def serve(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                monitor: Monitor) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    async def make(token: str | None = None) -> Client:
        config = dataclasses.replace(monitor.config, security=Security(token=token))
        return await aiohttp_client(create_app(config, monitor=monitor, sample=False))

    yield make
    monitor.sampler.shutdown_worker()


def documented_parameters() -> list[tuple[str, Doc]]:
    doc = build_document(ROUTES)
    return [(path, p) for path, item in doc["paths"].items() for p in item["get"].get("parameters", [])
            if p.get("in") == "query"]


def probes(schema: Doc) -> tuple[list[str], list[str]]:
    """Values a handler must accept (at each bound, each choice) and refuse (just beyond each)."""
    if "enum" in schema:
        return list(schema["enum"]), ["x", schema["enum"][0].upper()]
    if schema["type"] == "array":  # selectors: at the most there may be, and one past it; bad ones
        most = schema["maxItems"]
        return [",".join(["memory.percent"] * most), "disks[mountpoint=/].percent"], [
            ",".join(["memory.percent"] * (most + 1)), "", "nosuch.percent", "memory.total_bytes"]
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    accepted = [str(schema["maximum"]), str(low) if "minimum" in schema else f"{low}.000000001"]
    refused = [str(schema["maximum"] + 1), "-1" if low == 0 else str(low - 1)]
    if "exclusiveMinimum" in schema:
        refused.append(str(low))
    if schema["type"] == "integer":
        refused.append(f"{low + 1}.5")
    return accepted, refused


async def refusal(client: Client, path: str, query: dict[str, str], name: str) -> str | None:
    """The 400 message if the answer refuses parameter ``name`` itself (its format or bounds)."""
    response = await client.get(path, params=query)
    if response.status != 400:
        return None
    message = str((await response.json())["error"]["message"])
    return message if re.match(BOUND_REFUSAL.format(name=name), message) else None


@pytest.mark.parametrize(("path", "parameter"), documented_parameters(),
                         ids=lambda v: v if isinstance(v, str) else v["name"])
async def test_documented_bounds_are_the_enforced_ones(
    serve: Callable[..., Awaitable[Client]], monitor: Monitor, path: str, parameter: Doc
) -> None:
    client = await serve()
    await monitor.sampler.sample_once()
    name = parameter["name"]
    context = {"start": "1"} if path == "/api/history" and name in ("end", "points") else {}
    accepted, refused = probes(parameter["schema"])
    for value in accepted:
        assert await refusal(client, path, {**context, name: value}, name) is None, (name, value)
    for value in refused:
        assert await refusal(client, path, {**context, name: value}, name), (name, value)


async def test_no_handler_reads_a_parameter_it_does_not_document(
    serve: Callable[..., Awaitable[Client]], monitor: Monitor, document: Doc
) -> None:
    client = await serve()
    await monitor.sampler.sample_once()
    names = {p["name"] for _, p in documented_parameters()}
    for path, item in document["paths"].items():
        own = {p["name"] for p in item["get"].get("parameters", []) if p.get("in") == "query"}
        for name in names - own:
            response = await client.get(path, params={name: "not-a-value"})
            assert response.status != 400, (path, name, await response.text())


# --- real answers conform -----------------------------------------------------------------------

async def test_the_answers_before_the_first_sample_conform(
    serve: Callable[..., Awaitable[Client]], document: Doc
) -> None:
    client = await serve()
    for path in ("/api/performance", "/api/processes", "/metrics"):
        response = await client.get(path)
        assert response.status == 503 and response.headers["Retry-After"] == "1"
        assert_conforms(document, path, 503, await response.json())
    health = await client.get("/api/health")
    assert health.status == 503
    assert_conforms(document, "/api/health", 503, await health.json())
    tail = await client.get("/api/history")
    assert_conforms(document, "/api/history", 200, await tail.json())


async def test_every_json_answer_conforms(
    serve: Callable[..., Awaitable[Client]], monitor: Monitor, document: Doc
) -> None:
    client = await serve()
    for _ in range(3):  # rates need two samples
        await monitor.sampler.sample_once()
    now = time.time()
    for path, query in [("/", {}), ("/api", {}), ("/api/performance", {}),
                        ("/api/processes", {"sort": "memory"}), ("/api/history", {"limit": "2"}),
                        ("/api/history", {"start": f"{now - 60:.3f}"}), ("/api/health", {}),
                        ("/api/history", {"series": "disks.percent,memory.percent,cpu"}),
                        ("/api/history", {"start": f"{now - 60:.3f}", "series": "network.recv_bytes_per_s"}),
                        ("/api/openapi.json", {})]:
        response = await client.get(path, params=query)
        assert response.status == 200, (path, await response.text())
        assert_conforms(document, path, 200, await response.json())
    csv = await client.get("/api/history", params={"format": "csv"})
    assert csv.content_type in schema_of_media(document, "/api/history")


def schema_of_media(doc: Doc, path: str) -> set[str]:
    return set(doc["paths"][path]["get"]["responses"]["200"]["content"])


async def test_metrics_answers_in_the_two_documented_media_types(
    serve: Callable[..., Awaitable[Client]], monitor: Monitor, document: Doc
) -> None:
    client = await serve()
    await monitor.sampler.sample_once()
    served = set()
    for accept in ("text/plain", "application/openmetrics-text; version=1.0.0,text/plain;q=0.5"):
        response = await client.get("/metrics", headers={"Accept": accept})
        assert response.status == 200
        served.add(response.headers["Content-Type"])
    assert served == schema_of_media(document, "/metrics")


async def test_a_sample_whose_every_reading_failed_conforms(
    serve: Callable[..., Awaitable[Client]], monitor: Monitor, fake_ps: FakePsutil, document: Doc
) -> None:
    client = await serve()
    calls = [name for name in dir(FakePsutil) if not name.startswith("_") and callable(getattr(fake_ps, name))
             and not isinstance(getattr(FakePsutil, name), type)]
    fake_ps.failures = {name: psutil.AccessDenied() for name in calls}
    await monitor.sampler.sample_once()
    sample = await (await client.get("/api/performance")).json()
    assert sample["errors"] and sample["cpu"]["percent"] is None
    assert_conforms(document, "/api/performance", 200, sample)
    processes = await (await client.get("/api/processes")).json()
    assert processes["error"] and processes["count"] is None
    assert_conforms(document, "/api/processes", 200, processes)


async def test_errors_conform_and_name_the_parameter(
    serve: Callable[..., Awaitable[Client]], monitor: Monitor, document: Doc
) -> None:
    client = await serve(token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    await monitor.sampler.sample_once()
    bad = await client.get("/api/processes?limit=101", headers=auth)
    body = await bad.json()
    assert bad.status == 400 and "parameter 'limit'" in body["error"]["message"]
    assert_conforms(document, "/api/processes", 400, body)
    for headers, status in [({}, 401), ({**auth, "Host": "rebound.example"}, 421)]:
        response = await client.get("/api/openapi.json", headers=headers)
        assert response.status == status
        assert_conforms(document, "/api/openapi.json", status, await response.json())
    refused = await client.post("/api/history", headers=auth)
    assert refused.status == 405 and refused.headers["Allow"] == "GET, HEAD"


# --- GET /api/openapi.json -----------------------------------------------------------------------

async def test_the_document_is_served_behind_the_token_with_etag_and_gzip(
    serve: Callable[..., Awaitable[Client]], document: Doc
) -> None:
    client = await serve(token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    refused = await client.get("/api/openapi.json")
    assert refused.status == 401 and refused.headers["WWW-Authenticate"] == 'Bearer realm="perfmon"'
    plain = await client.get("/api/openapi.json", headers={**auth, "Accept-Encoding": "identity"})
    assert plain.status == 200 and plain.content_type == "application/json"
    assert "Content-Encoding" not in plain.headers and plain.headers["Cache-Control"] == "no-cache"
    served = json.loads(await plain.read())
    assert served == json.loads(json.dumps(document))
    validate(served)
    etag = plain.headers["ETag"]
    assert re.fullmatch(r'"openapi-[0-9a-f]{16}"', etag)
    again = await client.get("/api/openapi.json", headers={**auth, "If-None-Match": etag,
                                                            "Accept-Encoding": "identity"})
    assert again.status == 304 and await again.read() == b"" and again.headers["ETag"] == etag
    zipped = await client.get("/api/openapi.json", headers={**auth, "Accept-Encoding": "gzip"},
                              auto_decompress=False)
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert json.loads(gzip.decompress(await zipped.read())) == served
    gz_etag = zipped.headers["ETag"]
    assert gz_etag != etag
    gz_again = await client.get("/api/openapi.json", headers={**auth, "Accept-Encoding": "gzip",
                                                               "If-None-Match": gz_etag})
    assert gz_again.status == 304 and gz_again.headers["ETag"] == gz_etag
