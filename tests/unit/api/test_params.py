"""Query parameters as data (perfmon.api.edge.params): what a handler reads is what the document says."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.params import Choice, Number, Selectors, openapi_parameter, plain
from perfmon.core.metrics import Selector

POINTS = Number("points", "How many points", 1, 1000, integer=True, default=300)
WAIT = Number("wait", "Seconds to wait", 0, 60, low_open=True)
FORMAT = Choice("format", "The answer's format", ("json", "csv"), "json")


def refusal(read: object) -> str:
    """The message of the 400 that ``read`` (a call) raises."""
    with pytest.raises(ApiError) as raised:
        read()  # type: ignore[operator]
    assert raised.value.status == 400
    return raised.value.message


def test_a_number_reads_within_its_bounds() -> None:
    assert POINTS.read({"points": "1"}) == 1 and POINTS.read({"points": "1000"}) == 1000
    assert isinstance(POINTS.read({"points": "7"}), int)
    assert WAIT.read({"wait": "0.5"}) == 0.5 and WAIT.read({"wait": "60"}) == 60.0
    assert POINTS.read({}) is None and WAIT.read({"other": "1"}) is None


def test_a_number_beyond_its_bounds_is_a_400_naming_it() -> None:
    assert refusal(lambda: POINTS.read({"points": "0"})) == (
        "parameter 'points' must be a whole number from 1 to 1000, got '0'")
    assert "'points'" in refusal(lambda: POINTS.read({"points": "1001"}))
    assert refusal(lambda: WAIT.read({"wait": "0"})) == (
        "parameter 'wait' must be a number greater than 0 to 60, got '0'")
    assert "'wait'" in refusal(lambda: WAIT.read({"wait": "60.5"}))
    assert "'points'" in refusal(lambda: POINTS.read({"points": "2.5"}))


def test_a_server_may_lower_the_upper_bound_but_never_raise_it() -> None:
    assert POINTS.read({"points": "500"}, high=500) == 500
    assert "to 500," in refusal(lambda: POINTS.read({"points": "501"}, high=500))
    assert "to 1000," in refusal(lambda: POINTS.read({"points": "1001"}, high=5000))
    assert POINTS.read({"points": "1000"}, high=5000) == 1000


def test_a_repeated_parameter_is_a_400() -> None:
    assert "given 2 times" in refusal(lambda: POINTS.read(MultiDict([("points", "1"), ("points", "2")])))


def test_a_choice_reads_its_words_or_its_default() -> None:
    assert FORMAT.read({"format": "csv"}) == "csv" and FORMAT.read({}) == "json"
    assert refusal(lambda: FORMAT.read({"format": "xml"})) == (
        "parameter 'format' must be one of json|csv, got 'xml'")


def test_an_integer_in_the_document() -> None:
    assert openapi_parameter(POINTS) == {
        "name": "points", "in": "query", "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 300},
        "description": "How many points. Written as a whole number in ASCII digits (no sign or exponent); "
                       "given at most once, else 400",
    }


def test_a_number_with_an_open_lower_bound_and_no_default_in_the_document() -> None:
    assert openapi_parameter(WAIT) == {
        "name": "wait", "in": "query", "required": False,
        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
        "description": "Seconds to wait. Written as a plain decimal in ASCII digits, at most 9 after the "
                       "point (no sign or exponent); given at most once, else 400",
    }


def test_a_fractional_default_and_bound_stay_fractions() -> None:
    schema = openapi_parameter(Number("step", "A step", 0.5, 2.5, default=1.5))["schema"]
    assert schema == {"type": "number", "minimum": 0.5, "maximum": 2.5, "default": 1.5}
    assert openapi_parameter(Number("n", "N", 1, 9, default=4.0))["schema"]["default"] == 4
    assert isinstance(openapi_parameter(Number("n", "N", 1, 9, default=4.0))["schema"]["default"], int)


def test_a_choice_in_the_document() -> None:
    assert openapi_parameter(FORMAT) == {
        "name": "format", "in": "query", "required": False,
        "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
        "description": "The answer's format; given at most once, else 400",
    }


@pytest.mark.parametrize(("value", "shown"), [(60.0, 60), (0.0, 0), (0.25, 0.25), (4102444800.0, 4102444800)])
def test_bounds_are_shown_plainly(value: float, shown: float) -> None:
    assert plain(value) == shown and type(plain(value)) is type(shown)


def test_selectors_are_a_repeatable_parameter_read_by_their_reader() -> None:
    seen: list[object] = []

    def reader(query: object) -> tuple[Selector, ...]:
        seen.append(query)
        return (Selector.parse("memory"),)

    series = Selectors("series", "Series selectors", 50, reader)
    query = MultiDict([("series", "memory")])
    assert series.read(query) == (Selector.parse("memory"),) and seen == [query]
    assert openapi_parameter(series) == {
        "name": "series", "in": "query", "required": False, "style": "form", "explode": True,
        "schema": {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1}},
        "description": "Series selectors",
    }
