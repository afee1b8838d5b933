"""SamplerStalled: the built-in alert that no new sample came for a while, which no sample can raise.

Every other rule is evaluated on a published sample; when the sampler is stuck (a collector hung
on a dead NFS mount, a stalled disk under the store), none comes. So this one runs on a clock:
every few seconds the alert book feeds an engine of its own the age of the last sample evaluated
(``age_seconds``), and the alert fires once that age has been over ``max(3 intervals, 30 s)`` for
two minutes, as ``deploy/prometheus/perfmon-rules.yml``'s PerfmonSamplerStalled does; the first
sample after resolves it. ``builtin_rules: false`` leaves it out, with the other built-in rules.
"""

from __future__ import annotations

from perfmon.alerts.model import Rule
from perfmon.core.metrics import BY_NAME, Field, Selector

NAME = "SamplerStalled"
AGE = Field("age_seconds", "seconds", "seconds since the last sample was evaluated")
FOR_SECONDS = 120.0
MIN_SECONDS = 30.0


def stall_rule(interval_seconds: float) -> Rule:
    """The rule, at this server's sampling interval."""
    limit = max(3 * interval_seconds, MIN_SECONDS)
    return Rule(NAME, Selector("sample", None, AGE.name), BY_NAME["sample"], AGE, rows=False, above=limit,
                below=None, clear=limit, for_seconds=FOR_SECONDS, severity="warning",
                summary=f"no new sample for over {limit:g} s: the sampler is stuck")


def check_every(interval_seconds: float) -> float:
    """How often the age is looked at: every interval, at least every second, at most every 5 s."""
    return min(5.0, max(1.0, interval_seconds))
