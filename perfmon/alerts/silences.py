"""The ``silences:`` of a rules file: label matches and the times between which they hold."""

from __future__ import annotations

import datetime as dt
import hashlib

from perfmon.alerts.model import Silence
from perfmon.alerts.yamlfile import Located

KEYS = ("match", "from", "until", "comment")


def read_silences(node: Located | None, source: str) -> tuple[Silence, ...]:
    """Each silence of the list; ``until`` is required, ``from`` defaults to always."""
    if node is None:
        return ()
    if not isinstance(node.value, list):
        raise node.at(source, "silences must be a list, such as [{match: {host: db1}, until: ...}]")
    return tuple(read_silence(item, source) for item in node.value)


def read_silence(node: Located, source: str) -> Silence:
    """One silence."""
    if not isinstance(node.value, dict):
        raise node.at(source, "a silence is a mapping with match, until and (optional) from and comment")
    keys: dict[str, Located] = node.value
    for key, value in keys.items():
        if key not in KEYS:
            raise value.at(source, f"unknown key {key!r} in a silence (known: {', '.join(KEYS)})")
    match = keys.get("match")
    if match is None or not isinstance(match.value, dict) or not match.value:
        raise (match or node).at(source, "a silence needs match: the labels an alert must have, such as "
                                         "{alertname: HighCpu}")
    labels = {}
    for name, value in match.value.items():
        if not isinstance(value.value, (str, int, float)) or isinstance(value.value, bool):
            raise value.at(source, f"a silence matches label {name!r} to a text")
        labels[name] = str(value.value)
    if "until" not in keys:
        raise node.at(source, "a silence needs until: when it ends")
    starts = moment(keys["from"], source, "from") if "from" in keys else float("-inf")
    ends = moment(keys["until"], source, "until")
    if ends <= starts:
        raise keys["until"].at(source, "a silence's until must come after its from")
    comment = keys.get("comment")
    text = "" if comment is None else str(comment.value)
    digest = hashlib.sha256(repr((sorted(labels.items()), starts, ends)).encode()).hexdigest()[:12]
    return Silence(labels, starts, ends, text, f"file-{digest}")


def moment(node: Located, source: str, key: str) -> float:
    """Unix seconds of an ISO 8601 time with its zone (``2026-12-24T00:00Z``)."""
    value = node.value
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise node.at(source, f"{key} must be a time such as 2026-12-24T00:00Z, not {value!r}") from None
    else:
        raise node.at(source, f"{key} must be a time such as 2026-12-24T00:00Z, not {value!r}")
    if when.tzinfo is None:
        raise node.at(source, f"{key} needs its time zone, such as Z or +01:00: {value}")
    return when.timestamp()
