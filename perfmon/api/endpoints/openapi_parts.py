"""The parts the OpenAPI document is written with: references, headers, bodies, and a path's answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfmon.api.edge.params import Param

Schema = dict[str, Any]
JSON = "application/json"


def ref(kind: str, name: str) -> Schema:
    """A reference to ``components/<kind>/<name>``."""
    return {"$ref": f"#/components/{kind}/{name}"}


def header(description: str, schema: Schema, required: bool = True) -> Schema:
    """A response header."""
    return {"description": description, "required": required, "schema": schema}


def json_content(schema: Schema) -> Schema:
    """A JSON body of ``schema``."""
    return {JSON: {"schema": schema}}


@dataclass(frozen=True, slots=True)
class PathDoc:
    """What one path answers, beyond the errors every path can give (401, 421, 429, 405)."""

    description: str
    ok: Schema  # the 200 response: description, content, headers
    parameters: tuple[Param, ...] = ()
    etag: bool = False  # If-None-Match: 304 while the representation is unchanged
    unavailable: str | None = None  # when it answers 503 with Retry-After
    unhealthy: str | None = None  # when it answers 503 with the body of its 200
    anonymous: bool = False  # answered without a token too (perfmon.api.app.ANONYMOUS)
    absent: str | None = None  # when it answers 404: what it serves is switched off


def etag_headers() -> Schema:
    """The validator of a cacheable answer."""
    return {"ETag": ref("headers", "ETag")}
