"""The schema table: the one description of a sample, and what is derived from it."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import pytest

from perfmon.core import schema, shapes
from perfmon.core.schema import FIELDS, HISTORY_COLUMNS, empty_sample, field, history_row
from perfmon.ui.screen import figures, ids
from perfmon.ui.screen.cards import CARDS


def typed_paths(cls: Any, prefix: str = "") -> set[str]:
    """Every leaf path a TypedDict spells, in the schema's path syntax."""
    paths: set[str] = set()
    for name, hint in typing.get_type_hints(cls).items():
        path = f"{prefix}{name}"
        is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        inner = [a for a in typing.get_args(hint) if a is not type(None)] if is_union else [hint]
        row = next((typing.get_args(a)[0] for a in inner if typing.get_origin(a) is list
                    and typing.is_typeddict(typing.get_args(a)[0])), None)
        if row is not None:
            paths |= typed_paths(row, path + "[].")
        elif typing.is_typeddict(inner[0]):
            paths |= typed_paths(inner[0], path + ".")
        else:
            paths.add(path)
    return paths


def test_the_typed_dicts_spell_exactly_the_table() -> None:
    assert typed_paths(shapes.Sample) == {f.path for f in FIELDS}


SUFFIXES = {"bytes": "_bytes", "bytes_per_s": "_bytes_per_s", "ops_per_s": "_ops_per_s",
            "seconds": "_seconds", "mhz": "_mhz", "celsius": "_celsius", "percent": "percent"}


@pytest.mark.parametrize("f", FIELDS, ids=lambda f: f.path)
def test_every_field_says_what_it_is_and_carries_its_unit_in_its_name(f: schema.Field) -> None:
    assert f.description and f.kind in ("gauge", "rate", "counter", "info")
    assert f.kind != "rate" or f.unit.endswith("_per_s")
    name = f.path.removesuffix("_total") if f.kind == "counter" else f.path
    assert (f.kind == "counter") == f.path.endswith("_total")
    if f.unit in SUFFIXES:
        assert name.endswith(SUFFIXES[f.unit])


def test_the_empty_sample_has_every_field_null_and_no_errors() -> None:
    sample = empty_sample()
    assert list(sample) == ["seq", "timestamp", "interval_seconds", "instance_id", "host", "cpu", "memory",
                            "swap", "disks", "disk_io", "network", "processes", "sensors", "pressure",
                            "fans", "battery", "errors"]
    assert sample["errors"] == [] and sample["disks"] is None
    assert sample["network"] == {"sent_bytes_per_s": None, "recv_bytes_per_s": None, "interfaces": None}
    assert sample["cpu"]["load_average"] is None and sample["processes"]["top_cpu"] is None
    assert empty_sample() is not empty_sample() and empty_sample()["errors"] is not sample["errors"]
    json.dumps(sample)


def test_what_a_sampler_writes_into_one_empty_sample_never_shows_in_the_next() -> None:
    first = empty_sample()
    first["errors"].append({"collector": "cpu", "message": "x"})
    first["cpu"]["percent"] = 5.0
    first["memory"].update(percent=1.0, extra=2)
    first["processes"]["top_cpu"] = []
    second = empty_sample()
    assert second["errors"] == [] and second["cpu"]["percent"] is None
    assert "extra" not in second["memory"] and second["processes"]["top_cpu"] is None


def test_history_columns_come_from_the_table() -> None:
    assert HISTORY_COLUMNS[:2] == ("seq", "timestamp")
    assert set(HISTORY_COLUMNS) == {"seq", "timestamp", "cpu_percent", "per_cpu_percent", "load_1",
                                    "memory_percent", "swap_percent", "disk_read_bytes_per_s",
                                    "disk_write_bytes_per_s", "net_sent_bytes_per_s", "net_recv_bytes_per_s"}
    assert field("cpu.load_average").history == "load_1"


def test_a_history_row_picks_each_column_from_its_path() -> None:
    sample = empty_sample()
    sample.update(seq=7, timestamp=1.5)
    sample["cpu"].update(percent=12.5, per_cpu_percent=[10.0, 15.0], load_average=[0.5, 0.25, 0.125])
    sample["disk_io"]["write_bytes_per_s"] = 4096.0
    row = dict(zip(HISTORY_COLUMNS, history_row(sample), strict=True))
    assert row["seq"] == 7 and row["timestamp"] == 1.5 and row["cpu_percent"] == 12.5
    assert row["per_cpu_percent"] == [10.0, 15.0] and row["load_1"] == 0.5
    assert row["disk_write_bytes_per_s"] == 4096.0 and row["memory_percent"] is None


def test_a_missing_load_average_is_a_null_column() -> None:
    row = dict(zip(HISTORY_COLUMNS, history_row(empty_sample()), strict=True))
    assert row["load_1"] is None


def test_an_unknown_field_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"cpu\.nope"):
        field("cpu.nope")


def test_the_dashboard_draws_schema_columns_in_their_units() -> None:
    for chart in figures.LINE_CHARTS:
        assert set(chart.columns) <= set(HISTORY_COLUMNS)
        if chart.unit == "bytes_per_s":  # rates hover in the IEC unit the chart chose (rate_hover)
            assert "MiB/s" in figures.rate_hover("MiB/s")
        else:
            assert chart.unit in figures.HOVER
    assert figures.CORES_COLUMN in HISTORY_COLUMNS


def test_the_cards_show_schema_fields_in_page_order() -> None:
    assert tuple(card.name for card in CARDS) == ids.KPI_NAMES
    for card in CARDS:
        assert card.field.description

