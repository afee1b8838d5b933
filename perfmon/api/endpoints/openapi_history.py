"""The OpenAPI schemas of /api/history's answers: today's columns, or the series picked with ``series=``
(then described in ``keys``); built from the schema table as the other answers' are."""

from __future__ import annotations

import typing

from perfmon.api.endpoints.openapi_schemas import (
    STRING,
    Schema,
    array,
    column,
    column_value,
    json_type,
    nullable,
    obj,
)
from perfmon.core.schema import HISTORY_FIELDS
from perfmon.store.base import Tier
from perfmon.store.buckets import CORES, VALUE_COLUMNS


def picked_series(first: tuple[str, ...], description: str) -> Schema:
    """The series of an answer with ``series=``: ``first`` columns, then one per series key."""
    value = column(nullable({"type": "number"}), "a series, named by its key (with _min and _max in a range)")
    return {"type": "object", "description": description, "required": list(first),
            "properties": {name: column({"type": "number"}, name) for name in first},
            "additionalProperties": value}


def keys_schema() -> Schema:
    """The ``keys`` of an answer with ``series=``: each series picked, in order."""
    labels = {"type": "object", "additionalProperties": STRING}
    return {**array(obj({"key": STRING, "group": STRING, "field": STRING, "labels": labels,
                         "unit": nullable(STRING), "kind": nullable(STRING)})),
            "description": "with series=: each picked series (its key, group, field, labels, unit and kind)"}


def with_keys(schema: Schema) -> Schema:
    """An answer's schema that may also carry ``keys`` (with series=; not required)."""
    return {**schema, "properties": {**schema["properties"], "keys": keys_schema()}}


def tail_schema() -> Schema:
    """The JSON answer of a cursor read (perfmon.api.history.tail_payload)."""
    series = {f.history: column(column_value(f), f"{f.description} ({f.unit})")
              for f in HISTORY_FIELDS if f.history}
    return with_keys(obj({
        "instance_id": {"type": "string", "description": "changes when the server restarts"},
        "latest_seq": nullable({"type": "integer"}), "first_seq": nullable({"type": "integer"}),
        "interval_seconds": {"type": "number"},
        "truncated": {"type": "boolean", "description": "the cursor was older than the history: rows "
                                                         "between were lost"},
        "series": {"anyOf": [obj(series, "one column per history field, oldest row first"),
                             picked_series(("seq", "timestamp"), "with series=: the picked series")]},
    }, "the rows after `since` (or the last `limit`), as columns"))


def range_series() -> Schema:
    """The series of a range read: each bucket's start, and the mean, min and max of each value column."""
    by_column = {f.history: f for f in HISTORY_FIELDS if f.history}
    series: dict[str, Schema] = {"timestamp": column({"type": "number"}, "each bucket's start, Unix seconds")}
    for name in VALUE_COLUMNS:
        f = by_column[name]
        value = nullable({"type": json_type(f.unit)})
        series[name] = column(value, f"{f.description} ({f.unit}): the bucket's mean, null if empty")
        series[f"{name}_min"] = column(value, f"the lowest {name} measured in the bucket")
        series[f"{name}_max"] = column(value, f"the highest {name} measured in the bucket")
    cores = by_column[CORES]
    series[CORES] = column(column_value(cores), f"{cores.description}: each CPU's mean over the bucket")
    return obj(series, "one value per bucket, oldest first")


def range_schema() -> Schema:
    """The JSON answer of a range read (perfmon.api.history.range_payload)."""
    return with_keys(obj({
        "instance_id": {"type": "string"}, "latest_seq": nullable({"type": "integer"}),
        "start": {"type": "number"}, "end": {"type": "number"},
        "resolution_seconds": {"type": "number", "description": "the width of a bucket"},
        "tier": {"type": "string", "enum": list(typing.get_args(Tier)),
                 "description": "the stored resolution the buckets were read from"},
        "series": {"anyOf": [range_series(),
                             picked_series(("timestamp",), "with series=: the picked series")]},
    }, "equal buckets over [start, end) with min, mean and max per value column"))


