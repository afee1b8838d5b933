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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.alerts.engine import Engine, Instance, Transition
from perfmon.alerts.model import AlertsFile, Rule
from perfmon.alerts.stall import AGE, stall_rule

MAX_RECORDS = 100_000
Listener = Callable[[list[Transition]], None]
# Where changes go to be kept (perfmon.store.sqlite.alert_state): every instance when they changed
# (else None), the new transitions, the moment before which history may go, and new notifications.
Saver = Callable[[list[dict[str, Any]] | None, list[dict[str, Any]], float, list[dict[str, Any]]], None]
Notifier = Callable[[list[Transition], float], list[dict[str, Any]]]  # transitions: outbox rows


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
                 clock: Callable[[], float] = time.perf_counter,
                 interval_seconds: float | None = None) -> None:
        self.alerts = alerts
        self.rules: dict[str, Rule] = {rule.name: rule for rule in alerts.rules}
        self.engine = Engine(alerts.rules)
        # SamplerStalled, on a clock of its own (perfmon.alerts.stall): given the sampling interval
        stalled = stall_rule(interval_seconds) if interval_seconds and alerts.watch_sampler else None
        self.stall = None if stalled is None else Engine((stalled,))
        if stalled is not None:
            self.rules[stalled.name] = stalled
        self.keep_seconds = keep_seconds
        self.history: deque[Record] = deque(maxlen=max_records)
        self.listeners: list[Listener] = []
        self.saver: Saver | None = None
        self.notifier: Notifier | None = None
        self._kept = 0  # the engine's changes when the instances were last handed to the saver
        self.evaluated = 0  # samples evaluated
        self.host = ""  # this host's name, which silences may match (``host``)
        # the alerts whose firing a silence kept from every channel (and no repeat told since): their
        # resolution is not told either; kept with the instances, so a restart remembers it
        self.quiet: set[str] = set()
        self.recorded = 0  # transitions recorded, restored ones included: a new one changes it
        self.evaluated_at: float | None = None  # the last one's timestamp
        self.seconds = 0.0  # how long the last evaluation took (wall time, for benchmarks)
        self._clock = clock

    def evaluate(self, sample: Mapping[str, Any], timestamp: float) -> list[Transition]:
        """Feed one sample; record and hand on what it made happen (a sample resolves SamplerStalled)."""
        began = self._clock()
        transitions = self.engine.evaluate(sample, timestamp)
        if self.stall is not None:
            transitions += self.stall.evaluate({AGE.name: 0.0}, timestamp)
        self._took(transitions, timestamp)
        self.evaluated += 1
        self.evaluated_at = timestamp
        self.seconds = self._clock() - began
        for listener in self.listeners:
            listener(transitions)
        return transitions

    def check(self, now: float, since: float) -> list[Transition]:
        """Look at the age of the last sample evaluated (or of ``since``, before any): SamplerStalled."""
        if self.stall is None:
            return []
        last = since if self.evaluated_at is None else self.evaluated_at
        transitions = self.stall.evaluate({AGE.name: max(0.0, now - last)}, now)
        self._took(transitions, now)  # the saver hears of a pending one too
        return transitions

    def _took(self, transitions: list[Transition], timestamp: float) -> None:
        """Record the transitions, hand them to the notifier, and what changed to the saver."""
        records = [Record(t.at, t.kind, alert_json(t.rule, t.instance, t.value), t.reason)
                   for t in transitions]
        self.history.extend(records)
        self.recorded += len(records)
        while self.history and self.history[0].at < timestamp - self.keep_seconds:
            self.history.popleft()
        outgoing = self.notifier(transitions, timestamp) if self.notifier is not None and transitions else []
        self._save(records, timestamp, outgoing)

    def instances(self) -> list[Instance]:
        """Every instance pending or firing, the sampler's watch included."""
        found = list(self.engine.instances.values())
        return found if self.stall is None else found + list(self.stall.instances.values())

    def firing(self) -> list[Instance]:
        """Every firing instance."""
        return [i for i in self.instances() if i.state == "firing"]

    def _save(self, records: list[Record], timestamp: float, outgoing: list[dict[str, Any]]) -> None:
        """Hand what changed to the saver: the instances when their set or states changed, new records
        and the notifications they make, all kept together."""
        if self.saver is None:
            return
        kept = self.engine.changes + (0 if self.stall is None else self.stall.changes)
        changed = kept != self._kept
        if changed or records or outgoing:
            self._kept = kept
            state = [instance_row(i, i.id in self.quiet) for i in self.instances()] if changed else None
            self.saver(state, [record_row(r) for r in records], timestamp - self.keep_seconds, outgoing)

    def restore(self, state: list[dict[str, Any]], history: list[dict[str, Any]]) -> None:
        """Take back what a saver kept: the instances (of rules that still exist) and the history."""
        self.engine.restore(instance_of(row) for row in state)
        if self.stall is not None:
            self.stall.restore(instance_of(row) for row in state)
        self.quiet = {str(row["id"]) for row in state if row.get("quiet")}
        self._kept = self.engine.changes + (0 if self.stall is None else self.stall.changes)
        for row in history:
            alert = {k: v for k, v in row.items() if k not in ("at", "kind", "reason")}
            self.history.append(Record(row["at"], row["kind"], alert, row.get("reason") or ""))
        self.recorded += len(history)

    def active(self) -> list[dict[str, Any]]:
        """Every pending and firing alert, firing first, then by rule and labels."""
        rows = [alert_json(self.rules[i.rule], i, i.value) for i in self.instances() if i.rule in self.rules]
        return sorted(rows, key=lambda a: (a["state"] != "firing", a["alertname"], a["id"]))

    def records(self, start: float, end: float) -> list[dict[str, Any]]:
        """The transitions from ``start`` up to (not including) ``end``, oldest first."""
        return [record_row(r) for r in self.history if start <= r.at < end]

    def firing_labels(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Each firing alert's labels (alertname, severity, its row's, its rule's), in a stable order."""
        out = []
        for instance in self.firing():
            rule = self.rules.get(instance.rule)
            if rule is not None:
                labels = {"alertname": rule.name, "severity": rule.severity, **dict(instance.labels),
                          **rule.labels}
                out.append(tuple(labels.items()))
        return tuple(sorted(out))

    def counts(self) -> dict[str, int]:
        """How many alerts fire, by severity (every severity named, 0 included)."""
        counted = {"info": 0, "warning": 0, "critical": 0}
        for instance in self.firing():
            rule = self.rules.get(instance.rule)
            if rule is not None:
                counted[rule.severity] += 1
        return counted


def record_row(record: Record) -> dict[str, Any]:
    """A transition as it is kept and answered."""
    return {"at": record.at, "kind": record.kind, "reason": record.reason or None, **record.alert}


def instance_row(instance: Instance, quiet: bool = False) -> dict[str, Any]:
    """An instance as it is kept (``quiet``: a silence kept its firing from every channel)."""
    row = {"id": instance.id, "rule": instance.rule, "key": [list(p) for p in instance.key],
           "labels": [list(p) for p in instance.labels], "state": instance.state,
           "active_since": instance.active_since, "value": instance.value, "fired_at": instance.fired_at,
           "notified_at": instance.notified_at}
    if quiet:
        row["quiet"] = True
    return row


def instance_of(row: Mapping[str, Any]) -> Instance:
    """An instance from what was kept."""
    return Instance(row["rule"], pairs(row["key"]), pairs(row["labels"]), row["state"],
                    float(row["active_since"]), row["value"], row["fired_at"], row["notified_at"])


def pairs(items: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """Labels from JSON's lists of two."""
    return tuple((str(k), str(v)) for k, v in items)


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


def rule_json(rule: Rule) -> dict[str, Any]:
    """A rule as ``/api/alerts/rules`` shows it: what it selects and when its alerts fire and clear."""
    predict = rule.predict
    return {
        "name": rule.name, "selector": str(rule.select), "group": rule.group.name,
        "field": rule.field.series_name, "rows": rule.rows,
        "operator": ">" if rule.above is not None else "<", "threshold": rule.threshold,
        "clear": rule.clear, "unit": rule.field.unit, "for_seconds": rule.for_seconds,
        "severity": rule.severity, "repeat_seconds": rule.repeat_seconds,
        "notify": None if rule.notify is None else list(rule.notify), "summary": rule.summary or None,
        "labels": dict(rule.labels), "divide_by": None if rule.divide_by is None else str(rule.divide_by),
        "predict": None if predict is None else {"window_seconds": predict.window_seconds,
                                                 "ahead_seconds": predict.ahead_seconds,
                                                 "reaches": predict.reaches},
        "builtin": rule.line is None,
    }
