"""The alert book: the engine fed every published sample, and the record of what happened.

The API keeps one. :meth:`AlertBook.evaluate` runs on the API's event loop just after a sample is
published (never in the publish itself), :meth:`active` and :meth:`records` are what
``/api/alerts`` and ``/api/alerts/history`` answer, and listeners (the notifications) are handed
each evaluation's transitions. Records are kept for ``keep_seconds`` (the minute tier's
retention) and at most ``max_records``, oldest first out.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.alerts.engine import Engine, Instance, Transition
from perfmon.alerts.model import AlertsFile, Rule

MAX_RECORDS = 100_000
Listener = Callable[[list[Transition]], None]


@dataclass(frozen=True, slots=True)
class Record:
    """One transition, as the history shows it."""

    at: float
    kind: str
    alert: dict[str, Any]  # the alert as /api/alerts shows it, at that moment
    reason: str


class AlertBook:
    """Rules, their engine, and the recent transitions."""

    def __init__(self, alerts: AlertsFile, keep_seconds: float = 90 * 86400, max_records: int = MAX_RECORDS,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.alerts = alerts
        self.rules: dict[str, Rule] = {rule.name: rule for rule in alerts.rules}
        self.engine = Engine(alerts.rules)
        self.keep_seconds = keep_seconds
        self.history: deque[Record] = deque(maxlen=max_records)
        self.listeners: list[Listener] = []
        self.evaluated = 0  # samples evaluated
        self.evaluated_at: float | None = None  # the last one's timestamp
        self.seconds = 0.0  # how long the last evaluation took (wall time, for benchmarks)
        self._clock = clock

    def evaluate(self, sample: Mapping[str, Any], timestamp: float) -> list[Transition]:
        """Feed one sample; record and hand on what it made happen."""
        began = self._clock()
        transitions = self.engine.evaluate(sample, timestamp)
        for t in transitions:
            self.history.append(Record(t.at, t.kind, alert_json(t.rule, t.instance, t.value), t.reason))
        while self.history and self.history[0].at < timestamp - self.keep_seconds:
            self.history.popleft()
        self.evaluated += 1
        self.evaluated_at = timestamp
        self.seconds = self._clock() - began
        for listener in self.listeners:
            listener(transitions)
        return transitions

    def active(self) -> list[dict[str, Any]]:
        """Every pending and firing alert, firing first, then by rule and labels."""
        rows = [alert_json(self.rules[i.rule], i, i.value) for i in self.engine.instances.values()
                if i.rule in self.rules]
        return sorted(rows, key=lambda a: (a["state"] != "firing", a["alertname"], a["id"]))

    def records(self, start: float, end: float) -> list[dict[str, Any]]:
        """The transitions from ``start`` up to (not including) ``end``, oldest first."""
        return [{"at": r.at, "kind": r.kind, "reason": r.reason or None, **r.alert}
                for r in self.history if start <= r.at < end]

    def firing_labels(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Each firing alert's labels (alertname, severity, its row's, its rule's), in a stable order."""
        out = []
        for instance in self.engine.firing():
            rule = self.rules.get(instance.rule)
            if rule is not None:
                labels = {"alertname": rule.name, "severity": rule.severity, **dict(instance.labels),
                          **rule.labels}
                out.append(tuple(labels.items()))
        return tuple(sorted(out))

    def counts(self) -> dict[str, int]:
        """How many alerts fire, by severity (every severity named, 0 included)."""
        counted = {"info": 0, "warning": 0, "critical": 0}
        for instance in self.engine.firing():
            rule = self.rules.get(instance.rule)
            if rule is not None:
                counted[rule.severity] += 1
        return counted


def alert_json(rule: Rule, instance: Instance, value: float | None) -> dict[str, Any]:
    """One alert as the API shows it: what fires, since when, at what value, against what level."""
    labels = {"alertname": rule.name, "severity": rule.severity, **dict(instance.labels), **rule.labels}
    return {
        "id": instance.id, "alertname": rule.name, "state": instance.state, "severity": rule.severity,
        "labels": labels, "selector": str(rule.select), "value": value,
        "operator": ">" if rule.above is not None else "<", "threshold": rule.threshold, "clear": rule.clear,
        "unit": rule.field.unit, "for_seconds": rule.for_seconds, "active_since": instance.active_since,
        "fired_at": instance.fired_at, "summary": rule.summary or None,
    }
