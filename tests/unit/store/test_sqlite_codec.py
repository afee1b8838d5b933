"""History rows as SQLite keeps them (perfmon.store.sqlite.codec): scaled integers, a byte per CPU."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from perfmon.core.schema import HISTORY_COLUMNS
from perfmon.store.sqlite.codec import (
    CORE_NULL,
    RAW_COLUMNS,
    SCALES,
    decode_cores,
    decode_row,
    encode_cores,
    encode_row,
    pack_sums,
    scaled,
    to_ms,
    unpack_sums,
)

ROW = (42, 1_700_000_000.1234, 12.34, [0.0, 50.5, 100.0], 1.237, 45.67, 0.04,
       1024.4, 2048.6, 10.0, 20.0)  # HISTORY_COLUMNS order


def test_the_raw_columns() -> None:
    assert RAW_COLUMNS == ("t", "instance", "seq", "cpu_percent", "load_1", "memory_percent", "swap_percent",
                           "disk_read_bytes_per_s", "disk_write_bytes_per_s", "net_sent_bytes_per_s",
                           "net_recv_bytes_per_s", "per_cpu_percent", "layout", "series")
    assert set(SCALES) == set(HISTORY_COLUMNS) - {"seq", "timestamp", "per_cpu_percent"}


@pytest.mark.parametrize(("timestamp", "ms"), [(1.0, 1000), (1.0004, 1000), (1.0006, 1001), (0.0, 0),
                                               (1_700_000_000.1234, 1_700_000_000_123)])
def test_times_are_whole_milliseconds(timestamp: float, ms: int) -> None:
    assert to_ms(timestamp) == ms and isinstance(to_ms(timestamp), int)


@pytest.mark.parametrize(("value", "scale", "stored"), [
    (12.34, 10, 123), (12.36, 10, 124), (1.237, 100, 124), (0, 10, 0), ("7.5", 2, 15), (-1.26, 10, -13),
    (None, 10, None), (float("nan"), 10, None), (float("inf"), 1, None), (float("-inf"), 1, None),
])
def test_values_are_scaled_integers_and_missing_ones_stay_missing(value: Any, scale: int,
                                                                  stored: int | None) -> None:
    result = scaled(value, scale)
    assert result == stored and (result is None or isinstance(result, int))


def test_cores_are_a_byte_each_in_half_percent_steps() -> None:
    cores = [0.0, 0.25, 0.3, 50.5, 100.0, None, float("nan")]
    assert encode_cores(cores) == bytes([0, 0, 1, 101, 200, 255, 255])
    assert encode_cores([-3.0, 127.0, 127.5, 500.0]) == bytes([0, 254, 254, 254])  # clamped, never the null
    assert encode_cores([]) is None and encode_cores(None) is None


def test_cores_decode_back_to_half_percents() -> None:
    assert decode_cores(bytes([0, 1, 101, 200, CORE_NULL])) == [0.0, 0.5, 50.5, 100.0, None]
    assert decode_cores(None) is None and decode_cores(b"") == []


def test_a_row_encodes_to_the_raw_columns_and_decodes_to_its_units() -> None:
    stored = encode_row(ROW, 7)
    assert stored == (1_700_000_000_123, 7, 42, 123, 124, 457, 0, 1024, 2049, 10, 20, bytes([0, 101, 200]),
                      None, None)  # the layout and the other series: the writer packs them
    assert len(stored) == len(RAW_COLUMNS)
    assert decode_row(stored) == (42, 1_700_000_000.123, 12.3, [0.0, 50.5, 100.0], 1.24, 45.7, 0.0,
                                  1024.0, 2049.0, 10.0, 20.0)


def test_missing_values_stay_missing_through_a_row() -> None:
    row = (3, 10.0, None, None, None, 1.0, None, None, 0.0, None, None)
    stored = encode_row(row, 1)
    assert stored == (10_000, 1, 3, None, None, 10, None, None, 0, None, None, None, None, None)
    assert decode_row(stored) == (3, 10.0, None, None, None, 1.0, None, None, 0.0, None, None)


def test_sums_are_little_endian_uint32_laid_end_to_end() -> None:
    blob = pack_sums([1, 256, 2**32 - 1])
    assert blob == struct.pack("<3I", 1, 256, 2**32 - 1) and len(blob) == 12
    assert list(unpack_sums(blob + pack_sums([5]))) == [1, 256, 2**32 - 1, 5]
    assert list(unpack_sums(b"")) == [] and pack_sums([]) == b""
