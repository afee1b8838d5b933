"""The readers a rules file's values go through: each checks one value and names its line when wrong."""

from __future__ import annotations

from collections.abc import Mapping

from perfmon.alerts.quantities import QuantityError, duration, threshold
from perfmon.alerts.yamlfile import FileError, Located


def mapping(node: Located, source: str, what: str, allowed: tuple[str, ...]) -> dict[str, Located]:
    """``node``'s keys, checked against ``allowed``; FileError names an unknown one and its line."""
    if not isinstance(node.value, dict):
        raise node.at(source, f"{what} must be a mapping of names to values")
    for key, value in node.value.items():
        if key not in allowed:
            raise FileError(source, value.line, f"unknown key {key!r} in {what} (known: "
                                                f"{', '.join(allowed)})")
    return node.value

def text(keys: Mapping[str, Located], key: str, source: str, node: Located, required: bool = False) -> str:
    """A text value ('' when absent and not required)."""
    found = keys.get(key)
    if found is None:
        if required:
            raise node.at(source, f"{key} is missing")
        return ""
    if not isinstance(found.value, str) or not found.value.strip():
        raise found.at(source, f"{key} must be text, not {found.value!r}")
    return found.value.strip()

def quantity(node: Located, unit: str, source: str, what: str) -> float:
    """A threshold in ``unit``."""
    try:
        return threshold(node.value, unit, what)
    except QuantityError as exc:
        raise node.at(source, str(exc)) from None

def seconds(keys: Mapping[str, Located], key: str, source: str, what: str) -> float | None:
    """A duration at ``key``, or None."""
    found = keys.get(key)
    if found is None:
        return None
    try:
        return duration(found.value, f"{what}: {key}")
    except QuantityError as exc:
        raise found.at(source, str(exc)) from None
