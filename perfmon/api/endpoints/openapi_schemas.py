"""JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of what the API answers, derived from the code.

The sample's schema is generated from ``perfmon.core.schema.FIELDS``: where each value sits
(``[]`` paths become arrays of row objects), its description, unit and kind, and its JSON type
from its unit (text: string, bool: boolean, count: integer, every other unit: number). Measured
fields (every kind but ``info``) may be null, and so may any number inside them: a value that
cannot be read is null (with the reason in ``errors``), and NaN or an infinity is served as null.
What the table's ``shape`` cannot say (a list *of maps*, such as ``cpu.per_cpu_seconds_total``)
and whether an ``info`` value may be null come from the TypedDicts of ``perfmon.core.shapes``,
which spell the same table (``tests/test_schema.py`` holds the two together).

The history's columns come from ``HISTORY_COLUMNS`` and the range buckets' from
``perfmon.store.buckets``. Objects list every property as required and allow no others, so a
field served but not declared fails the schema tests; clients should still ignore properties
they do not know, since later versions add fields (the API's contract is additions only).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from perfmon.api.endpoints import collector_status
from perfmon.core import shapes
from perfmon.core.schema import ALWAYS_A_LIST, FIELDS, Field
from perfmon.store.base import Status

Schema = dict[str, Any]
UNIT_TYPES: Mapping[str, str] = {"text": "string", "bool": "boolean", "count": "integer"}  # else number
PYTHON_TYPES: Mapping[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
HEALTH_STATUSES = ("ok", "stale", "starting")  # perfmon.api.endpoints.handlers.freshness


def json_type(unit: str) -> str:
    """The JSON type of one value in ``unit``."""
    return UNIT_TYPES.get(unit, "number")


def nullable(schema: Schema) -> Schema:
    """``schema`` that also admits null."""
    kind = schema.get("type")
    if kind is None or kind == "null" or (isinstance(kind, list) and "null" in kind):
        return schema
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


def obj(properties: Mapping[str, Schema], description: str | None = None) -> Schema:
    """A closed object whose properties are all required."""
    schema: Schema = {"type": "object", "properties": dict(properties), "required": list(properties),
                      "additionalProperties": False}
    return {**schema, "description": description} if description else schema


def array(items: Schema) -> Schema:
    """An array of ``items``."""
    return {"type": "array", "items": items}


# --- the sample, from FIELDS -------------------------------------------------------------------

def annotation(path: str) -> Any:
    """The type the TypedDicts give the value at ``path`` (``[]`` steps into rows), or None if none."""
    node: Any = shapes.Sample
    for key in path.split("."):
        if not typing.is_typeddict(node):
            return None
        hint = typing.get_type_hints(node).get(key.removesuffix("[]"))
        if hint is None:
            return None
        node = row_type(hint) if key.endswith("[]") else hint
    return node


def row_type(hint: Any) -> Any:
    """The element type of ``list[X] | None``."""
    args = typing.get_args(without_none(hint))
    return args[0] if args else None


def without_none(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def admits_none(hint: Any) -> bool:
    """True for ``X | None`` (and for an unknown type: null is then allowed rather than refused)."""
    return hint is None or without_none(hint) is not hint


def container(hint: Any, scalar: Schema, measured: bool) -> Schema:
    """The value's schema after the type ``hint``: lists and maps (nested) of the unit's scalar."""
    bare = without_none(hint)
    origin, args = typing.get_origin(bare), typing.get_args(bare)
    if origin is list and args:
        inner = container(args[0], scalar, measured)
    elif origin is dict and len(args) == 2:
        return {"type": "object", "additionalProperties": container(args[1], scalar, measured)}
    else:
        return nullable(scalar) if measured else scalar
    return array(inner)


def value_schema(f: Field) -> Schema:
    """One field's schema: type, nullability, description, unit and kind."""
    measured = f.kind != "info"
    hint = annotation(f.path)
    scalar: Schema = {"type": json_type(f.unit)}
    if hint is not None:
        schema = container(hint, scalar, measured)
    elif f.shape == "list":
        schema = array(nullable(scalar))
    elif f.shape == "map":
        schema = {"type": "object", "additionalProperties": nullable(scalar)}
    else:
        schema = scalar
    if measured or admits_none(hint):
        schema = nullable(schema)
    return {**schema, "description": f"{f.description} ({f.unit}, {f.kind})", "x-unit": f.unit,
            "x-kind": f.kind}


def rows_schema(path: str) -> Schema:
    """A list of rows (``path`` ends in ``[]``): an array, null until read unless its type says never."""
    key = path.removesuffix("[]")
    never_null = key == ALWAYS_A_LIST or not admits_none(annotation(key))
    schema = array(obj({}))
    return schema if never_null else nullable(schema)


def sample_schema(fields: tuple[Field, ...] = FIELDS) -> Schema:
    """The schema of a sample, built from the table field by field."""
    root = obj({}, "One sample of the host, as the sampler published it; measured values are null "
                   "when they cannot be read, and `errors` says why")
    for f in fields:
        node, walked = root, []
        *parents, leaf = f.keys
        for key in parents:
            walked.append(key)
            node = child(node, key, ".".join(walked))
        node["properties"][leaf] = value_schema(f)
        node["required"].append(leaf)
    return root


def child(node: Schema, key: str, path: str) -> Schema:
    """The object schema under ``key`` of ``node`` (for ``name[]``: its rows' schema), made if new."""
    name = key.removesuffix("[]")
    if name not in node["properties"]:
        node["properties"][name] = rows_schema(path) if key.endswith("[]") else obj({})
        node["required"].append(name)
    made: Schema = node["properties"][name]
    return made["items"] if key.endswith("[]") else made


# --- the history, from HISTORY_COLUMNS and the buckets ---------------------------------------

def column_value(f: Field) -> Schema:
    """One value of a history column: the field's value, or the one element it keeps of a list."""
    scalar: Schema = {"type": json_type(f.unit)}
    if f.history_index is None and f.shape == "list":
        return nullable(array(nullable(scalar)))
    return scalar if f.kind == "info" else nullable(scalar)


def column(values: Schema, description: str) -> Schema:
    """A column: one value per row (or bucket)."""
    return {**array(values), "description": description}


# --- the other answers -------------------------------------------------------------------------

NUMBER, INTEGER, STRING = {"type": "number"}, {"type": "integer"}, {"type": "string"}
BOOLEAN = {"type": "boolean"}


def processes_schema(sorts: tuple[str, ...]) -> Schema:
    """The answer of /api/processes: the last scan's rows (perfmon.sampling.collectors.processes)."""
    row = obj({"pid": INTEGER, "name": nullable(STRING), "username": nullable(STRING),
               "status": nullable(STRING), "cpu_percent": nullable(NUMBER),
               "memory_percent": nullable(NUMBER), "memory_rss_bytes": nullable(INTEGER),
               "num_threads": nullable(INTEGER), "create_time": nullable(NUMBER)})
    return obj({"sampled_at": NUMBER, "count": nullable(INTEGER),
                "sort": {"type": "string", "enum": list(sorts)}, "error": nullable(STRING),
                "processes": array(row)},
               "the process table's last scan (command lines are never read); `count` is null and "
               "`error` says why when the scan failed")


def salvage_schema() -> Schema:
    """The last salvage of a damaged history file (perfmon.store.base.SalvageReport)."""
    when = nullable(NUMBER)
    return obj({"at": NUMBER, "damaged_file": STRING, "problem": STRING, "kept_rows": INTEGER,
                "lost_rows": {**INTEGER, "description": "at least this many rows of the damaged file could "
                                                        "not be read"},
                "lost_rows_exact": {**BOOLEAN, "description": "lost_rows is exact: the damaged file could "
                                                              "still count its rows (else a lower bound)"},
                "lost_spans": {**array({"type": "array", "prefixItems": [when, when], "minItems": 2,
                                        "maxItems": 2}),
                               "description": "[last time read before, first time read after] around each "
                                              "unreadable part (null: the file's start or end)"}},
               "the damaged file was salvaged at `at`: `kept_rows` copied into a new file, the damaged one "
               "kept as `damaged_file`")


def health_schemas() -> tuple[Schema, Schema]:
    """The full answer of /api/health, and the status alone (given without a token)."""
    status = {"type": "string", "enum": list(HEALTH_STATUSES),
              "description": "ok: samples are fresh (200); stale: the last is older than 3 intervals, "
                             "starting: none yet (both 503)"}
    store = obj({"path": nullable(STRING), "size_bytes": nullable(INTEGER),
                 "oldest_timestamp": nullable(NUMBER),
                 "status": {"type": "string", "enum": list(typing.get_args(Status)),
                            "description": "ok; memory: --data-dir none; degraded: writes fail (error says "
                                           "why); salvaged: the file was damaged and salvaged at start, less "
                                           "than a day ago; damaged: damage found while running, history "
                                           "served from memory until a restart salvages the file"},
                 "error": nullable(STRING), "salvaged": nullable(salvage_schema())},
                "where history is kept (path null: in memory), whether writes work, and its last salvage")
    full = obj({"status": status, "version": STRING, "instance_id": STRING, "uptime_seconds": NUMBER,
                "last_sample_age_seconds": nullable(NUMBER), "latest_seq": nullable(INTEGER),
                "interval_seconds": NUMBER, "samples_in_memory": INTEGER, "long_poll_waiters": INTEGER,
                "store": store, "collectors": collector_status.health_schema()},
               "with the token (or on a server without one)")
    return full, obj({"status": status}, "without a token, on a server that has one: the status only")


def index_schema() -> Schema:
    """The answer of / and /api: the server's name and version, and its endpoints."""
    return obj({"name": {"const": "perfmon"}, "version": STRING,
                "endpoints": {"type": "object", "additionalProperties": STRING,
                              "description": "each endpoint's path and what it answers"}})


def error_schema() -> Schema:
    """The JSON body of every error (perfmon.api.edge.errors.error_response)."""
    message = {"type": "string", "description": "what went wrong and what to do; a 400 names the parameter"}
    return obj({"error": obj({"status": {"type": "integer", "minimum": 400, "maximum": 599},
                              "message": message})})

