"""The schema: every field of a sample, declared once, and the shapes derived from it.

A sample as served by ``GET /api/performance`` (abridged, from this machine)::

    {"seq": 42, "timestamp": 1795640000.12, "interval_seconds": 1.0, "instance_id": "3f9c0a1b2c4d",
     "host": {"hostname": "box", "platform": "Linux 6.1.0", "boot_time": 1795600000.0,
              "uptime_seconds": 40000.1},
     "cpu": {"percent": 3.5, "per_cpu_percent": [4.0, 3.0], "count_logical": 2,
             "count_physical": 2, "load_average": [0.15, 0.1, 0.04], "frequency_mhz": 2600.0,
             "times_percent": {"user": 2.0, "system": 1.5, "idle": 96.5, "iowait": 0.0, ...}},
     "memory": {"total_bytes": 25200000000, "available_bytes": 24800000000, ...},
     "swap": {"total_bytes": 0, "used_bytes": 0, "free_bytes": 0, "percent": null},
     "disks": [{"mountpoint": "/", "device": "/dev/vda", "fstype": "ext4", ...}],
     "disk_io": {"read_bytes_per_s": 0.0, "write_bytes_per_s": 4096.0, ...},
     "network": {"sent_bytes_per_s": 120.0, "recv_bytes_per_s": 310.5, "interfaces": [...]},
     "processes": {"count": 65, "sampled_at": 1795639998.0, "top_cpu": [...]},
     "sensors": {"temperatures": []},
     "errors": [{"collector": "swap", "message": "no swap space is configured: percent is undefined"}]}

``FIELDS`` is the one table of what a sample holds (in the spirit of Glances'
``fields_description``), derived from the metric groups of ``perfmon.core.metrics``: where each
field sits, its unit, what it means, whether it is a level or a rate, and whether
``/api/history`` keeps it as a column. The empty sample,
the history columns and the dashboard's cards and charts are derived from it; the
``TypedDict`` classes of ``perfmon.core.shapes`` spell the same shape for type checkers, and a test holds
the two together. Every field that cannot be read is ``null`` and the reason is in
``errors``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from perfmon.core.metrics.model import Field, Kind, Shape, Unit
from perfmon.core.metrics.registry import GROUPS

__all__ = ["ALWAYS_A_LIST", "FIELDS", "FIELDS_BY_PATH", "HISTORY_COLUMNS", "HISTORY_FIELDS", "HISTORY_UNITS",
           "Field", "HistoryRow", "Kind", "Shape", "Unit", "empty_sample", "field", "history_row"]

ERRORS: tuple[Field, ...] = (
    Field("collector", "text", "the collector that could not read a field", kind="info",
          nullable=False, path="errors[].collector"),
    Field("message", "text", "why, in words", kind="info", nullable=False, path="errors[].message"),
)
# Every field of a sample, in the sample's order: each group's, placed by the group, then the errors.
FIELDS: tuple[Field, ...] = (*(f for g in GROUPS for f in g.placed), *ERRORS)

FIELDS_BY_PATH: Mapping[str, Field] = {f.path: f for f in FIELDS}
HISTORY_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.history)  # today's columns
# The columns of /api/history, in order; each row a store keeps is a tuple in this order.
HISTORY_COLUMNS: tuple[str, ...] = tuple(f.history for f in HISTORY_FIELDS if f.history)
HISTORY_UNITS: Mapping[str, Unit] = {f.history: f.unit for f in HISTORY_FIELDS if f.history}
ALWAYS_A_LIST = "errors"  # the one list that is empty, never null, when nothing is in it

HistoryRow = tuple[Any, ...]


def field(path: str) -> Field:
    """The field at ``path``; KeyError names it if the schema has no such field."""
    return FIELDS_BY_PATH[path]


def empty_sample() -> dict[str, Any]:
    """The sample's full shape with every measured field null (and no errors)."""
    # Copied from a shape built once: building it from FIELDS took about 0.4 ms, every sample.
    return _fresh(_empty_shape())


@functools.cache
def _empty_shape() -> dict[str, Any]:
    sample: dict[str, Any] = {}
    for f in FIELDS:
        node = sample
        *parents, leaf = f.keys
        for key in parents:
            if key.endswith("[]"):
                break
            node = node.setdefault(key, {})
        else:
            node[leaf] = None  # a leaf never ends in []: rows always have fields
            continue
        node[key.removesuffix("[]")] = None  # a list of rows: null until read
    sample[ALWAYS_A_LIST] = []
    return sample


def _fresh(shape: dict[str, Any]) -> dict[str, Any]:
    """A copy of a shape of nested dicts whose leaves are None or an empty list (each list new)."""
    return {key: None if value is None else _fresh(value) if type(value) is dict else []
            for key, value in shape.items()}


def _value(sample: Mapping[str, Any], f: Field) -> Any:
    value: Any = sample
    for key in f.keys:
        value = value[key]
    if f.history_index is not None:
        return value[f.history_index] if value else None
    return value


def history_row(sample: Mapping[str, Any]) -> HistoryRow:
    """The compact row of a sample that a history store keeps, in HISTORY_COLUMNS order."""
    return tuple(_value(sample, f) for f in HISTORY_FIELDS)
