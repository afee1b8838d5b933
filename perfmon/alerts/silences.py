"""The ``silences:`` of a rules file: label matches and the times between which they hold."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

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
    parsed = value if isinstance(value, dt.datetime) else iso_time(value)
    if parsed is None:
        raise node.at(source, f"{key} must be a time such as 2026-12-24T00:00Z, not {value!r}")
    if parsed.tzinfo is None:
        raise node.at(source, f"{key} needs its time zone, such as Z or +01:00: {value}")
    return parsed.timestamp()


def iso_time(value: object) -> dt.datetime | None:
    """An ISO 8601 time (with its zone or not), or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None


MAX_COMMENT = 500
MAX_MATCHERS = 20


def silence_from_json(body: object, now: float) -> Silence:
    """A silence a client asks for (``POST /api/silences``); ValueError names the field that is wrong.

    ``{"match": {"alertname": "HighCpu", "host": "db1"}, "until": 1798243200 or "2026-12-26T00:00Z",
    "from": optional (default: now), "comment": optional}``.
    """
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object with match and until")
    unknown = sorted(set(body) - {"match", "from", "until", "comment"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (known: match, from, until, comment)")
    match = body.get("match")
    if not isinstance(match, dict) or not match or len(match) > MAX_MATCHERS or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in match.items()):
        raise ValueError(f"'match' must map 1 to {MAX_MATCHERS} label names to text, such as "
                         f'{{"alertname": "HighCpu"}}')
    starts = now if body.get("from") is None else when(body["from"], "from")
    if "until" not in body:
        raise ValueError("'until' is missing: when the silence ends")
    ends = when(body["until"], "until")
    if ends <= max(starts, now):
        raise ValueError("'until' must come after 'from' and after now")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise ValueError(f"'comment' must be text of at most {MAX_COMMENT} characters")
    return Silence(dict(match), starts, ends, comment, "api-" + uuid.uuid4().hex[:12])


def when(value: object, name: str) -> float:
    """Unix seconds, or an ISO 8601 time with its zone."""
    if isinstance(value, bool):
        raise ValueError(f"{name!r} must be Unix seconds or a time such as 2026-12-24T00:00Z")
    if isinstance(value, (int, float)) and 0 <= value < 4_102_444_800:
        return float(value)
    parsed = iso_time(value)
    if parsed is not None and parsed.tzinfo is not None:
        return parsed.timestamp()
    raise ValueError(f"{name!r} must be Unix seconds or a time with its zone, such as 2026-12-24T00:00Z")


def silence_json(silence: Silence) -> dict[str, object]:
    """A silence as the API shows it."""
    return {"id": silence.id, "match": dict(silence.match),
            "from": None if silence.starts == float("-inf") else silence.starts, "until": silence.ends,
            "comment": silence.comment, "source": "api" if silence.id.startswith("api-") else "file"}


def silence_of(row: Mapping[str, Any]) -> Silence:
    """Back from what was kept (``silence_json``)."""
    starts = row["from"]
    return Silence({str(k): str(v) for k, v in row["match"].items()},
                   float("-inf") if starts is None else float(starts), float(row["until"]),
                   str(row["comment"]), str(row["id"]))


MAX_SILENCES = 1000


class SilenceBook:
    """The silences of the rules file and those set through the API (kept by ``saver``, if any)."""

    def __init__(self, from_file: tuple[Silence, ...],
                 saver: Callable[[list[dict[str, object]]], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.from_file = from_file
        self.set: dict[str, Silence] = {}
        self.saver, self._clock = saver, clock

    def restore(self, rows: list[dict[str, Any]]) -> None:
        """Take back the silences kept."""
        for row in rows:
            silence = silence_of(row)
            self.set[silence.id] = silence

    def all(self) -> tuple[Silence, ...]:
        """Every silence that has not ended: the file's, then those set, oldest first."""
        now = self._clock()
        ended = [key for key, s in self.set.items() if s.ends <= now]
        for key in ended:
            del self.set[key]
        if ended:
            self._save()
        return tuple(s for s in self.from_file if s.ends > now) + tuple(self.set.values())

    def add(self, silence: Silence) -> None:
        """Set a silence; ValueError when there are too many already."""
        if len(self.set) >= MAX_SILENCES and silence.id not in self.set:
            raise ValueError(f"{MAX_SILENCES} silences are set already: lift some first")
        self.set[silence.id] = silence
        self._save()

    def lift(self, silence_id: str) -> Silence:
        """End a silence set through the API; KeyError when there is none by that id."""
        silence = self.set.pop(silence_id)
        self._save()
        return silence

    def _save(self) -> None:
        if self.saver is not None:
            self.saver([silence_json(s) for s in self.set.values()])
