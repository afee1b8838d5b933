"""What a rules file says, once read and checked: rules, channels and silences.

The file's shape is a contract (README, "Alerts"); :mod:`perfmon.alerts.rules` reads it into
these values, and the engine, the API and the notifications use nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from perfmon.core.metrics import Selector
from perfmon.core.metrics.model import Field, Group

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")  # in rising order
ChannelType = Literal["webhook", "ntfy", "email", "apprise"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """A linear trend over ``window`` seconds must reach ``reaches`` within ``ahead`` seconds too."""

    window_seconds: float
    ahead_seconds: float
    reaches: float


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: the series it selects, when an instance fires and clears, and whom it tells.

    ``above`` or ``below`` (one of them) is the trigger; ``clear`` the level an instance must pass
    back over to resolve (hysteresis; the trigger itself when not given). ``for_seconds``: how long
    the trigger must hold before an instance fires. ``repeat_seconds``: notify again so often
    while it fires (None: once). ``notify``: channel names (None: every channel).
    ``divide_by``: a section value the selected value is divided by first (load per CPU).
    """

    name: str
    select: Selector
    group: Group
    field: Field
    rows: bool  # the field is each row's (an instance per row), not the section's
    above: float | None
    below: float | None
    clear: float
    for_seconds: float = 0.0
    severity: Severity = "warning"
    repeat_seconds: float | None = None
    notify: tuple[str, ...] | None = None
    summary: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    divide_by: Selector | None = None
    predict: Prediction | None = None
    line: int | None = None  # where the file says it; None: a built-in rule

    @property
    def threshold(self) -> float:
        """The trigger level."""
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    def triggered(self, value: float) -> bool:
        """Whether ``value`` is past the trigger."""
        return value > self.above if self.above is not None else value < self.threshold

    def cleared(self, value: float) -> bool:
        """Whether ``value`` is back past the clear level (strictly: at it, the alert holds)."""
        return value < self.clear if self.above is not None else value > self.clear


@dataclass(frozen=True, slots=True)
class Channel:
    """A named way to reach someone: its type and its checked options (secrets by file or variable)."""

    name: str
    type: ChannelType
    options: Mapping[str, Any]
    severities: tuple[Severity, ...] = SEVERITIES  # the severities it is told of
    send_resolved: bool = True
    line: int | None = None
    timeout_seconds: float = 10.0  # how long one delivery may take
    group_wait_seconds: float = 1.0  # how long a new notification waits for others to join it (0: none)


@dataclass(frozen=True, slots=True)
class Silence:
    """Alerts whose labels all equal ``match`` are not notified between ``starts`` and ``ends``."""

    match: Mapping[str, str]
    starts: float
    ends: float
    comment: str = ""
    id: str = ""

    def covers(self, labels: Mapping[str, str], now: float) -> bool:
        """Whether an alert with ``labels`` is silenced at ``now``."""
        return self.starts <= now < self.ends and all(labels.get(k) == v for k, v in self.match.items())


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A URL fetched every ``every_seconds`` while sampling is healthy: a dead-man's switch that a
    service such as healthchecks.io or Uptime Kuma (push) watches, so that someone learns when
    perfmon itself is down."""

    url: str
    every_seconds: float = 60.0
    line: int | None = None


@dataclass(frozen=True, slots=True)
class AlertsFile:
    """Everything a rules file (or the defaults alone) says."""

    rules: tuple[Rule, ...]
    channels: Mapping[str, Channel] = dataclasses.field(default_factory=dict)
    silences: tuple[Silence, ...] = ()
    source: str = "(built-in rules)"
    heartbeat: Heartbeat | None = None
    watch_sampler: bool = True  # the built-in SamplerStalled alert (perfmon.alerts.stall), with the others
