"""The OpenAPI document changes by additions only: today's paths, properties and parameters stay, same types.

``tests/fixtures/openapi/openapi.json`` is the document as it was before its sample schemas were
derived from the metric groups. Every path, operation, response, parameter (by name and place),
property and schema keyword of it must still be in the document built now, with the same type,
bounds and enums (an enum may gain values, an object may gain properties and required ones);
only prose (``description``, ``summary``) and the version in ``info`` may change. A schema may
become ``anyOf`` of itself and new alternatives (it then accepts more: ``series`` of
``/api/history``, which ``series=`` fills with other columns). Rewrite the
golden copy only with a breaking change that is meant, and say so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from perfmon.api.app import ROUTES
from perfmon.api.endpoints.openapi import build_document

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "openapi" / "openapi.json"
PROSE = frozenset({"description", "summary"})
GROWING = frozenset({"required", "enum"})  # lists that may gain items


def removals(old: Any, new: Any, where: str = "#") -> Iterator[str]:
    """Each place where ``new`` lost or changed something ``old`` has (a JSON pointer and what)."""
    if isinstance(old, dict) and isinstance(new, dict) and "anyOf" in new and "anyOf" not in old:
        branches = [list(removals(old, b, f"{where}/anyOf/{i}")) for i, b in enumerate(new["anyOf"])]
        if not any(not lost for lost in branches):
            yield f"{where}: no alternative of its anyOf keeps it: " + "; ".join(min(branches, key=len))
        return
    if isinstance(old, dict):
        if not isinstance(new, dict):
            yield f"{where}: was an object, now {json.dumps(new)[:80]}"
            return
        for key, value in old.items():
            if key in PROSE or (where == "#" and key == "info"):
                continue
            if key not in new:
                yield f"{where}/{key}: gone"
            elif key in GROWING and isinstance(value, list) and isinstance(new[key], list):
                lost = [v for v in value if v not in new[key]]
                if lost:
                    yield f"{where}/{key}: lost {lost}"
            elif key == "parameters" and isinstance(value, list) and isinstance(new[key], list):
                yield from parameters(value, new[key], f"{where}/{key}")
            else:
                yield from removals(value, new[key], f"{where}/{key}")
    elif isinstance(old, list):
        if not isinstance(new, list) or len(new) < len(old):
            yield f"{where}: was {json.dumps(old)[:80]}, now {json.dumps(new)[:80]}"
            return
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            yield from removals(a, b, f"{where}/{i}")
    elif old != new or type(old) is not type(new):
        yield f"{where}: was {json.dumps(old)}, now {json.dumps(new)}"


def parameters(old: list[Any], new: list[Any], where: str) -> Iterator[str]:
    """Parameters matched by name and place, whatever their order."""
    by_name = {(p.get("name"), p.get("in")): p for p in new}
    for p in old:
        found = by_name.get((p.get("name"), p.get("in")))
        if found is None:
            yield f"{where}: parameter {p.get('name')!r} gone"
        else:
            yield from removals(p, found, f"{where}[{p.get('name')}]")


def test_todays_document_is_still_there_with_the_same_types() -> None:
    lost = list(removals(json.loads(GOLDEN.read_text()), build_document(ROUTES)))
    assert not lost, "the OpenAPI document lost or changed (additions only):\n" + "\n".join(lost)


def test_a_schema_widened_to_alternatives_keeps_it_only_if_one_alternative_is_it() -> None:
    old = {"type": "object", "properties": {"p": {"type": "number"}}}
    assert not list(removals(old, {"anyOf": [{"type": "string"}, {**old, "description": "x"}]}))
    assert list(removals(old, {"anyOf": [{"type": "string"}, {"type": "object"}]}))


def test_the_check_sees_a_property_gone_a_type_changed_and_a_parameter_gone() -> None:
    a = {"name": "a", "in": "query", "schema": {"type": "integer"}}
    old = {"paths": {"/x": {"get": {"parameters": [a], "description": "old words"}}},
           "components": {"schemas": {"S": {"type": "object", "properties": {"p": {"type": "number"}},
                                            "required": ["p"], "enum": [1, 2]}}}}
    grown = {"paths": {"/x": {"get": {"parameters": [{"name": "b", "in": "query"}, a],
                                      "description": "new words"}}},
             "components": {"schemas": {"S": {"type": "object", "properties": {"p": {"type": "number"},
                                                                               "q": {"type": "string"}},
                                              "required": ["p", "q"], "enum": [1, 2, 3]}}}}
    assert list(removals(old, grown)) == []
    broken = json.loads(json.dumps(grown))
    broken["paths"]["/x"]["get"]["parameters"] = [{"name": "b", "in": "query"}]
    broken["components"]["schemas"]["S"]["properties"]["p"]["type"] = ["number", "null"]
    broken["components"]["schemas"]["S"]["required"] = ["q"]
    assert list(removals(old, broken)) == [
        "#/paths//x/get/parameters: parameter 'a' gone",
        "#/components/schemas/S/properties/p/type: was \"number\", now [\"number\", \"null\"]",
        "#/components/schemas/S/required: lost ['p']",
    ]
