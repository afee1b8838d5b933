"""Series values as the raw tier packs them (perfmon.store.sqlite.varints): one zigzag varint per value."""

from __future__ import annotations

import pytest

from perfmon.store.sqlite.varints import pack, pack_ids, unpack, unpack_ids

# value, step, bytes: 0 is null, then zigzag plus one, seven bits a byte, low bits first
CASES = [
    (None, 1, b"\x00"), (float("nan"), 1, b"\x00"), (float("inf"), 1, b"\x00"), (float("-inf"), 1, b"\x00"),
    (0, 1, b"\x01"), (1, 1, b"\x03"), (-1, 1, b"\x02"), (63, 1, b"\x7f"), (64, 1, b"\x81\x01"),
    (-64, 1, b"\x80\x01"), (-65, 1, b"\x82\x01"), (12.3, 10, b"\xf7\x01"), (0.25, 10, b"\x05"),
    ("2", 1, b"\x05"),
    (2**40, 1, b"\x81\x80\x80\x80\x80\x40"), (-(2**40), 1, b"\x80\x80\x80\x80\x80\x40"),
]


@pytest.mark.parametrize(("value", "step", "packed"), CASES)
def test_a_value_packs_to_its_varint(value: object, step: int, packed: bytes) -> None:
    assert pack([value], [step]) == packed


def test_values_pack_in_order_and_unpack_as_their_scaled_integers() -> None:
    blob = pack([value for value, _, _ in CASES], [step for _, step, _ in CASES])
    assert blob == b"".join(packed for _, _, packed in CASES)
    assert unpack(blob) == [None, None, None, None, 0, 1, -1, 63, 64, -64, -65, 123, 2, 2, 2**40, -(2**40)]
    assert pack([], []) == b"" and unpack(b"") == []


def test_a_value_needs_its_step() -> None:
    with pytest.raises(ValueError):
        pack([1, 2], [1])
    with pytest.raises(ValueError):
        pack([1], [1, 1])


def test_a_varint_cut_short_is_left_out() -> None:
    assert unpack(b"\x03\x81") == [1]
    assert unpack(b"\x81\x01\x03") == [64, 1]  # a new value starts from nothing


def test_ids_are_varints_too() -> None:
    assert pack_ids([0, 5, 300]) == b"\x01\x0b\xd9\x04" and pack_ids(iter([7])) == b"\x0f"
    assert unpack_ids(b"\x01\x0b\xd9\x04") == [0, 5, 300] and unpack_ids(b"\x00\x0f") == [7]
    assert pack_ids([]) == b"" and unpack_ids(b"") == []
