"""``GET /api/openapi.json``: this API in OpenAPI 3.1, generated from the code that serves it.

Nothing here is a copy that can drift: the paths are the app's GET routes (``app.ROUTES``, read from
its router, as ``app`` imports this module), each summary is its handler's docstring, the query
parameters are the very objects the handlers read (``perfmon.api.edge.params``), and the response
schemas are derived from the schema table (``openapi_schemas``, ``openapi_history``). :func:`path_docs` adds
per path what code cannot say: which answers it gives (304, 503, CSV, Prometheus' formats), why, and
whether it needs the token (tests hold that to ``ANONYMOUS``). A routed path it lacks fails the build.

The document needs the token, like every route but ``/api/health``: it is API surface, it names the
server's version (which ``Server: perfmon`` keeps from scanners) and every endpoint, and a client
that may call the API has the token anyway. It is built on an app's first request (JSON and gzip
bytes, an ETag from their content) and served like a sample: 304 to If-None-Match, gzip if accepted.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web

from perfmon import __version__
from perfmon.api.edge.params import openapi_parameter
from perfmon.api.edge.responses import accepts_gzip, etag_matches, not_modified, snapshot_headers
from perfmon.api.edge.security import CHALLENGE
from perfmon.api.endpoints import openapi_alerts
from perfmon.api.endpoints import openapi_history as history_schemas
from perfmon.api.endpoints import openapi_schemas as schemas
from perfmon.api.endpoints.longpoll import AFTER, WAIT
from perfmon.api.endpoints.metrics.prometheus import OPENMETRICS, TEXT
from perfmon.api.endpoints.openapi_parts import PathDoc, Schema, etag_headers, header, json_content, ref
from perfmon.api.endpoints.openapi_paths import health_doc, history_doc
from perfmon.api.endpoints.processes import PROCESS_PARAMETERS, PROCESS_SORT
from perfmon.sampling.snapshot import GZIP_LEVEL

Route = tuple[str, Callable[..., Any]]
OPENAPI_VERSION, BEARER = "3.1.0", "bearerAuth"
OTHER_METHODS = ("put", "post", "patch", "delete")  # answered 405 (with Allow) on every path


def path_docs() -> dict[str, PathDoc]:
    """Each path's answers, by path; a route is documented only while it is routed."""
    index = PathDoc("The server's name and version, and its endpoints.",
                    {"description": "what this server is", "content": json_content(ref("schemas", "Index"))})
    return {
        "/": index,
        "/api": index,
        "/api/performance": PathDoc(
            "The latest sample. With If-None-Match naming its ETag: 304, or with `wait` a long-poll that "
            "answers the next sample once published (or with `after`, the latest sample's seq).",
            {"description": "the latest sample", "content": json_content(ref("schemas", "Sample")), "headers":
             etag_headers()}, (WAIT, AFTER), etag=True,
            unavailable="before the first sample, or when too many long-polls wait"),
        "/api/history": history_doc(),
        "/api/processes": PathDoc(
            "The last scan of the process table, sorted, highest first.",
            {"description": "the process table", "content": json_content(ref("schemas", "Processes")),
             "headers": etag_headers()},
            PROCESS_PARAMETERS, etag=True, unavailable="before the first scan", absent="--collectors off"),
        "/api/health": health_doc(),
        "/api/openapi.json": PathDoc(
            "This document (generated from the routes, the parameters and the schema table).",
            {"description": "the OpenAPI document", "headers": etag_headers(), "content": json_content(
                {"type": "object", "required": ["openapi", "info", "paths"]})}, etag=True),
        "/metrics": PathDoc(
            "The latest sample for Prometheus, in its text format or, when Accept lists it, in "
            "OpenMetrics; gzip when accepted. Counters end in _total, units are base units, ratios 0-1.",
            {"description": "the exposition", "content": {TEXT: {"schema": {"type": "string"}},
                                                          OPENMETRICS: {"schema": {"type": "string"}}}},
            unavailable="before the first sample"),
        **openapi_alerts.path_docs(),
    }


def summary(handler: Callable[..., Any]) -> str:
    """The first line of the handler's docstring, without its ``GET /path:`` prefix."""
    lines = (handler.__doc__ or "").strip().splitlines()
    text = re.sub(r"^GET \S+:\s*", "", lines[0] if lines else "")
    return text[:1].upper() + text[1:]


def operation_id(method: str, path: str) -> str:
    """``get_api_history`` for GET /api/history; ``get_root`` for /."""
    return f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_') or 'root'}"


def responses(doc: PathDoc) -> Schema:
    """Every answer of a GET on the path."""
    answers: Schema = {"200": doc.ok}
    if doc.etag:
        answers["304"] = {"description": "not modified: the ETag in If-None-Match is current (no body)",
                          "headers": etag_headers()}
    if doc.parameters:
        answers["400"] = ref("responses", "BadRequest")
    answers |= {"401": ref("responses", "Unauthorized"), "421": ref("responses", "Misdirected"),
                "429": ref("responses", "TooManyRequests")}
    if doc.absent:
        answers["404"] = {"description": doc.absent, "content": json_content(ref("schemas", "Error"))}
    if doc.unavailable:
        answers["503"] = {**ref("responses", "Unavailable"), "description": f"not now: {doc.unavailable}"}
    if doc.unhealthy:
        answers["503"] = {**doc.ok, "description": doc.unhealthy}
    return answers


def get_operation(path: str, handler: Callable[..., Any], doc: PathDoc) -> Schema:
    """The GET operation of one route."""
    parameters = [openapi_parameter(p) for p in doc.parameters]
    if doc.etag:
        parameters.append(ref("parameters", "IfNoneMatch"))
    operation: Schema = {"operationId": operation_id("get", path), "summary": summary(handler),
                         "description": doc.description, "responses": responses(doc)}
    if parameters:
        operation["parameters"] = parameters
    if doc.anonymous:
        operation["security"] = [{}, {BEARER: []}]  # no Authorization header at all is fine too
    return operation


def refused(method: str, path: str, writes: Sequence[str] = ()) -> Schema:
    """Any other method on a route: 405 with Allow (after the same Host and token checks)."""
    names = {"405": "MethodNotAllowed", "401": "Unauthorized", "421": "Misdirected", "429": "TooManyRequests"}
    answers: Schema = {status: ref("responses", name) for status, name in names.items()}
    allow = ", ".join(sorted({"GET", "HEAD", *(m.upper() for m in writes)}))
    if writes:  # a path that takes more than GET says so in its Allow
        answers["405"] = {"description": f"only {allow}", "content": json_content(ref("schemas", "Error")),
                          "headers": {str(hdrs.ALLOW): header("the methods allowed", {"const": allow})}}
    return {"operationId": operation_id(method, path), "summary": f"Not allowed: only {allow}",
            "responses": answers}


def build_document(routes: Sequence[Route]) -> Schema:
    """The OpenAPI document of ``routes``; KeyError names a routed path that has no documentation."""
    docs, writes = path_docs(), openapi_alerts.write_operations()
    paths: Schema = {}
    for path, handler in routes:
        if path not in docs:
            raise KeyError(f"{path} is routed but not documented: add it to "
                           "perfmon.api.endpoints.openapi.path_docs")
        item: Schema = {"get": get_operation(path, handler, docs[path]), **writes.get(path, {})}
        more = tuple(writes.get(path, {}))
        paths[path] = item | {m: refused(m, path, more) for m in OTHER_METHODS if m not in item}
    return {"openapi": OPENAPI_VERSION, "info": info(), "paths": paths, "components": components(),
            "security": [{BEARER: []}]}


def info() -> Schema:
    """Title, version, and the rules every endpoint follows."""
    return {"title": "perfmon API", "version": __version__, "license": {"name": "MIT", "identifier": "MIT"},
            "description": (
                "A host performance monitor: one sampler publishes a sample every interval, and every "
                "endpoint reads what it published. Every endpoint answers GET and HEAD; errors are JSON "
                "(`{\"error\": {\"status\": N, \"message\": \"...\"}}`), an unknown path is a JSON 404. "
                "The Host header must name the server (else 421). With a token configured, send "
                "`Authorization: Bearer <token>` (else 401; repeated wrong tokens from one address earn "
                "429 with Retry-After). Answers of 1 KB or more are gzip-compressed for clients that "
                "accept it. Timestamps are Unix seconds; units are in the names. Later versions only add "
                "fields: ignore what you do not know.")}


def components() -> Schema:
    """Schemas, shared responses and headers, and the Bearer scheme."""
    health, status_only = schemas.health_schemas()
    return {
        "schemas": {"Sample": schemas.sample_schema(), "HistoryTail": history_schemas.tail_schema(),
                    "HistoryRange": history_schemas.range_schema(), "Error": schemas.error_schema(),
                    "Processes": schemas.processes_schema(PROCESS_SORT.choices), "Health": health,
                    "HealthStatus": status_only, "Index": schemas.index_schema(), **openapi_alerts.schemas()},
        "responses": shared_responses(ref("schemas", "Error")),
        "headers": {
            "ETag": header("the answer's entity tag, for If-None-Match", {"type": "string"}),
            "RetryAfter": header("seconds to wait before retrying", {"type": "integer", "minimum": 1}),
        },
        "parameters": {"IfNoneMatch": {
            "name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "the ETag(s) the client holds (weak comparison, `*` included): 304 if current"}},
        "securitySchemes": {BEARER: {
            "type": "http", "scheme": "bearer",
            "description": "the server's token (PERFMON_TOKEN or --token-file); a server without one, "
                           "which listens on loopback only, asks for none"}},
    }


def shared_responses(error: Schema) -> Schema:
    """The error answers every path shares; their body is always the JSON error."""
    retry = {"Retry-After": ref("headers", "RetryAfter")}
    return {
        "BadRequest": {"description": "a query parameter is malformed, out of bounds, repeated, or goes "
                                      "with one it cannot: the message names it",
                       "content": json_content(error)},
        "Unauthorized": {"description": "no token, or a wrong one", "content": json_content(error),
                         "headers": {str(hdrs.WWW_AUTHENTICATE): header(
                             "the Bearer challenge", {"const": CHALLENGE[str(hdrs.WWW_AUTHENTICATE)]})}},
        "Misdirected": {"description": "the Host header does not name this server (--allowed-hosts): "
                                       "refused before the token is checked", "content": json_content(error)},
        "TooManyRequests": {"description": "too many wrong tokens from this address: every request from it "
                                           "is refused until Retry-After", "content": json_content(error),
                            "headers": retry},
        "Unavailable": {"description": "not now", "content": json_content(error), "headers": retry},
        "MethodNotAllowed": {"description": "only GET and HEAD", "content": json_content(error),
                             "headers": {str(hdrs.ALLOW): header("the methods allowed",
                                                                 {"const": "GET, HEAD"})}},
    }


@dataclass(frozen=True, slots=True)
class Served:
    """The document's bytes, made once: JSON, gzip, and the ETag of the JSON."""

    body: bytes
    body_gzip: bytes
    etag: str

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Served:
        """Serialise ``document``; the ETag depends only on its content."""
        body = json.dumps(document, separators=(",", ":")).encode()
        tag = hashlib.sha256(body).hexdigest()[:16]
        return cls(body, gzip.compress(body, GZIP_LEVEL, mtime=0), f"openapi-{tag}")


def routed(router: web.UrlDispatcher) -> tuple[Route, ...]:
    """The GET routes of ``router`` as (path, handler), in the order they were added; not the fallback."""
    return tuple((route.resource.canonical, route.handler) for route in router.routes()
                 if route.method == hdrs.METH_GET and isinstance(route.resource, web.PlainResource))


@functools.lru_cache(maxsize=4)
def served(routes: tuple[Route, ...]) -> Served:
    """The document of these routes, serialised on first use and kept (per application)."""
    return Served.of(build_document(routes))


async def openapi_json(request: web.Request) -> web.Response:
    """GET /api/openapi.json: this API described in OpenAPI 3.1, generated from its routes and schema."""
    doc = served(routed(request.app.router))
    gzip_ok = accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    etag = f"{doc.etag}-gzip" if gzip_ok else doc.etag
    if etag_matches(request, doc.etag, f"{doc.etag}-gzip"):
        return not_modified(etag)
    if gzip_ok:
        return web.Response(body=doc.body_gzip, headers=snapshot_headers(etag, "gzip"))
    return web.Response(body=doc.body, headers=snapshot_headers(etag, None))
