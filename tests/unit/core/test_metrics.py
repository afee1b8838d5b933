"""The metric model: groups place their fields, label their rows and yield their series; selectors pick."""

from __future__ import annotations

from typing import Any

import pytest

from perfmon.core.metrics import GROUPS, Field, Group, Selector, SelectorError, SeriesKey, group, kept_fields
from perfmon.core.metrics.groups import network
from perfmon.core.metrics.model import INDEX, quote

SAMPLE: dict[str, Any] = {
    "cpu": {"percent": 30.0, "per_cpu_percent": [10.0, 50.0], "load_average": [0.5, 0.4, 0.3]},
    "disks": [{"mountpoint": "/", "device": "/dev/vda1", "fstype": "ext4", "percent": 41.5},
              {"mountpoint": "/srv", "device": "/dev/vdb", "fstype": "xfs", "percent": 7.0}],
    "network": {"sent_bytes_per_s": 5.0, "recv_bytes_per_s": 9.0,
                "interfaces": [{"name": "lo", "sent_bytes_per_s": 1.0, "recv_bytes_per_s": 1.0},
                               {"name": "eth0", "sent_bytes_per_s": 5.0, "recv_bytes_per_s": 9.0}]},
}


def series(name: str, sample: dict[str, Any] = SAMPLE) -> dict[str, Any]:
    return {str(key): value for key, value in group(name).series(sample)}


def test_rows_are_labelled_by_their_key_and_described_by_the_other_labels() -> None:
    rows = group("disks").rows_of(SAMPLE)
    assert rows is not None
    assert [r.labels for r in rows] == [
        (("mountpoint", "/"), ("device", "/dev/vda1"), ("fstype", "ext4")),
        (("mountpoint", "/srv"), ("device", "/dev/vdb"), ("fstype", "xfs"))]


def test_series_of_a_section_and_of_its_rows() -> None:
    assert series("network") == {
        "network.sent_bytes_per_s": 5.0, "network.recv_bytes_per_s": 9.0,
        "network[interface=lo].sent_bytes_per_s": 1.0, "network[interface=lo].recv_bytes_per_s": 1.0,
        "network[interface=eth0].sent_bytes_per_s": 5.0, "network[interface=eth0].recv_bytes_per_s": 9.0}


def test_a_list_of_plain_values_is_rows_labelled_by_their_place() -> None:
    assert series("cpu") == {"cpu.percent": 30.0, "cpu.load_1": 0.5,
                             "cpu[cpu=0].percent": 10.0, "cpu[cpu=1].percent": 50.0}
    assert group("cpu").labels == {"cpu": INDEX}


def test_a_missing_or_null_section_has_no_rows_and_null_section_series() -> None:
    assert group("disks").rows_of({"disks": None}) is None
    assert series("network", {"network": None}) == {"network.sent_bytes_per_s": None,
                                                   "network.recv_bytes_per_s": None}
    assert series("cpu", {"cpu": {"load_average": []}}) == {"cpu.percent": None, "cpu.load_1": None}


def test_fields_are_placed_where_the_sample_holds_them() -> None:
    paths = {f.path for g in GROUPS for f in g.placed}
    assert {"seq", "host.hostname", "cpu.per_cpu_percent", "disks[].percent",
            "disk_io.devices[].read_bytes_total", "network.interfaces[].name",
            "sensors.temperatures[].current_celsius", "processes.top_cpu[].pid"} <= paths
    cpu = [f.path for f in group("cpu").placed]
    assert cpu[:2] == ["cpu.percent", "cpu.per_cpu_percent"]  # the breakdown follows its total


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"key": ("x",)}, "need rows"),
    ({"rows": "r"}, "rows need a key"),
    ({"rows": "r", "key": ("a",), "labels": {"b": "b"}, "row_fields": (Field("a", "text", "a"),)}, None),
    ({"rows": "r", "key": ("a",), "values": True,
      "row_fields": (Field("a", "count", "a"), Field("b", "count", "b"))}, "exactly one row field"),
    ({"fields": (Field("a", "count", "a"), Field("a", "count", "b"))}, "share a name"),
])
def test_a_group_that_cannot_be_right_is_refused(kwargs: dict[str, Any], why: str | None) -> None:
    if why is None:
        assert Group("g", "g", "G", "g", **kwargs).labels == {"a": "a", "b": "b"}
        return
    with pytest.raises(ValueError, match=why):
        Group("g", "g", "G", "g", **kwargs)


def test_history_steps_come_from_the_unit_unless_the_field_says() -> None:
    assert group("memory").field("percent").steps == 10
    assert group("cpu").row_fields[0].steps == 2
    assert group("cpu").field("load_1").steps == 100


@pytest.mark.parametrize(("text", "picked", "left"), [
    ("network.recv_bytes_per_s", ["network.recv_bytes_per_s", "network[interface=eth0].recv_bytes_per_s",
                                  "network[interface=lo].recv_bytes_per_s"], []),
    ("network[interface!=lo].recv_bytes_per_s", ["network[interface=eth0].recv_bytes_per_s"],
     ["network.recv_bytes_per_s", "network[interface=lo].recv_bytes_per_s"]),
    ("network[].recv_bytes_per_s", ["network.recv_bytes_per_s"], ["network[interface=lo].recv_bytes_per_s"]),
    ("network[interface=~e.*]", ["network[interface=eth0].sent_bytes_per_s"],
     ["network[interface=lo].sent_bytes_per_s", "network.sent_bytes_per_s"]),
    ("network[interface!~e.*]", ["network[interface=lo].sent_bytes_per_s"],
     ["network[interface=eth0].sent_bytes_per_s"]),
    ("network[interface=~et]", [], ["network[interface=eth0].sent_bytes_per_s"]),  # anchored, as Prometheus
    ('disks[mountpoint="/srv"].percent', ["disks[mountpoint=/srv].percent"], ["disks[mountpoint=/].percent"]),
])
def test_a_selector_picks_series(text: str, picked: list[str], left: list[str]) -> None:
    selector = Selector.parse(text)
    every = {str(k): k for name in ("network", "disks") for k, _ in group(name).series(SAMPLE)}
    assert all(selector.matches(every[s]) for s in picked)
    assert not any(selector.matches(every[s]) for s in left)


@pytest.mark.parametrize("text", [
    "memory.percent", "disks[mountpoint=/].percent", 'disks[mountpoint="/mnt/a,b]\\"c"].percent',
    "network[interface!=lo,interface!~veth.*].recv_bytes_per_s", "network[]", "cpu",
])
def test_a_selector_reads_back_as_written(text: str) -> None:
    assert str(Selector.parse(str(Selector.parse(text)))) == str(Selector.parse(text))
    assert Selector.parse('disks[mountpoint="/mnt/a,b]\\"c"]').matchers[0].value == '/mnt/a,b]"c'  # type: ignore[index]


def test_a_series_key_is_written_as_a_selector_that_picks_exactly_it() -> None:
    key = SeriesKey("disks", "percent", (("mountpoint", "/mnt/my disk"),))
    assert str(key) == 'disks[mountpoint="/mnt/my disk"].percent'
    assert Selector.parse(str(key)).matches(key)


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected a group name .* at character 1 of ''"),
    ("Disks.percent", "expected a group name"),
    ("disks[mountpoint/].percent", "expected one of = != =~ !~ at character 17"),
    ("disks[mountpoint=/", "expected ',' or '\\]' at character 19"),
    ('disks[mountpoint="/', "a quoted value is not closed"),
    ("disks[mountpoint=~(].percent", "not a regular expression"),
    ("disks.percent extra", "unexpected text at character 14"),
    ("disks." + "x" * 1000, "at most 1000 characters"),
])
def test_a_broken_selector_says_what_and_where(text: str, message: str) -> None:
    with pytest.raises(SelectorError, match=message):
        Selector.parse(text)


@pytest.mark.parametrize(("text", "message"), [
    ("nothing.percent", "no metric group 'nothing' \\(known: sample, host, cpu"),
    ("disks[interface=lo].percent",
     "disks has no label 'interface' \\(its labels: mountpoint, device, fstype\\)"),
    ("memory[x=1].percent", "memory has no label 'x' \\(its labels: none: it has no rows\\)"),
    ("disks.nothing", "disks has no field 'nothing' \\(kept in history: percent\\)"),
    ("disks.free_bytes", "disks.free_bytes is not kept in history"),
    ("host.hostname", "host.hostname is not kept in history \\(kept: none\\)$"),
    ("host.nothing", "host has no field 'nothing' \\(kept in history: none\\)$"),
    ("cpu.nothing", "cpu has no field 'nothing' \\(kept in history: load_1, percent\\)$"),
    ("cpu.count_logical", "cpu.count_logical is not kept in history \\(kept: load_1, percent\\)$"),
    ("cpu.load_average", "cpu.load_average is not kept in history \\(kept: load_1, percent\\)$"),
])
def test_a_selector_naming_what_does_not_exist_is_refused(text: str, message: str) -> None:
    with pytest.raises(SelectorError, match=message):
        kept_fields(Selector.parse(text))


def test_kept_fields_follow_the_brackets() -> None:
    names = lambda text: [f.series_name for f in kept_fields(Selector.parse(text))[1]]  # noqa: E731
    assert names("cpu") == ["percent", "load_1", "percent"]
    assert names("cpu[]") == ["percent", "load_1"]
    assert names("cpu[cpu=0]") == ["percent"]
    assert names("network[interface=eth0].sent_bytes_per_s") == ["sent_bytes_per_s"]


def test_every_group_is_sound() -> None:
    assert len({g.name for g in GROUPS}) == len(GROUPS)
    for g in GROUPS:
        for f in (*g.fields, *g.row_fields):
            assert f.kind != "info" or not f.kept, f"{g.name}.{f.name}: an info field is no series"
        for label, source in g.labels.items():
            assert source == INDEX or any(f.name == source for f in g.row_fields), (g.name, label)
    assert not kept_fields(Selector.parse("sample"))[1]


def placed(g: Group) -> list[tuple[str, str]]:
    """Where a group placed each of its fields, and with which shape."""
    return [(f.path, f.shape) for f in g.placed]


def test_a_group_places_its_section_then_its_rows_under_its_path() -> None:
    nested = Group("g", "top.g", "G", "d", fields=(Field("total", "count", "t"), Field("map", "count", "m",
                                                                                        shape="map")),
                   rows="items", key=("id",), row_fields=(Field("id", "text", "i"),
                                                          Field("v", "count", "v", shape="list")))
    assert placed(nested) == [("top.g.total", "scalar"), ("top.g.map", "map"), ("top.g.items[].id", "scalar"),
                              ("top.g.items[].v", "list")]
    assert nested.keyed and not Group("s", "s", "S", "d").keyed
    assert placed(Group("s", "", "S", "d", fields=(Field("seq", "count", "s"),))) == [("seq", "scalar")]
    listed = Group("l", "l", "L", "d", rows="", key=("id",), row_fields=(Field("id", "text", "i"),))
    assert placed(listed) == [("l[].id", "scalar")]  # the section is the list


def test_a_list_of_plain_values_is_placed_after_the_field_it_breaks_down() -> None:
    cores = Group("c", "c", "C", "d", fields=(Field("count", "count", "n"), Field("percent", "percent", "p"),
                                              Field("other", "count", "o")),
                  rows="per", key=("cpu",), labels={"cpu": INDEX}, values=True,
                  row_fields=(Field("percent", "percent", "per CPU"),))
    assert placed(cores) == [("c.count", "scalar"), ("c.percent", "scalar"), ("c.per", "list"),
                             ("c.other", "scalar")]
    alone = Group("a", "a", "A", "d", fields=(Field("count", "count", "n"),), rows="per", key=("cpu",),
                  labels={"cpu": INDEX}, values=True, row_fields=(Field("percent", "percent", "per CPU"),))
    assert placed(alone) == [("a.count", "scalar"), ("a.per", "list")]  # nothing it breaks down: last
    rows = Group("r", "r", "R", "d", fields=(Field("v", "count", "total"), Field("w", "count", "w")),
                 rows="rows", key=("id",), row_fields=(Field("v", "count", "v"), Field("id", "text", "i")))
    assert placed(rows)[2:] == [("r.rows[].v", "scalar"), ("r.rows[].id", "scalar")]  # rows of maps: last


def test_a_section_is_found_along_its_path() -> None:
    deep = Group("d", "a.b", "D", "d", fields=(Field("v", "count", "v"),))
    assert deep.section({"a": {"b": {"v": 1}}}) == {"v": 1}
    assert deep.section({"a": 5}) is None and deep.section({"a": None}) is None and deep.section({}) is None
    root = Group("r", "", "R", "d", fields=(Field("v", "count", "v"),))
    assert root.section({"v": 2}) == {"v": 2}


def test_rows_are_labelled_by_place_or_by_value_as_text() -> None:
    g = Group("g", "g", "G", "d", rows="r", key=("n",), labels={"n": INDEX, "name": "name", "size": "size"},
              row_fields=(Field("name", "text", "n"), Field("size", "count", "s")))
    rows = g.rows_of({"g": {"r": [{"name": "a", "size": 5}, {}, 7]}})
    assert rows is not None
    assert [r.labels for r in rows] == [(("n", "0"), ("name", "a"), ("size", "5")),
                                        (("n", "1"), ("name", ""), ("size", ""))]  # not a row: left out
    with pytest.raises(KeyError) as raised:
        g.field("nothing")
    assert raised.value.args == ("g has no field 'nothing'",)


@pytest.mark.parametrize("sample", [SAMPLE, {"disks": None, "network": {"interfaces": "?"}},
                                    {"disks": [{"mountpoint": "/"}, 3, {}], "cpu": {"per_cpu_percent": []}}])
def test_keyed_values_are_the_key_labels_and_values_of_rows_of(sample: dict[str, Any]) -> None:
    for g in (group("disks"), group("network"), group("cpu")):
        names = tuple(f.name for f in g.row_fields)
        rows = g.rows_of(sample) or []
        assert g.keyed_values(sample, names) == (
            [row.labels[:len(g.key)] for row in rows], [row.values.get(n) for row in rows for n in names])


def test_a_label_value_is_quoted_with_its_backslashes_and_quotes_escaped() -> None:
    assert quote("/mnt/a-b_c.d:e@f+g%") == "/mnt/a-b_c.d:e@f+g%" and quote("") == '""'
    assert quote("a\\b") == '"a\\\\b"' and quote('a"b') == '"a\\"b"' and quote("a b") == '"a b"'


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"key": ("x",)}, "g: a key or row fields need rows"),
    ({"rows": "r", "key": ("a",)}, "g: rows need a key and row fields"),
    ({"rows": "r", "row_fields": (Field("a", "text", "a"),)}, "g: rows need a key and row fields"),
    ({"rows": "r", "key": ("a", "a"), "row_fields": (Field("a", "text", "a"),)},
     "g: the key labels come first"),
    ({"rows": "r", "key": ("a",), "values": True,
      "row_fields": (Field("a", "count", "a"), Field("b", "count", "b"))},
     "g: rows of plain values have exactly one row field"),
    ({"key": ("x",), "fields": (Field("a", "count", "a"), Field("a", "count", "b"))},
     "g: a key or row fields need rows; g: two fields share a name"),
])
def test_a_group_that_cannot_be_right_says_each_reason(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        Group("g", "g", "G", "g", **kwargs)
    assert str(raised.value) == message


def test_a_network_counter_is_named_ours_and_exported_under_the_kernel_s_name() -> None:
    sent = network._counter("sent", "transmit", "bytes", "bytes sent")
    assert (sent.name, sent.unit, sent.description, sent.kind, sent.prometheus) == (
        "sent_bytes_total", "bytes", "bytes sent", "counter", "perfmon_network_transmit_bytes_total")
    drops = network._counter("recv", "receive", "drops", "drops")
    assert (drops.name, drops.unit, drops.kind, drops.prometheus) == (
        "recv_drops_total", "count", "counter", "perfmon_network_receive_drops_total")
