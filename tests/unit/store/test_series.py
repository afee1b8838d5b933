"""Which series history keeps beyond today's columns: derived from the groups (a new group: no store edit)."""

from __future__ import annotations

from perfmon.core.metrics import GROUPS
from perfmon.core.metrics.groups import pressure
from perfmon.core.schema import empty_sample
from perfmon.store.series import Layouts, series_of


def test_a_group_not_known_to_the_store_is_kept_per_row_from_its_declaration() -> None:
    sample = empty_sample()
    sample["pressure"] = [{"resource": "cpu", "kind": "some", "avg10_percent": 1.5, "avg60_percent": 1.0},
                          {"resource": "io", "kind": "full", "avg10_percent": None}]
    layout, values = Layouts((*GROUPS, pressure.GROUP)).values(sample)
    assert [str(k) for k in layout] == ["pressure[resource=cpu,kind=some].avg10_percent",
                                        "pressure[resource=io,kind=full].avg10_percent"]
    assert values == (1.5, None)


def test_the_layout_is_one_tuple_while_the_rows_stay_and_changes_with_them() -> None:
    layouts = Layouts()
    sample = empty_sample()
    sample["disks"] = [{"mountpoint": "/", "percent": 10.0}]
    first = layouts.record(sample)
    sample["disks"] = [{"mountpoint": "/", "percent": 11.0}]
    second = layouts.record(sample)
    sample["disks"] = [{"mountpoint": "/", "percent": 12.0}, {"mountpoint": "/boot", "percent": 40.0}]
    third = layouts.record(sample)
    assert series_of(first)[0] is series_of(second)[0] and series_of(second)[1] == (11.0,)
    assert [str(k) for k in series_of(third)[0]] == ["disks[mountpoint=/].percent",
                                                     "disks[mountpoint=/boot].percent"]
    assert first == tuple(first) and series_of(tuple(first)) == ((), ())  # still the plain row
