"""perfmon.ui.screen.rows: which groups are shown row by row, and how rows are named, ordered and coloured."""

from __future__ import annotations

from perfmon.core.metrics import BY_NAME, GROUPS
from perfmon.core.metrics.groups import pressure
from perfmon.ui.screen import rows
from tests.unit.ui.rowsample import disk, sample


def test_the_row_groups_are_derived_from_the_declarations() -> None:
    assert [g.name for g in rows.ROW_GROUPS] == [g.name for g in GROUPS if rows.shown(g)]
    assert {"disks", "disk_io", "network", "sensors"} <= {g.name for g in rows.ROW_GROUPS}
    # plain values (per CPU: the heatmap) and rows history does not keep (top processes) are not
    assert not rows.shown(BY_NAME["cpu"]) and not rows.shown(BY_NAME["processes"])


def test_a_new_group_is_shown_from_its_declaration_alone() -> None:
    group = pressure.GROUP
    assert rows.shown(group)
    found = rows.rows_shown(group, {"pressure": [
        {"resource": "io", "kind": "some", "avg10_percent": 1.5},
        {"resource": "cpu", "kind": "full", "avg10_percent": 0.0}]})
    assert found is not None
    assert [r.name for r in found] == ["pressure[resource=cpu,kind=full]", "pressure[resource=io,kind=some]"]
    assert [r.title for r in found] == ["cpu full", "io some"]


def test_rows_are_named_as_series_keys_sorted_and_titled_by_their_labels() -> None:
    found = rows.rows_shown(BY_NAME["disks"], sample(disks=[disk("/var", 1.0, "/dev/sdb1"), disk("/", 2.0)]))
    assert found is not None
    assert [r.name for r in found] == ["disks[mountpoint=/]", "disks[mountpoint=/var]"]
    assert found[1].title == "/var" and found[1].detail == "device /dev/sdb1 · fstype ext4"
    assert found[1].labels == (("mountpoint", "/var"),)


def test_a_group_missing_from_the_sample_has_no_rows_and_an_empty_one_has_none() -> None:
    assert rows.rows_shown(BY_NAME["disks"], {"disks": None}) is None
    assert rows.rows_shown(BY_NAME["disks"], {"disks": []}) == []


def test_colours_are_distinct_and_keep_to_their_row_while_rows_come() -> None:
    names = [f"disk_io[device=sd{c}]" for c in "abcdefgh"]
    colors = rows.colors_of(names)
    assert len(set(colors.values())) == len(names)
    for count in range(1, len(names)):
        before = rows.colors_of(names[:count])
        after = rows.colors_of(names[:count + 1])
        kept = sum(after[name] == color for name, color in before.items())
        assert kept >= count - 1  # at most the one row whose colour the newcomer took moves
    assert rows.colors_of(list(reversed(names))) == colors  # the order rows arrive in does not matter
