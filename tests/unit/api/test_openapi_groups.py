"""The sample's OpenAPI schema follows the metric groups: rows named by their labels, new fields and groups
appear with no edit of the api, types from the declarations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from perfmon.api.endpoints.openapi_schemas import sample_schema
from perfmon.core.metrics import GROUPS, INDEX, Field, Group
from perfmon.core.schema import ERRORS, FIELDS, empty_sample

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "metrics" / "sample.json"
GPU = Group(
    "gpu", "gpu", "GPUs", "graphics processors",
    fields=(Field("count", "count", "GPUs found"),),
    rows="devices", key=("uuid",), labels={"slot": INDEX},
    row_fields=(Field("uuid", "text", "the GPU's id", kind="info", nullable=False),
                Field("busy_percent", "percent", "time the GPU was busy"),
                Field("clocks_mhz", "mhz", "clocks per domain", shape="map")),
)


def at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema at a dotted sample path (``[]`` steps into the rows)."""
    node = schema
    for key in path.split("."):
        node = node["properties"][key.removesuffix("[]")]
        if key.endswith("[]"):
            node = node["items"]
    return node


@pytest.mark.parametrize("group", [g for g in GROUPS if g.keyed], ids=lambda g: g.name)
def test_each_list_of_rows_names_its_group_and_labels(group: Group) -> None:
    where = f"{group.path}.{group.rows}" if group.rows else group.path
    listed = at(sample_schema(), where)
    assert listed["x-group"] == group.name and listed["x-key"] == list(group.key)
    assert listed["x-labels"] == dict(group.labels)
    assert "array" in listed["type"]


def test_the_disks_rates_per_device_are_in_the_schema() -> None:
    schema = sample_schema()
    for name in ("read_bytes_per_s", "write_bytes_per_s"):
        rate = at(schema, f"disk_io.devices[].{name}")
        assert rate["type"] == ["number", "null"] and rate["x-kind"] == "rate"
    assert at(schema, "disk_io.devices[].name")["type"] == "string"  # declared never null


def test_a_group_registered_later_is_in_the_schema_and_validates_its_rows() -> None:
    fields = (*(f for g in (*GROUPS, GPU) for f in g.placed), *ERRORS)
    schema = sample_schema(fields, (*GROUPS, GPU))
    assert at(schema, "gpu.devices")["x-labels"] == {"uuid": "uuid", "slot": INDEX}
    assert at(schema, "gpu.devices[].clocks_mhz")["type"] == ["object", "null"]
    sample = json.loads(SAMPLE.read_text())
    empty = empty_sample()
    for group in GROUPS:  # the recorded sample predates groups registered since: theirs are as if unread
        if group.path:
            sample.setdefault(group.path.split(".")[0], empty[group.path.split(".")[0]])
    sample["gpu"] = {"count": 1, "devices": [{"uuid": "GPU-a", "busy_percent": None,
                                              "clocks_mhz": {"graphics": 1500.0}}]}
    Draft202012Validator(schema).validate(sample)
    sample["gpu"]["devices"][0]["uuid"] = None
    with pytest.raises(jsonschema.ValidationError):
        Draft202012Validator(schema).validate(sample)
    assert sample_schema() == sample_schema(FIELDS, GROUPS)  # today's groups: nothing else changes
