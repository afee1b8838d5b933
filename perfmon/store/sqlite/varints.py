"""Series values packed for the raw tier: one zigzag varint per value, in the order of a layout.

A value is an integer in its field's steps (``Field.steps``: 12.3 % is 123); zigzag makes small
negative numbers small too, and one more than that is written so that 0 can mean null. A
percentage takes 1-2 bytes, a rate of a few MB/s 3-4, a free-space count of bytes 5-6: the
store's budget is 6 bytes a value (``bench/bench_store.py`` measures it). SQLite cannot read
inside such a BLOB, so roll-ups and range reads decode it here. A range read wants a few
positions of each row: ``picker`` finds their varints with one regular expression (C, not a
loop over bytes in Python) and ``decode`` reads each one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

VARINT = "[\x80-\xff]*[\x00-\x7f]"  # one value: bytes with the high bit set, then one without
Picker = Callable[[bytes], re.Match[bytes] | None]


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


def picker(positions: Sequence[int]) -> Picker:
    """A match of a BLOB's first values whose groups are the varints at ``positions`` (ascending, no
    repeats), undecoded; None when the BLOB holds fewer values than the last position needs."""
    parts, after = [], 0
    for position in positions:
        if position > after:
            parts.append(f"(?:{VARINT}){{{position - after}}}")
        parts.append(f"({VARINT})")
        after = position + 1
    return re.compile("".join(parts).encode("latin-1")).match


def decode(varint: bytes) -> int | None:
    """The scaled integer of one varint (a group of a ``picker`` match); None where it was null."""
    whole = int.from_bytes(varint, "little")
    if whole < 0x80:
        code = whole
    elif len(varint) <= 4:  # the 7 low bits of each byte, the high bits dropped
        code = ((whole & 0x7F) | ((whole >> 1) & 0x3F80) | ((whole >> 2) & 0x1FC000)
                | ((whole >> 3) & 0xFE00000))
    else:
        code = 0
        for k in range(len(varint)):
            code |= (whole >> k) & (0x7F << (7 * k))
    if code == 0:
        return None
    code -= 1
    return (code >> 1) if not code & 1 else -((code + 1) >> 1)


def pack_ids(ids: Iterable[int]) -> bytes:
    """Non-negative ids (a layout's series) as varints."""
    listed = list(ids)
    return pack(listed, [1] * len(listed))


def unpack_ids(blob: bytes) -> list[int]:
    """The ids of a layout."""
    return [v for v in unpack(blob) if v is not None]
