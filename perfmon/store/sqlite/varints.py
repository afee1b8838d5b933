"""Series values packed for the raw tier: one zigzag varint per value, in the order of a layout.

A value is an integer in its field's steps (``Field.steps``: 12.3 % is 123); zigzag makes small
negative numbers small too, and one more than that is written so that 0 can mean null. A
percentage takes 1-2 bytes, a rate of a few MB/s 3-4, a free-space count of bytes 5-6: the
store's budget is 6 bytes a value (``bench/bench_store.py`` measures it). SQLite cannot read
inside such a BLOB, so roll-ups and range reads decode it here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def pack(values: Iterable[Any], steps: Sequence[int]) -> bytes:
    """Values (None or numbers) in their fields' steps, as varints."""
    out = bytearray()
    for value, step in zip(values, steps, strict=True):
        number = None if value is None else float(value)
        if number is None or not math.isfinite(number):
            out.append(0)
            continue
        scaled = round(number * step)
        code = ((scaled << 1) if scaled >= 0 else ((-scaled << 1) - 1)) + 1
        while code > 0x7F:
            out.append((code & 0x7F) | 0x80)
            code >>= 7
        out.append(code)
    return bytes(out)


def unpack(blob: bytes) -> list[int | None]:
    """The scaled integers of a packed BLOB (None where a value was null)."""
    out: list[int | None] = []
    code = shift = 0
    for byte in blob:
        code |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        if code == 0:
            out.append(None)
        else:
            code -= 1
            out.append((code >> 1) if not code & 1 else -((code + 1) >> 1))
        code = shift = 0
    return out


def pack_ids(ids: Iterable[int]) -> bytes:
    """Non-negative ids (a layout's series) as varints."""
    listed = list(ids)
    return pack(listed, [1] * len(listed))


def unpack_ids(blob: bytes) -> list[int]:
    """The ids of a layout."""
    return [v for v in unpack(blob) if v is not None]
