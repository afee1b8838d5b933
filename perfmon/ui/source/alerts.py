"""The alerts as the dashboard reads them, for every tab at once: what fires, the rules, what happened.

``/api/alerts`` is read at most once per window for all tabs (its values change with every
sample); the rules once per API instance (they change only when the API restarts); the history
only when the API says it recorded a transition since (``transitions``), or a tab's range reaches
further back than what is held. So a tick on a quiet host costs one small request more.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

RECENT_SECONDS = 86400.0  # the panel's recent history: a day, or the charts' range if longer
HOUR = 3600.0
Json = Mapping[str, Any]
Get = Callable[[Any, str, "dict[str, Any] | None", float], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class AlertsRead:
    """What the API says of its alerts: ``summary`` as ``/api/alerts`` answers, its rules, and the
    transitions from ``since`` on (oldest first)."""

    summary: Json
    rules: tuple[Json, ...]
    history: tuple[Json, ...]
    since: float


class AlertSource:
    """Reads the alerts through the client's shared GET (``get(key, path, params, timeout)``)."""

    def __init__(self, get: Get) -> None:
        self._get = get
        self._rules: tuple[str, tuple[Json, ...]] | None = None  # the instance's
        self._history: tuple[tuple[str, int, float], tuple[Json, ...]] | None = None
        self.latest: Json | None = None  # the last /api/alerts answer: what a Silence click names

    async def read(self, instance: str, earliest: float, now: float,
                   remaining: Callable[[], float]) -> AlertsRead:
        """The alerts, the rules and the transitions since ``earliest`` (at most a day before ``now``);
        ApiUnavailable as any read."""
        summary = await self._get("alerts", "/api/alerts", None, remaining())
        self.latest = summary
        rules = await self.rules(instance, remaining())
        since = math.floor(min(earliest, now - RECENT_SECONDS) / HOUR) * HOUR  # one key an hour
        history = await self.history(instance, int(summary["transitions"]), since, remaining())
        return AlertsRead(summary, rules, history, since)

    def cached(self, instance: str) -> tuple[Json, ...] | None:
        """The rules of this API instance if they were read, without a request."""
        return self._rules[1] if self._rules is not None and self._rules[0] == instance else None

    async def rules(self, instance: str, timeout: float) -> tuple[Json, ...]:
        """The rules of this API instance, read once."""
        if self._rules is None or self._rules[0] != instance:
            answer = await self._get(("alert-rules", instance), "/api/alerts/rules", None, timeout)
            self._rules = (instance, tuple(answer["rules"]))
        return self._rules[1]

    async def history(self, instance: str, transitions: int, since: float,
                      timeout: float) -> tuple[Json, ...]:
        """The transitions since ``since``, read again only when there are new ones (or older are asked)."""
        held = self._history
        if held is not None and held[0][:2] == (instance, transitions) and held[0][2] <= since:
            return tuple(t for t in held[1] if t["at"] >= since) if held[0][2] < since else held[1]
        answer = await self._get(("alert-history", instance, transitions, since), "/api/alerts/history",
                                 {"start": f"{since:.0f}"}, timeout)
        found = tuple(answer["transitions"])
        self._history = ((instance, transitions, since), found)
        return found
