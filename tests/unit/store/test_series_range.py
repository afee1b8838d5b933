"""Range reads of the per-row series: varints found at wanted positions, rows folded as add_series does."""

from __future__ import annotations

from typing import Any

import pytest

from perfmon.core.metrics import SeriesKey
from perfmon.store.buckets import Buckets
from perfmon.store.sqlite.series_range import Picked, fold_rows, merge, picked_of
from perfmon.store.sqlite.varints import decode, pack, picker, unpack

VALUES: list[Any] = [0, 1, -1, 63, -64, 64, 8191, -8192, 8192, 2**27, -(2**27), 2**40 + 5, -(2**50), None, 7]
KEYS = tuple(SeriesKey("disks", "percent", (("mountpoint", f"/m{k}"),)) for k in range(4))


def taken(blob: bytes, positions: tuple[int, ...]) -> list[int | None] | None:
    found = picker(positions)(blob)
    return None if found is None else [decode(v) for v in found.groups()]


@pytest.mark.parametrize("positions", [(0,), (14,), (0, 14), (2, 3, 4), (1, 7, 11, 13), tuple(range(15))])
def test_the_varints_at_wanted_positions_decode_to_what_unpack_gives(positions: tuple[int, ...]) -> None:
    blob = pack(VALUES, [1] * len(VALUES))  # 1 to 8 bytes a value, nulls, both signs
    assert unpack(blob) == VALUES
    assert taken(blob, positions) == [VALUES[p] for p in positions]


def test_a_wanted_position_beyond_the_blob_finds_nothing() -> None:
    blob = pack([1.0, None], [1, 1])
    assert taken(blob, (1,)) == [None] and taken(blob, (0, 2)) is None and taken(b"", (0,)) is None
    assert taken(blob + b"\x80", (2,)) is None  # a value cut short is no value, as for unpack


def reference(rows: list[tuple[int, list[Any]]], wanted: tuple[int, ...], count: int) -> Buckets:
    """What add_series gives for raw rows (bucket, values in steps of 10) of a layout of KEYS."""
    buckets = Buckets(0.0, 1.0, count)
    buckets.want(KEYS)
    for i, values in rows:
        for p in wanted:
            if p < len(values) and values[p] is not None:
                number = round(values[p] * 10) / 10
                buckets.add_series(i, KEYS[p], number, number, number, 1)
    return buckets


def folded(rows: list[tuple[int, list[Any]]], series_ids: tuple[int, ...], count: int) -> Buckets:
    buckets = Buckets(0.0, 1.0, count)
    buckets.want(KEYS)
    picked = picked_of(buckets, (series_ids, KEYS, (10,) * len(KEYS)), {2: KEYS[1], 4: KEYS[3]})
    assert isinstance(picked, Picked) and picked.positions == (1, 3)
    raw = [(i * 1000 + 500, 7, pack(values, [10] * len(values))) for i, values in rows]
    fold_rows(picked, buckets, 0.0, raw)
    return buckets


def test_raw_rows_fold_their_wanted_series_as_add_series_does() -> None:
    rows: list[tuple[int, list[Any]]] = [
        (0, [1.0, 2.5, 9.9, -3.0]), (0, [1.0, 0.5, 9.9, 4.0]), (0, [1.0, 7.5, 9.9, None]),
        (1, [1.0, None, 9.9, None]), (1, [1.0, 2e8, 9.9, None]),  # nulls; a value of 5 bytes
        (2, [1.0, 2.0]),  # a BLOB shorter than its layout: the last series is null
        (2, [1.0, 3000000.0, 9.9, 0.1]), (3, [1.0, 0.0, 9.9, -0.0]), (3, [1.0, None, 9.9, -1e11])]  # 6 bytes
    got, want = folded(rows, (1, 2, 3, 4), 4), reference(rows, (1, 3), 4)
    assert got.extra == want.extra
    assert got.extra[KEYS[1]] == ([0.5, 2e8, 2.0, 0.0], [7.5, 2e8, 3000000.0, 0.0],
                                  [10.5, 2e8, 3000002.0, 0.0], [3, 1, 2, 1])
    assert got.extra[KEYS[3]][3] == [2, 0, 1, 2] and got.extra[KEYS[3]][0][3] == -1e11
    assert got.extra[KEYS[0]][3] == [0] * 4  # not wanted


def test_a_layout_without_a_wanted_series_is_skipped() -> None:
    buckets = Buckets(0.0, 1.0, 2)
    buckets.want(KEYS)
    assert picked_of(buckets, ((1, 3), KEYS[:2], (10, 10)), {2: KEYS[1], 4: KEYS[3]}) is None


def test_tier_rows_merge_as_add_series_does_and_buckets_outside_are_left_alone() -> None:
    rows = [(-1, 5, 5, 5, 1), (0, 10, 30, 60, 3), (1, 0, 0, 0, 0), (2, -20, 40, 20, 2), (3, 1, 1, 1, 1)]
    buckets = Buckets(0.0, 1.0, 3)
    buckets.want([KEYS[0]])
    buckets.add_series(0, KEYS[0], 0.5, 2.0, 1.0, 1)  # from a coarser tier, earlier in the read
    expected = Buckets(0.0, 1.0, 3)
    expected.want([KEYS[0]])
    expected.add_series(0, KEYS[0], 0.5, 2.0, 1.0, 1)
    for b, lo, hi, total, n in rows:
        if n and 0 <= b < 3:
            expected.add_series(b, KEYS[0], lo / 10, hi / 10, total / 10, n)
    merge(buckets.extra[KEYS[0]], 10, 3, rows)
    assert buckets.extra == expected.extra
    assert buckets.extra[KEYS[0]] == ([0.5, None, -2.0], [3.0, None, 4.0], [7.0, 0.0, 2.0], [4, 0, 2])
