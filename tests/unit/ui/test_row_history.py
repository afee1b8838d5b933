"""perfmon.ui.row_history: the selectors of the rows' series, and the answer of /api/history?series=."""

from __future__ import annotations

from perfmon.core.metrics import BY_NAME, Selector, SeriesKey, kept_fields
from perfmon.core.units import chart_time
from perfmon.ui.tick import row_history
from perfmon.ui.tick.row_updates import RowHistory


def test_a_selector_per_charted_field_picks_every_row_and_no_total() -> None:
    found = row_history.selectors()
    assert "disks[mountpoint=~.*].percent" in found
    assert "network[interface=~.*].recv_bytes_per_s" in found
    for text in found:
        selector = Selector.parse(text)
        kept_fields(selector)  # each names what history keeps: the API would not refuse it
        group = BY_NAME[selector.group]
        assert selector.matches(SeriesKey(group.name, selector.field or "", ((group.key[0], ""),)))
        assert not selector.matches(SeriesKey(group.name, selector.field or ""))  # the section's total


def test_an_answer_with_keys_gives_the_rows_columns_at_the_buckets_middles() -> None:
    key = "disks[mountpoint=/].percent"
    answer = {"resolution_seconds": 60, "keys": [{"key": key}],
              "series": {"timestamp": [1_700_000_000.0], key: [12.5], f"{key}_min": [10.0],
                         f"{key}_max": [15.0]}}
    history = row_history.read(answer)
    assert isinstance(history, RowHistory)
    assert history.columns["disks[mountpoint=/].percent"] == [12.5]
    assert history.x == [chart_time(1_700_000_030.0)]  # the middle of the minute


def test_an_api_that_keeps_no_rows_history_answers_without_keys() -> None:
    assert row_history.read({"resolution_seconds": 1, "series": {"timestamp": [], "cpu_percent": []}}) is None
