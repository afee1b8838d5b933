"""Query parameters declared once, as data: the handlers read them, the OpenAPI document describes them.

Each endpoint's parameters sit next to the handler that reads them (``longpoll.WAIT``,
``history.PARAMETERS``, ``processes.PROCESS_PARAMETERS``) and are read through :meth:`Number.read`
and :meth:`Choice.read`, the strict readers of perfmon.api.edge.responses; :func:`openapi_parameter` turns the
same objects into the OpenAPI document's parameters, so a bound in the document is the bound a
handler enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from perfmon.api.edge.responses import query_choice, query_number
from perfmon.core.metrics import Selector


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric query parameter: plain ASCII digits (a fraction unless ``integer``) from ``low`` to ``high``.

    ``low_open`` excludes ``low`` itself; ``default`` is what its absence means, when that is a
    constant (None: no value, or a default the description gives in words).
    """

    name: str
    description: str
    low: float
    high: float
    integer: bool = False
    low_open: bool = False
    default: float | None = None

    def read(self, query: Mapping[str, str], high: float | None = None) -> float | int | None:
        """The value in ``query``, or None; 400 naming the parameter otherwise.

        ``high`` lowers the upper bound for this server (never above the declared one).
        """
        most = self.high if high is None else min(high, self.high)
        return query_number(query, self.name, low=self.low, high=most, integer=self.integer,
                            low_open=self.low_open)


@dataclass(frozen=True, slots=True)
class Choice:
    """A query parameter from a fixed set of words; ``default`` when it is absent."""

    name: str
    description: str
    choices: tuple[str, ...]
    default: str

    def read(self, query: Mapping[str, str]) -> str:
        """The word in ``query`` (or the default); 400 naming the parameter and the choices otherwise."""
        return query_choice(query, self.name, self.choices, self.default)


@dataclass(frozen=True, slots=True)
class Selectors:
    """A repeatable query parameter of series selectors, at most ``most`` in all; ``reader`` parses and
    checks them (400 naming the parameter)."""

    name: str
    description: str
    most: int
    reader: Callable[[MultiMapping[str]], tuple[Selector, ...]]

    def read(self, query: MultiMapping[str]) -> tuple[Selector, ...]:
        """The selectors in ``query`` (none when it is absent)."""
        return self.reader(query)


Param = Number | Choice | Selectors


def openapi_parameter(param: Param) -> dict[str, Any]:
    """The OpenAPI description of a query parameter: its bounds are the ones its handler enforces."""
    if isinstance(param, Selectors):
        return {"name": param.name, "in": "query", "required": False, "style": "form", "explode": True,
                "schema": {"type": "array", "maxItems": param.most,
                           "items": {"type": "string", "minLength": 1}},
                "description": param.description}
    if isinstance(param, Number):
        schema: dict[str, Any] = {"type": "integer" if param.integer else "number",
                                  "exclusiveMinimum" if param.low_open else "minimum": plain(param.low),
                                  "maximum": plain(param.high)}
        spelling = ("a whole number in ASCII digits" if param.integer else
                    "a plain decimal in ASCII digits, at most 9 after the point")
        text = f"{param.description}. Written as {spelling} (no sign or exponent)"
    else:
        schema = {"type": "string", "enum": list(param.choices)}
        text = param.description
    if param.default is not None:
        schema["default"] = plain(param.default) if isinstance(param.default, float) else param.default
    return {"name": param.name, "in": "query", "required": False, "schema": schema,
            "description": f"{text}; given at most once, else 400"}


def plain(value: float) -> float | int:
    """A bound as JSON shows it best: 60, not 60.0."""
    return int(value) if float(value).is_integer() else value
