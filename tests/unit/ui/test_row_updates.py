"""perfmon.ui.row_updates: rows' cards and charts whole when their set changes, else sparse updates."""

from __future__ import annotations

from typing import Any

from perfmon.ui import ids
from perfmon.ui.cards import Thresholds
from perfmon.ui.row_updates import RowHistory, rows_changed, show_rows
from perfmon.ui.view import View
from tests.unit.ui.rowsample import device, disk, sample

CARDS = f"{ids.row_cards('disk_io')}.children"
FIGURE = f"{ids.graph('rows-disk_io')}.figure"
EXTEND = f"{ids.graph('rows-disk_io')}.extendData"


def tick(cursor: dict[str, Any], s: dict[str, Any], history: RowHistory | None = None) -> View:
    view = View()
    show_rows(view, cursor, s, Thresholds(), history)
    return view


def test_first_tick_sends_every_groups_cards_and_chart_whole() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300, "view": "5m"}
    view = tick(cursor, sample(1, devices=[device("sda", 1, 2), device("sdb", 3, 4)]))
    for name in ids.ROW_GROUP_NAMES:
        assert f"{ids.row_cards(name)}.children" in view.updates
        assert f"{ids.row_graph(name)}.figure" in view.updates
    assert len(view.updates[CARDS]) == 2
    assert [t["name"] for t in view.updates[FIGURE]["data"]] == ["sda read", "sda write", "sdb read",
                                                                  "sdb write"]
    assert view.updates[FIGURE]["data"][3]["y"] == [4]  # the sample's point, live
    assert len(cursor["rows"]) == 12 * len(ids.ROW_GROUP_NAMES) and cursor["rseq"] == 1


def test_same_rows_append_a_point_and_set_only_changed_values() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300}
    tick(cursor, sample(1, devices=[device("sda", 1, 2)]))
    view = tick(cursor, sample(2, devices=[device("sda", 10, 2)]))
    assert CARDS not in view.updates and FIGURE not in view.updates
    assert view.updates[EXTEND][0]["y"] == [[10], [2]] and view.updates[EXTEND][2] == 300
    changed = {row[0] for row in view.rows}
    assert changed == {"disk_io[device=sda]"}  # the other groups' values did not change
    again = tick(cursor, sample(2, devices=[device("sda", 10, 2)]))
    assert again.updates == {} and again.rows == []  # the same sample: nothing at all


def test_a_row_that_appears_later_redraws_its_groups_cards_and_chart() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300}
    tick(cursor, sample(1, devices=[device("sda", 1, 2), device("sdb", 1, 2)]))
    view = tick(cursor, sample(2, devices=[device("sda", 1, 2), device("sdb", 1, 2), device("sdc", 5, 6)]))
    assert len(view.updates[CARDS]) == 3
    assert len(view.updates[FIGURE]["data"]) == 6
    assert EXTEND not in view.updates
    assert f"{ids.row_cards('disks')}.children" not in view.updates  # the filesystems did not change


def test_zooms_do_not_append_live_points() -> None:
    cursor: dict[str, Any] = {"mode": "fixed", "max": 300}
    first = tick(cursor, sample(1))
    assert first.updates[FIGURE]["data"][0]["y"] == []
    assert EXTEND not in tick(cursor, sample(2)).updates


def rebuilt() -> View:
    """A view in which the fixed charts were drawn whole."""
    return View(updates={f"{ids.graph('cpu')}.figure": {}})


def test_a_rebuild_draws_the_rows_history_and_remembers_the_api_keeps_it() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300}
    tick(cursor, sample(1))
    view = rebuilt()
    history = RowHistory(["a", "b"], {"disks[mountpoint=/].percent": [10.0, None]})
    show_rows(view, cursor, sample(2, disks=[disk("/", 12.5)]), Thresholds(), history)
    (trace,) = view.updates[f"{ids.row_graph('disks')}.figure"]["data"]
    assert trace["y"] == [10.0, None] and trace["x"] == ["a", "b"]  # up to the sample, as the fixed charts
    assert cursor["rhist"] is True
    (sensor,) = view.updates[f"{ids.row_graph('sensors')}.figure"]["data"]
    assert sensor["y"] == [None, None]  # a row history has nothing of yet: nulls, never made up


def test_buckets_with_history_append_the_buckets_not_the_samples() -> None:
    cursor: dict[str, Any] = {"mode": "buckets", "max": 288}
    show_rows(rebuilt(), cursor, sample(1), Thresholds(), RowHistory(["a"], {}))
    assert EXTEND not in tick(cursor, sample(2)).updates  # no bucket settled: nothing
    bucket = RowHistory(["b"], {"disk_io[device=sda].read_bytes_per_s": [7.0]})
    view = tick(cursor, sample(3), bucket)
    assert view.updates[EXTEND] == [{"x": [["b"]], "y": [[7], [None]]}, [0, 1], 288]


def test_buckets_without_history_append_no_samples() -> None:
    cursor: dict[str, Any] = {"mode": "buckets", "max": 288}
    view = rebuilt()
    show_rows(view, cursor, sample(1), Thresholds(), None)
    assert cursor["rhist"] is False and view.updates[FIGURE]["data"][0]["y"] == []
    assert EXTEND not in tick(cursor, sample(2)).updates  # a sample is no bucket's mean


def test_a_cursor_from_a_page_with_other_groups_starts_afresh() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300, "rows": "0" * 12}
    assert FIGURE in tick(cursor, sample(1)).updates


def test_rows_changed_notices_a_row_that_appeared() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300}
    assert not rows_changed(cursor, sample(1))  # a fresh tab: nothing on screen to differ from
    tick(cursor, sample(1))
    assert not rows_changed(cursor, sample(2))
    assert rows_changed(cursor, sample(3, devices=[device("sda", 1, 2), device("sdb", 1, 2)]))


def test_the_fixed_charts_rebuilt_rebuild_the_row_charts() -> None:
    cursor: dict[str, Any] = {"mode": "raw", "max": 300}
    tick(cursor, sample(1))
    view = View(updates={f"{ids.graph('cpu')}.figure": {}})
    show_rows(view, cursor, sample(1), Thresholds())
    assert FIGURE in view.updates
