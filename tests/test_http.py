"""Pure helpers of the handlers: content negotiation and parameter messages."""

from __future__ import annotations

import pytest

from perfmon.api.errors import ApiError
from perfmon.api.http import accepts_gzip, query_choice, query_number


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip", True), ("gzip, deflate, br", True), ("GZIP;Q=0.3", True), ("x-gzip", True), ("*", True),
    ("*;q=0, gzip", True), ("deflate;q=1, gzip;q=0.5", True),
    ("gzip;q=0, *", False), ("gzip;q=0.000", False), ("identity", False), ("br", False), ("", False),
    ("gzip;q=abc", False),
])
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_integer_bounds_read_as_integers() -> None:
    with pytest.raises(ApiError) as error:
        query_number({"since": "-3"}, "since", low=0, high=2**63 - 1, integer=True)
    assert error.value.status == 400
    assert error.value.message == (
        "parameter 'since' must be a whole number from 0 to 9223372036854775807, got '-3'")


def test_open_lower_bound_is_said() -> None:
    with pytest.raises(ApiError) as error:
        query_number({"wait": "0"}, "wait", low=0, high=60, low_open=True)
    assert error.value.message == "parameter 'wait' must be a number greater than 0 to 60, got '0'"


def test_absent_parameter_is_none_and_valid_one_is_parsed() -> None:
    assert query_number({}, "limit", low=1, high=10, integer=True) is None
    assert query_number({"limit": "7"}, "limit", low=1, high=10, integer=True) == 7
    assert query_number({"wait": "0.5"}, "wait", low=0, high=60, low_open=True) == 0.5


def test_choice() -> None:
    assert query_choice({}, "sort", {"cpu": 1, "memory": 2}, "cpu") == "cpu"
    with pytest.raises(ApiError) as error:
        query_choice({"sort": "pid"}, "sort", {"cpu": 1, "memory": 2}, "cpu")
    assert error.value.message == "parameter 'sort' must be one of cpu|memory, got 'pid'"
