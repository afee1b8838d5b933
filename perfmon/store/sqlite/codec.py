"""How history rows are kept small in SQLite: scaled integers, one byte per CPU, packed series.

SQLite stores an integer in 0 to 8 bytes by its size and a REAL always in 8, so every
value is kept as an integer in a fixed unit: percentages in tenths, load in hundredths,
rates in whole bytes per second. The per-CPU percentages of a raw row are a BLOB of one
byte per CPU in half-percent steps (255 = null); a minute or hour row keeps their sums
per CPU as little-endian uint32 (``SUMS``), so coarser tiers add them up exactly. Each
column's unit is its field's (``Field.steps``). The sample's other series (``perfmon.store.series``)
are one BLOB of varints (``varints``) in the order of the row's layout (``layouts``).
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Sequence
from typing import Any

from perfmon.core.schema import HISTORY_COLUMNS, HISTORY_FIELDS, HistoryRow
from perfmon.store.buckets import CORES, VALUE_COLUMNS

# The unit of each value column, as a divisor: 123 stored is 12.3 % (from the field: Field.steps).
SCALES: dict[str, int] = {f.history: f.steps for f in HISTORY_FIELDS if f.history in VALUE_COLUMNS}
SCALE_LIST: tuple[int, ...] = tuple(SCALES[c] for c in VALUE_COLUMNS)
CORE_STEPS = next(f.steps for f in HISTORY_FIELDS if f.history == CORES)  # one byte per CPU: half-percents
CORE_NULL = 255
SUMS = "I"  # array type code of the per-CPU sums of minute and hour rows (4 bytes each)
assert array(SUMS).itemsize == 4

SEQ, TIME, CORE_AT = (HISTORY_COLUMNS.index(c) for c in ("seq", "timestamp", CORES))
VALUE_AT: tuple[int, ...] = tuple(HISTORY_COLUMNS.index(c) for c in VALUE_COLUMNS)
RAW_COLUMNS: tuple[str, ...] = ("t", "instance", "seq", *VALUE_COLUMNS, CORES, "layout", "series")
STORED_CORES = RAW_COLUMNS.index(CORES)
# A row without other series stores its two NULLs in 2 bytes (rows older than schema 4 in none)
INSERT = f"INSERT OR IGNORE INTO raw ({', '.join(RAW_COLUMNS)}) VALUES ({', '.join('?' * len(RAW_COLUMNS))})"

EncodedRow = tuple[Any, ...]  # in RAW_COLUMNS order


def to_ms(timestamp: float) -> int:
    """A Unix time in whole milliseconds, the raw tier's key."""
    return round(timestamp * 1000)


def scaled(value: Any, scale: int) -> int | None:
    """A measured value as an integer in its column's unit (None stays None, so does NaN)."""
    if value is None:
        return None
    number = float(value)
    return round(number * scale) if math.isfinite(number) else None


def encode_cores(values: Sequence[Any] | None) -> bytes | None:
    """Per-CPU percentages as one byte each; an empty or missing list is NULL."""
    if not values:
        return None
    out = bytearray()
    for value in values:
        number = scaled(value, CORE_STEPS)
        out.append(CORE_NULL if number is None else min(max(number, 0), CORE_NULL - 1))
    return bytes(out)


def decode_cores(blob: bytes | None) -> list[float | None] | None:
    """The per-CPU percentages of a raw row."""
    if blob is None:
        return None
    return [None if b == CORE_NULL else b / CORE_STEPS for b in blob]


def encode_row(row: HistoryRow, instance: int) -> EncodedRow:
    """A history row (HISTORY_COLUMNS order) as the raw table's columns (RAW_COLUMNS order), without
    its other series (the writer packs those: their layout needs the file)."""
    values = [scaled(row[at], scale) for at, scale in zip(VALUE_AT, SCALE_LIST, strict=True)]
    return (to_ms(row[TIME]), instance, int(row[SEQ]), *values, encode_cores(row[CORE_AT]), None, None)


def decode_row(stored: Sequence[Any]) -> HistoryRow:
    """A raw table row (RAW_COLUMNS order) back as a history row, values in their own units."""
    out: list[Any] = [None] * len(HISTORY_COLUMNS)
    out[SEQ], out[TIME] = stored[2], stored[0] / 1000
    for k, (at, scale) in enumerate(zip(VALUE_AT, SCALE_LIST, strict=True)):
        value = stored[3 + k]
        out[at] = None if value is None else value / scale
    out[CORE_AT] = decode_cores(stored[STORED_CORES])
    return tuple(out)


def pack_sums(sums: Sequence[int]) -> bytes:
    """Per-CPU sums (in half-percent steps) as a minute or hour row keeps them."""
    return struct.pack(f"<{len(sums)}{SUMS}", *sums)


def unpack_sums(blob: bytes) -> array[int]:
    """The per-CPU sums of one or more minute or hour rows laid end to end."""
    sums = array(SUMS, blob)
    if sys.byteorder == "big":
        sums.byteswap()
    return sums
