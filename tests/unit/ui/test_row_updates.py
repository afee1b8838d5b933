"""perfmon.ui.tick.row_updates: rows' cards and charts whole when their set changes, else sparse updates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfmon.ui.screen import ids
from perfmon.ui.screen.cards import Thresholds
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.row_updates import RowHistory, rows_changed, show_rows
from perfmon.ui.tick.view import View
from tests.unit.ui.rowsample import device, disk, sample

CARDS = f"{ids.row_cards('disk_io')}.children"
FIGURE = f"{ids.graph('rows-disk_io')}.figure"
EXTEND = f"{ids.graph('rows-disk_io')}.extendData"


@dataclass
class Tab:
    """A tab's cursor from tick to tick."""

    cursor: Cursor

    def show(self, view: View, s: dict[str, Any], history: RowHistory | None = None) -> View:
        self.cursor = show_rows(view, self.cursor, s, Thresholds(), history)
        return view


def tick(tab: Tab, s: dict[str, Any], history: RowHistory | None = None) -> View:
    return tab.show(View(), s, history)


def test_first_tick_sends_every_groups_cards_and_chart_whole() -> None:
    tab = Tab(Cursor(mode="raw", max=300, view="5m"))
    view = tick(tab, sample(1, devices=[device("sda", 1, 2), device("sdb", 3, 4)]))
    for name in ids.ROW_GROUP_NAMES:
        assert f"{ids.row_cards(name)}.children" in view.updates
        assert f"{ids.row_graph(name)}.figure" in view.updates
    assert len(view.updates[CARDS]) == 2
    assert [t["name"] for t in view.updates[FIGURE]["data"]] == ["sda read", "sda write", "sdb read",
                                                                  "sdb write"]
    assert view.updates[FIGURE]["data"][3]["y"] == [4]  # the sample's point, live
    assert len(tab.cursor.rows) == 12 * len(ids.ROW_GROUP_NAMES) and tab.cursor.rseq == 1


def test_same_rows_append_a_point_and_set_only_changed_values() -> None:
    tab = Tab(Cursor(mode="raw", max=300))
    tick(tab, sample(1, devices=[device("sda", 1, 2)]))
    view = tick(tab, sample(2, devices=[device("sda", 10, 2)]))
    assert CARDS not in view.updates and FIGURE not in view.updates
    assert view.updates[EXTEND][0]["y"] == [[10], [2]] and view.updates[EXTEND][2] == 300
    changed = {row[0] for row in view.rows}
    assert changed == {"disk_io[device=sda]"}  # the other groups' values did not change
    again = tick(tab, sample(2, devices=[device("sda", 10, 2)]))
    assert again.updates == {} and again.rows == []  # the same sample: nothing at all


def test_a_row_that_appears_later_redraws_its_groups_cards_and_chart() -> None:
    tab = Tab(Cursor(mode="raw", max=300))
    tick(tab, sample(1, devices=[device("sda", 1, 2), device("sdb", 1, 2)]))
    view = tick(tab, sample(2, devices=[device("sda", 1, 2), device("sdb", 1, 2), device("sdc", 5, 6)]))
    assert len(view.updates[CARDS]) == 3
    assert len(view.updates[FIGURE]["data"]) == 6
    assert EXTEND not in view.updates
    assert f"{ids.row_cards('disks')}.children" not in view.updates  # the filesystems did not change


def test_zooms_do_not_append_live_points() -> None:
    tab = Tab(Cursor(mode="fixed", max=300))
    first = tick(tab, sample(1))
    assert first.updates[FIGURE]["data"][0]["y"] == []
    assert EXTEND not in tick(tab, sample(2)).updates


def rebuilt() -> View:
    """A view in which the fixed charts were drawn whole."""
    return View(updates={f"{ids.graph('cpu')}.figure": {}})


def test_a_rebuild_draws_the_rows_history_and_remembers_the_api_keeps_it() -> None:
    tab = Tab(Cursor(mode="raw", max=300))
    tick(tab, sample(1))
    view = rebuilt()
    history = RowHistory(["a", "b"], {"disks[mountpoint=/].percent": [10.0, None]})
    tab.show(view, sample(2, disks=[disk("/", 12.5)]), history)
    (trace,) = view.updates[f"{ids.row_graph('disks')}.figure"]["data"]
    assert trace["y"] == [10.0, None] and trace["x"] == ["a", "b"]  # up to the sample, as the fixed charts
    assert tab.cursor.rhist is True
    (sensor,) = view.updates[f"{ids.row_graph('sensors')}.figure"]["data"]
    assert sensor["y"] == [None, None]  # a row history has nothing of yet: nulls, never made up


def test_buckets_with_history_append_the_buckets_not_the_samples() -> None:
    tab = Tab(Cursor(mode="buckets", max=288))
    tab.show(rebuilt(), sample(1), RowHistory(["a"], {}))
    assert EXTEND not in tick(tab, sample(2)).updates  # no bucket settled: nothing
    bucket = RowHistory(["b"], {"disk_io[device=sda].read_bytes_per_s": [7.0]})
    view = tick(tab, sample(3), bucket)
    assert view.updates[EXTEND] == [{"x": [["b"]], "y": [[7], [None]]}, [0, 1], 288]


def test_buckets_without_history_append_no_samples() -> None:
    tab = Tab(Cursor(mode="buckets", max=288))
    view = rebuilt()
    tab.show(view, sample(1), None)
    assert tab.cursor.rhist is False and view.updates[FIGURE]["data"][0]["y"] == []
    assert EXTEND not in tick(tab, sample(2)).updates  # a sample is no bucket's mean


def test_a_cursor_from_a_page_with_other_groups_starts_afresh() -> None:
    tab = Tab(Cursor(mode="raw", max=300, rows="0" * 12))
    assert FIGURE in tick(tab, sample(1)).updates


def test_rows_changed_notices_a_row_that_appeared() -> None:
    tab = Tab(Cursor(mode="raw", max=300))
    assert not rows_changed(tab.cursor, sample(1))  # a fresh tab: nothing on screen to differ from
    tick(tab, sample(1))
    assert not rows_changed(tab.cursor, sample(2))
    assert rows_changed(tab.cursor, sample(3, devices=[device("sda", 1, 2), device("sdb", 1, 2)]))


def test_the_fixed_charts_rebuilt_rebuild_the_row_charts() -> None:
    tab = Tab(Cursor(mode="raw", max=300))
    tick(tab, sample(1))
    view = View(updates={f"{ids.graph('cpu')}.figure": {}})
    tab.show(view, sample(1))
    assert FIGURE in view.updates


def test_a_rebuild_over_the_fixed_charts_buckets_sends_their_times_once() -> None:
    tab = Tab(Cursor(mode="raw", max=300))
    view = rebuilt()
    view.x = ["a", "b"]  # the fixed charts' times, which the browser puts into traces without any
    tab.show(view, sample(2), RowHistory(["a", "b"], {"disks[mountpoint=/].percent": [10.0, None]}))
    (trace,) = view.updates[f"{ids.row_graph('disks')}.figure"]["data"]
    assert "x" not in trace and trace["y"] == [10.0, None]
    other = rebuilt()
    other.x = ["a", "c"]  # other times than the rows' (never so today): the traces carry their own
    Tab(Cursor(mode="raw", max=300)).show(other, sample(2), RowHistory(["a", "b"], {}))
    assert other.updates[f"{ids.row_graph('disks')}.figure"]["data"][0]["x"] == ["a", "b"]
