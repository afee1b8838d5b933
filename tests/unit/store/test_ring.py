"""The in-memory history (perfmon/store/ring.py) and its slices (perfmon/store/base.py)."""

from __future__ import annotations

import pytest

from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow, empty_sample, history_row
from perfmon.store import HistorySlice, RingStore


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
