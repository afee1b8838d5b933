"""The alert engine: a pure state machine per rule instance, fed one sample at a time.

Each instance (a rule and the key labels of one row) is inactive, pending (its trigger holds,
not yet for ``for``), or firing; an instance that fired and then cleared is resolved and
forgotten. What happened comes back as :class:`Transition` values, for the delivery queue:

- inactive -> pending when the trigger first holds (no notification);
- pending -> firing once it has held ``for`` seconds (at once with ``for: 0``): *firing*;
- pending -> inactive when it stops holding first (it never fired: nothing to say);
- firing -> resolved only when the value is back past ``clear`` (hysteresis: a value between
  ``clear`` and the trigger keeps it firing, so a value around the trigger does not flap):
  *resolved*;
- firing, again every ``repeat`` seconds: *repeat*;
- a firing instance whose row is gone from the sample (a disk unplugged): *resolved*, reason
  ``gone``; a pending one is dropped.

A value that cannot be read (null) holds the instance where it is: pending does not fire on
it, firing does not resolve. A group that could not be read at all holds every instance.
Time comes from the caller (the sample's timestamp), so tests run on fake clocks; the state can
be saved and restored (:meth:`Engine.state`, :meth:`Engine.restore`), so that a restart sends
no second *firing*, and notices a resolution that happened meanwhile on its first sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from perfmon.alerts.model import Rule
from perfmon.alerts.select import Observed, observe
from perfmon.alerts.trend import Trend
from perfmon.core.metrics import Labels

State = Literal["pending", "firing"]
Kind = Literal["firing", "repeat", "resolved"]


@dataclass(frozen=True, slots=True)
class Instance:
    """One rule instance that is pending or firing."""

    rule: str
    key: Labels
    labels: Labels  # the row's labels (key and descriptive ones)
    state: State
    active_since: float  # when the trigger began to hold
    value: float | None
    fired_at: float | None = None
    notified_at: float | None = None

    @property
    def id(self) -> str:
        """A stable name of the instance: ``Rule{label=value,...}``."""
        inside = ",".join(f"{k}={v}" for k, v in self.key)
        return f"{self.rule}{{{inside}}}"


@dataclass(frozen=True, slots=True)
class Transition:
    """Something to tell: an instance fired, fires still (repeat) or resolved, at ``at``."""

    kind: Kind
    rule: Rule
    instance: Instance
    at: float
    value: float | None
    reason: str = ""  # for a resolution: "cleared" or "gone"


@dataclass
class Engine:
    """Rules evaluated against samples in turn; the instances that are pending or firing."""

    rules: tuple[Rule, ...]
    instances: dict[tuple[str, Labels], Instance] = field(default_factory=dict)
    trends: dict[tuple[str, Labels], Trend] = field(default_factory=dict)
    changes: int = 0  # counts every change worth keeping (an instance begun, ended or told): not values

    def evaluate(self, sample: Mapping[str, Any], now: float) -> list[Transition]:
        """Feed one sample taken at ``now``; what it made happen, in rule order."""
        out: list[Transition] = []
        for rule in self.rules:
            observed = observe(rule, sample)
            if observed is not None:
                out.extend(self._rule(rule, observed, now))
        return out

    def _rule(self, rule: Rule, observed: list[Observed], now: float) -> Iterable[Transition]:
        seen = set()
        for item in observed:
            seen.add(item.key)
            transition = self._step(rule, item, now)
            if transition is not None:
                yield transition
        for key in [k for k in self.trends if k[0] == rule.name and k[1] not in seen]:
            del self.trends[key]
        for key in [k for k in self.instances if k[0] == rule.name and k[1] not in seen]:
            gone = self.instances.pop(key)
            self.changes += 1
            if gone.state == "firing":
                yield Transition("resolved", rule, gone, now, None, "gone")

    def _step(self, rule: Rule, item: Observed, now: float) -> Transition | None:
        name = (rule.name, item.key)
        held = self.instances.get(name)
        if item.value is None:
            return None  # unreadable this time: hold where it is
        trending = self._trending(rule, name, item.value, now)  # the trend sees every value
        triggered = rule.triggered(item.value) and trending
        if held is None:
            if not triggered:
                return None
            held = Instance(rule.name, item.key, item.labels, "pending", now, item.value)
            self.changes += 1
        held = replace(held, labels=item.labels, value=item.value)
        if held.state == "pending":
            return self._pending(rule, name, held, triggered, now)
        if rule.cleared(item.value):
            del self.instances[name]
            self.changes += 1
            return Transition("resolved", rule, held, now, item.value, "cleared")
        self.instances[name] = held
        if rule.repeat_seconds is not None and held.notified_at is not None \
                and now - held.notified_at >= rule.repeat_seconds:
            held = self.instances[name] = replace(held, notified_at=now)
            self.changes += 1
            return Transition("repeat", rule, held, now, item.value)
        return None

    def _pending(self, rule: Rule, name: tuple[str, Labels], held: Instance, triggered: bool,
                 now: float) -> Transition | None:
        if not triggered:
            if self.instances.pop(name, None) is not None:
                self.changes += 1
            return None
        if now - held.active_since < rule.for_seconds:
            self.instances[name] = held
            return None
        fired = replace(held, state="firing", fired_at=now, notified_at=now)
        self.instances[name] = fired
        self.changes += 1
        return Transition("firing", rule, fired, now, held.value)

    def _trending(self, rule: Rule, name: tuple[str, Labels], value: float, now: float) -> bool:
        """With ``predict``: whether the trend reaches its level within ``ahead`` (else True)."""
        if rule.predict is None:
            return True
        trend = self.trends.get(name)
        if trend is None:
            trend = self.trends[name] = Trend(rule.predict.window_seconds)
        trend.add(now, value)
        return trend.reaches(rule.predict.reaches, now, rule.predict.ahead_seconds)

    def firing(self) -> list[Instance]:
        """The instances that fire now."""
        return [i for i in self.instances.values() if i.state == "firing"]

    def state(self) -> list[Instance]:
        """What to save for a restart: every pending and firing instance."""
        return list(self.instances.values())

    def restore(self, saved: Iterable[Instance]) -> None:
        """Take back saved instances of rules that still exist (a rule removed meanwhile is dropped)."""
        names = {rule.name for rule in self.rules}
        for instance in saved:
            if instance.rule in names:
                self.instances[(instance.rule, instance.key)] = instance
                self.changes += 1
