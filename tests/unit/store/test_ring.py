"""The in-memory history (perfmon/store/ring.py) and its slices (perfmon/store/base.py)."""

from __future__ import annotations

import pytest

from perfmon.core.metrics import Selector
from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow, empty_sample, history_row
from perfmon.store import HistorySlice, RingStore
from perfmon.store.base import SalvageReport, StoreStatus
from perfmon.store.ring import slice_rows


def sample(seq: int) -> dict[str, object]:
    sample = empty_sample()
    sample.update(seq=seq, timestamp=seq / 2)  # unlike seq, so a mix-up of the two columns shows
    sample["cpu"]["percent"] = float(seq)
    return sample


def ring(size: int, count: int) -> RingStore:
    """A ring of ``size`` rows after samples 1 to ``count`` were appended."""
    store = RingStore(size)
    for seq in range(1, count + 1):
        store.append(sample(seq))
    return store


def seqs(result: HistorySlice) -> list[int]:
    return [row[0] for row in result.rows]


def test_an_empty_ring_holds_nothing() -> None:
    store = RingStore(5)
    assert len(store) == 0 and store.first_seq is None and store.latest_seq is None
    for since in (None, 0, 3):
        result = store.read(since, 10)
        assert list(result.rows) == [] and result.truncated is False


def test_the_ring_keeps_the_last_size_samples_as_rows() -> None:
    store = ring(5, 7)
    assert len(store) == 5 and store.first_seq == 3 and store.latest_seq == 7
    assert list(store.read(None, 1).rows) == [history_row(sample(7))]


@pytest.mark.parametrize(("limit", "expected"), [
    (3, [5, 6, 7]), (5, [3, 4, 5, 6, 7]), (100, [3, 4, 5, 6, 7]),
])
def test_without_a_cursor_the_last_limit_rows(limit: int, expected: list[int]) -> None:
    result = ring(5, 7).read(None, limit)
    assert seqs(result) == expected and result.truncated is False


@pytest.mark.parametrize(("since", "limit", "expected", "truncated"), [
    (8, 100, list(range(9, 16)), False),  # from the far end of the ring
    (8, 2, [9, 10], False),
    (12, 100, [13, 14, 15], False),  # from the near end, as polls do
    (12, 2, [13, 14], False),  # oldest first even when walked from the near end
    (5, 100, list(range(6, 16)), False),  # the cursor is just before the oldest row: nothing lost
    (4, 100, list(range(6, 16)), True),  # seq 5 was dropped
    (0, 3, [6, 7, 8], True),
    (15, 100, [], False),  # up to date
    (500, 100, [], False),  # a cursor from another server instance
])
def test_a_cursor_reads_the_rows_after_it_oldest_first(
    since: int, limit: int, expected: list[int], truncated: bool
) -> None:
    result = ring(10, 15).read(since, limit)  # holds seqs 6 to 15
    assert seqs(result) == expected and result.truncated is truncated


def test_a_slice_is_one_list_per_column() -> None:
    columns = ring(5, 3).read(None, 2).columns()
    assert list(columns) == list(HISTORY_COLUMNS)
    assert columns["seq"] == [2, 3] and columns["timestamp"] == [1.0, 1.5]
    assert columns["cpu_percent"] == [2.0, 3.0] and columns["memory_percent"] == [None, None]


def test_an_empty_slice_has_every_column_empty() -> None:
    assert HistorySlice([], truncated=False).columns() == {name: [] for name in HISTORY_COLUMNS}


FULL: HistoryRow = history_row(sample(1))


@pytest.mark.parametrize("rows", [[FULL[:-1]], [FULL, (*FULL, "extra")]], ids=["short", "long"])
def test_rows_that_do_not_fit_the_columns_are_refused_not_cut(rows: list[HistoryRow]) -> None:
    with pytest.raises(ValueError, match="zip"):
        HistorySlice(rows, truncated=False).columns()


def test_the_ring_says_it_is_in_memory_and_since_when() -> None:
    store = RingStore(3, interval_seconds=2.0)
    assert store.max_limit == 3 and store.interval_seconds == 2.0 and RingStore(3).interval_seconds == 1.0
    assert RingStore(3).oldest_timestamp is None
    assert store.status() == StoreStatus(path=None, size_bytes=None, oldest_timestamp=None, status="memory")
    for seq in range(1, 5):
        store.append(sample(seq))
    assert store.oldest_timestamp == 1.0  # seq 2
    assert store.status() == StoreStatus(path=None, size_bytes=None, oldest_timestamp=1.0, status="memory")
    store.close()
    assert len(store) == 3


def test_rows_made_elsewhere_are_appended_as_they_are_and_read_back() -> None:
    store = ring(3, 2)
    row = (*history_row(sample(3))[:-1], 42.0)
    store.append_row(row)
    assert store.latest_seq == 3 and store.read(2, 10).rows == [row]
    snapshot = store.snapshot()
    store.append(sample(4))
    assert [r[0] for r in snapshot] == [1, 2, 3] and seqs(store.read(None, 10)) == [2, 3, 4]
    cached = store.read_cached(2, 10)
    assert cached == store.read(2, 10) and seqs(cached) == [3, 4]


def test_slice_rows_reads_a_snapshot_as_the_ring_does() -> None:
    rows = ring(10, 15).snapshot()
    assert slice_rows(rows, 12, 2) == HistorySlice(rows[7:9], truncated=False)
    assert slice_rows(rows, 6, 2) == HistorySlice(rows[1:3], truncated=False)
    assert slice_rows(rows, 10, 100) == HistorySlice(rows[5:], truncated=False)  # start is half: far end
    assert slice_rows(rows, 11, 100) == HistorySlice(rows[6:], truncated=False)  # past half: near end
    assert slice_rows(rows, 14, 1) == HistorySlice(rows[9:], truncated=False)
    assert slice_rows(rows, 13, 1) == HistorySlice(rows[8:9], truncated=False)
    assert slice_rows(rows, None, 0) == HistorySlice([], truncated=False)
    assert slice_rows(rows, 12, 0) == HistorySlice([], truncated=False)
    assert slice_rows([], 3, 1) == HistorySlice([], truncated=False)


def test_a_range_read_buckets_the_rows_and_the_series_selectors_pick() -> None:
    store = RingStore(100, interval_seconds=0.5)
    for seq in range(1, 9):  # timestamps 0.5 to 4.0
        one = sample(seq)
        one["disks"] = [{"mountpoint": "/", "percent": float(seq)}] if seq < 5 else [
            {"mountpoint": "/boot", "percent": 50.0}]
        store.append(one)
    result = store.read_range(1.0, 2.5, 2, [Selector.parse("disks")])
    assert (result.tier, result.resolution_seconds) == ("raw", 1.0)
    assert result.series["timestamp"] == [1.0, 2.0] and result.series["cpu_percent"] == [2.5, 4.5]
    assert [str(k) for k in result.extra] == ["disks[mountpoint=/].percent"]  # /boot from 2.5 s: after
    assert result.extra[next(iter(result.extra))] == ([2.5, 4.0], [2.0, 4.0], [3.0, 4.0])
    wider = store.read_range(1.0, 5.0, 2, [Selector.parse("disks[mountpoint=/boot]")])
    assert [str(k) for k in wider.extra] == ["disks[mountpoint=/boot].percent"]
    assert wider.resolution_seconds == 2.0
    from_two = store.read_range(2.0, 4.5, 2, [Selector.parse("disks")])  # / is last at 2.0 s: the start
    assert [str(k) for k in from_two.extra] == ["disks[mountpoint=/].percent",
                                                "disks[mountpoint=/boot].percent"]
    assert store.read_range(1.0, 3.0, 2).extra == {}
    assert RingStore(3).read_range(0.0, 10.0, 5).series["timestamp"] == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_a_salvage_report_is_given_as_health_gives_it() -> None:
    report = SalvageReport(at=5.0, damaged_file="/d/h.damaged", problem="malformed", kept_rows=10,
                           lost_rows=2, lost_rows_exact=False, lost_spans=((1.0, 2.0), (None, 3.0)))
    assert report.as_json() == {"at": 5.0, "damaged_file": "/d/h.damaged", "problem": "malformed",
                                "kept_rows": 10, "lost_rows": 2, "lost_rows_exact": False,
                                "lost_spans": [[1.0, 2.0], [None, 3.0]]}
