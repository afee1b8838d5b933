"""JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of what the API answers, derived from the code.

The sample's schema is generated from the metric groups (``perfmon.core.metrics``, through
``perfmon.core.schema.FIELDS``): where each value sits (``[]`` paths become arrays of row
objects), its description, unit and kind, its JSON type from its unit (text: string, bool:
boolean, count: integer, every other unit: number) and its containers from its shape (a list, a
map, a list of maps). Measured fields (every kind but ``info``) may be null, and so may any
number inside them: a value that cannot be read is null (with the reason in ``errors``), and NaN
or an infinity is served as null; an ``info`` value may be null unless declared ``nullable=False``.
Each list of rows names its group and the labels of its rows' series (``x-group``, ``x-key``,
``x-labels``), as selectors (``disks[mountpoint=/].percent``) and history use them. The
TypedDicts of ``perfmon.core.shapes`` are generated from the same groups.

The history's columns come from ``HISTORY_COLUMNS`` and the range buckets' from
``perfmon.store.buckets``. Objects list every property as required and allow no others, so a
field served but not declared fails the schema tests; clients should still ignore properties
they do not know, since later versions add fields (the API's contract is additions only).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

from perfmon.api.endpoints import collector_status
from perfmon.core.metrics import GROUPS, Group, Shape
from perfmon.core.schema import ALWAYS_A_LIST, FIELDS, Field
from perfmon.store.base import Status

Schema = dict[str, Any]
UNIT_TYPES: Mapping[str, str] = {"text": "string", "bool": "boolean", "count": "integer"}  # else number
HEALTH_STATUSES = ("ok", "stale", "starting")  # perfmon.api.endpoints.health.freshness


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


# --- the sample, from the metric groups ----------------------------------------------------------

def shaped(element: Schema, shape: Shape) -> Schema:
    """``element`` in a container of ``shape``: itself, an array of it, or an object of it by key."""
    if shape == "list":
        return array(element)
    if shape == "map":
        return {"type": "object", "additionalProperties": element}
    return element


def value_schema(f: Field) -> Schema:
    """One field's schema: type, nullability, description, unit and kind."""
    measured = f.kind != "info"
    scalar: Schema = {"type": json_type(f.unit)}
    schema = nullable(scalar) if measured else scalar
    for shape in (f.items, f.shape):  # a list of maps: each map, then the list
        schema = shaped(schema, shape)
    if measured or f.nullable:
        schema = nullable(schema)
    return {**schema, "description": f"{f.description} ({f.unit}, {f.kind})", "x-unit": f.unit,
            "x-kind": f.kind}


def identity(group: Group) -> Schema:
    """What names a group's rows: ``x-group``, ``x-key`` (the labels of a row's series) and ``x-labels``
    (each label and the row's key it is read from; ``#``: the row's place in the list)."""
    return {"x-group": group.name, "x-key": list(group.key), "x-labels": dict(group.labels)}


def row_lists(groups: Sequence[Group]) -> dict[str, Group]:
    """The path of each group's list of rows (``disks``, ``network.interfaces``, ``cpu.per_cpu_percent``)."""
    return {(f"{g.path}.{g.rows}" if g.rows else g.path): g for g in groups if g.rows is not None}


def rows_schema(path: str, group: Group | None) -> Schema:
    """A list of rows (``path`` ends in ``[]``): an array, null until read (``errors``: never null)."""
    key = path.removesuffix("[]")
    schema = array(obj({}))
    schema = schema if key == ALWAYS_A_LIST else nullable(schema)
    return {**schema, **identity(group)} if group else schema


def sample_schema(fields: tuple[Field, ...] = FIELDS, groups: Sequence[Group] = GROUPS) -> Schema:
    """The schema of a sample, built from the table field by field, each list of rows named by its group."""
    root = obj({}, "One sample of the host, as the sampler published it; measured values are null "
                   "when they cannot be read, and `errors` says why")
    rows = row_lists(groups)
    for f in fields:
        node, walked = root, []
        *parents, leaf = f.keys
        for key in parents:
            walked.append(key)
            node = child(node, key, ".".join(walked), rows)
        node["properties"][leaf] = value_schema(f)
        if f.path in rows:  # a list of plain values, one row each (cpu.per_cpu_percent)
            node["properties"][leaf].update(identity(rows[f.path]))
        node["required"].append(leaf)
    return root


def child(node: Schema, key: str, path: str, rows: Mapping[str, Group]) -> Schema:
    """The object schema under ``key`` of ``node`` (for ``name[]``: its rows' schema), made if new."""
    name = key.removesuffix("[]")
    if name not in node["properties"]:
        listed = key.endswith("[]")
        node["properties"][name] = rows_schema(path, rows.get(path.removesuffix("[]"))) if listed else obj({})
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

