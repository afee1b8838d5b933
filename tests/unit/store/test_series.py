"""Which series history keeps beyond today's columns: derived from the groups (a new group: no store edit)."""

from __future__ import annotations

import pickle

from perfmon.core.metrics import GROUPS, Field, Group, Selector, SeriesKey
from perfmon.core.schema import empty_sample
from perfmon.store.series import (
    COLUMN_OF,
    KEPT,
    ROW_COLUMN_OF,
    Layouts,
    Record,
    _columns,
    _kept,
    field_of,
    layouts_keys,
    matching,
    row_column_keys,
    series_of,
    steps,
)


def test_a_group_not_known_to_the_store_is_kept_per_row_from_its_declaration() -> None:
    sample = empty_sample()
    sample["pressure"] = [{"resource": "cpu", "kind": "some", "avg10_percent": 1.5, "avg60_percent": 1.0},
                          {"resource": "io", "kind": "full", "avg10_percent": None}]
    layout, values = Layouts(GROUPS).values(sample)  # no store code names pressure
    assert [str(k) for k in layout] == ["pressure[resource=cpu,kind=some].avg10_percent",
                                        "pressure[resource=io,kind=full].avg10_percent",
                                        "battery.percent"]  # a section's series: there, null, without one
    assert values == (1.5, None, None)


def test_the_layout_is_one_tuple_while_the_rows_stay_and_changes_with_them() -> None:
    layouts = Layouts()
    sample = empty_sample()
    sample["disks"] = [{"mountpoint": "/", "percent": 10.0}]
    first = layouts.record(sample)
    sample["disks"] = [{"mountpoint": "/", "percent": 11.0}]
    second = layouts.record(sample)
    sample["disks"] = [{"mountpoint": "/", "percent": 12.0}, {"mountpoint": "/boot", "percent": 40.0}]
    third = layouts.record(sample)
    assert series_of(first)[0] is series_of(second)[0] and series_of(second)[1] == (11.0, None)
    assert [str(k) for k in series_of(third)[0]] == ["disks[mountpoint=/].percent",
                                                     "disks[mountpoint=/boot].percent", "battery.percent"]
    assert first == tuple(first) and series_of(tuple(first)) == ((), ())  # still the plain row


BOX = Group("box", "box", "Box", "A made-up group with section series of no column of its own.",
            fields=(Field("level", "percent", "The level.", series=True),
                    Field("note", "text", "A note.", kind="info", series=True),
                    Field("size", "bytes", "Not kept.")),
            rows="parts", key=("part",), labels={"colour": "colour"},
            row_fields=(Field("part", "text", "The part's name.", kind="info"),
                        Field("heat", "celsius", "Its heat.", series=True),
                        Field("spin", "count", "Its spin.", series=True)))
BARE = Group("bare", "bare", "Bare", "Nothing kept.", fields=(Field("size", "bytes", "Not kept."),))
ROOT = SeriesKey("disks", "percent", (("mountpoint", "/"),))
BOOT = SeriesKey("disks", "percent", (("mountpoint", "/boot"),))


def test_a_section_s_series_and_its_rows_make_one_layout_in_the_group_s_order() -> None:
    layouts = Layouts([BARE, BOX])
    sample = {"box": {"level": 5.0, "note": "x", "size": 1,
                      "parts": [{"part": "a", "colour": "red", "heat": 40.0, "spin": 3},
                                {"part": "b", "heat": 41.0}, "not a row"]}}
    layout, values = layouts.values(sample)
    assert [str(k) for k in layout] == ["box.level", "box[part=a].heat", "box[part=a].spin",
                                        "box[part=b].heat", "box[part=b].spin"]  # key labels only
    assert values == (5.0, 40.0, 3, 41.0, None)
    assert layouts.values({"box": None}) == ((SeriesKey("box", "level"),), (None,))
    assert layouts.values({"box": {"level": 1.0, "parts": None}}) == ((SeriesKey("box", "level"),), (1.0,))
    assert Layouts([BARE]).values(sample) == ((), ())


def test_a_layout_changes_with_the_rows_labels_not_their_values() -> None:
    layouts = Layouts([BOX])
    first = layouts.values({"box": {"level": 1.0, "parts": [{"part": "a", "heat": 1.0}]}})
    second = layouts.values({"box": {"level": 2.0, "parts": [{"part": "a", "heat": 2.0}]}})
    third = layouts.values({"box": {"level": 2.0, "parts": [{"part": "b", "heat": 2.0}]}})
    assert second[0] is first[0] and second[1] == (2.0, 2.0, None)
    assert [str(k) for k in third[0]] == ["box.level", "box[part=b].heat", "box[part=b].spin"]
    sample = empty_sample()
    sample["disks"] = [{"mountpoint": "/", "device": "/dev/vda1", "fstype": "ext4", "percent": 10.0}]
    # a disk's device and fstype name no series; the battery's percent is a section's, null here
    assert Layouts().values(sample) == ((ROOT, SeriesKey("battery", "percent")), (10.0, None))


def test_a_record_is_its_row_with_the_series_attached_and_pickles_whole() -> None:
    record = Record((1, 2.0), ((ROOT,), (3.0,)))
    assert record == (1, 2.0) and series_of(record) == ((ROOT,), (3.0,))
    again = pickle.loads(pickle.dumps(record))
    assert isinstance(again, Record) and again == (1, 2.0) and series_of(again) == ((ROOT,), (3.0,))
    assert series_of(Record((1,))) == ((), ()) and series_of([1, 2]) == ((), ())


def test_field_of_and_steps_find_a_kept_field_by_group_name_and_row() -> None:
    section = field_of(SeriesKey("cpu", "percent"))
    per_cpu = field_of(SeriesKey("cpu", "percent", (("cpu", "0"),)))
    assert section is not None and section.history == "cpu_percent"
    assert per_cpu is not None and per_cpu.history == "per_cpu_percent"
    load = field_of(SeriesKey("cpu", "load_1"))
    assert load is not None and load.name == "load_average"
    assert field_of(SeriesKey("memory", "total_bytes")) is None  # not kept
    assert field_of(SeriesKey("disks", "percent")) is None  # a row field, asked of the section
    assert field_of(SeriesKey("nope", "percent")) is None
    assert steps(SeriesKey("cpu", "load_1")) == 100 and steps(ROOT) == 10
    assert steps(SeriesKey("cpu", "percent", (("cpu", "0"),))) == 2 and steps(SeriesKey("nope", "x")) == 1
    assert KEPT[("disks", "percent", True)].name == "percent"
    assert ("disks", "mountpoint", True) not in KEPT and ("sample", "seq", False) not in KEPT


def test_matching_picks_by_selector_then_in_the_order_given_each_once() -> None:
    memory = SeriesKey("memory", "percent")
    keys = [ROOT, memory, BOOT, ROOT]
    assert matching([Selector.parse("memory"), Selector.parse("disks")], keys) == [memory, ROOT, BOOT]
    assert matching([Selector.parse("disks[mountpoint=/boot]"), Selector.parse("disks")], keys) == [
        BOOT, ROOT]
    assert matching([Selector.parse("swap")], keys) == [] and matching([], keys) == []
    assert matching([Selector.parse("disks")], iter(keys)) == [ROOT, BOOT]


def test_layouts_keys_are_every_other_series_in_first_appearance() -> None:
    one, two = (BOOT, ROOT), (ROOT, SeriesKey("sensors", "current_celsius", (("sensor", "cpu"),)))
    rows = [(1,), Record((2,), (one, (1.0, 2.0))), Record((3,), (one, (1.0, 2.0))), Record((4,), ((), ())),
            Record((5,), (two, (1.0, 2.0)))]
    assert layouts_keys(iter(rows)) == [BOOT, ROOT, two[1]]
    assert layouts_keys([]) == []


def test_today_s_columns_as_series() -> None:
    assert {str(k): v for k, v in COLUMN_OF.items()} == {
        "cpu.percent": "cpu_percent", "cpu.load_1": "load_1", "memory.percent": "memory_percent",
        "swap.percent": "swap_percent", "disk_io.read_bytes_per_s": "disk_read_bytes_per_s",
        "disk_io.write_bytes_per_s": "disk_write_bytes_per_s",
        "network.sent_bytes_per_s": "net_sent_bytes_per_s",
        "network.recv_bytes_per_s": "net_recv_bytes_per_s"}
    assert ROW_COLUMN_OF == {("cpu", "percent"): "per_cpu_percent"}
    assert [str(k) for k in row_column_keys(2)] == ["cpu[cpu=0].percent", "cpu[cpu=1].percent"]
    assert row_column_keys(0) == []


def test_kept_fields_are_found_by_group_series_name_and_whether_of_a_row() -> None:
    kept = _kept([BOX, BARE])
    assert {key: f.name for key, f in kept.items()} == {
        ("box", "level", False): "level", ("box", "heat", True): "heat", ("box", "spin", True): "spin"}
    assert _kept(GROUPS) == KEPT


def test_today_s_columns_are_the_fields_with_a_history_column_but_infos() -> None:
    assert _columns(GROUPS) == (COLUMN_OF, ROW_COLUMN_OF)
    assert "seq" not in COLUMN_OF.values() and "timestamp" not in COLUMN_OF.values()  # infos: no series
    assert _columns([BOX, BARE]) == ({}, {})


def test_rows_with_no_series_kept_do_not_change_the_layout() -> None:
    tank = Group("tank", "tank", "Tank", "Rows, none of their fields kept.",
                 fields=(Field("level", "percent", "The level.", series=True),),
                 rows="valves", key=("valve",), row_fields=(Field("valve", "text", "Its.", kind="info"),))
    layouts = Layouts([tank])
    first = layouts.values({"tank": {"level": 1.0, "valves": [{"valve": "a"}]}})
    second = layouts.values({"tank": {"level": 2.0, "valves": [{"valve": "b"}, {"valve": "c"}]}})
    assert first == ((SeriesKey("tank", "level"),), (1.0,)) and second[0] is first[0] and second[1] == (2.0,)
