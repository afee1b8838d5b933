"""The collectors' state as the API shows it: /api/health's ``collectors``, and two /metrics families.

The sampler leaves each collector's last run on the hub with every sample (``Hub.collectors``,
made by ``perfmon.sampling.slot.Slot.status``). ``/metrics`` exposes them as node_exporter does
its own: ``perfmon_collector_duration_seconds`` and ``perfmon_collector_success`` (1 when the
last run returned in time without an exception), one series per enabled collector that has run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import partial
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

DURATION = "perfmon_collector_duration_seconds"
SUCCESS = "perfmon_collector_success"
FAMILY_NAMES = frozenset({DURATION, SUCCESS})
Status = Mapping[str, Mapping[str, Any]]


def key(status: Status) -> tuple[tuple[str, float | None, bool | None], ...]:
    """What the two families show of ``status`` (a family's bytes are reused while it is the same)."""
    return tuple((name, s["last_duration_seconds"], s["last_success"]) for name, s in status.items()
                 if s["enabled"])


def families(status: Status) -> Iterator[tuple[str, Hashable, Callable[[], Metric]]]:
    """The duration and success families: each name, what its values are, and how to build it."""
    runs = key(status)
    durations = tuple((name, seconds) for name, seconds, _ in runs if seconds is not None)
    successes = tuple((name, 1.0 if ok else 0.0) for name, _, ok in runs if ok is not None)
    yield DURATION, durations, partial(_gauge, DURATION, "how long the collector's last run took (a hung "
                                       "one: so far)", "seconds", durations)
    yield SUCCESS, successes, partial(_gauge, SUCCESS, "1 if the collector's last run returned in time "
                                      "without an error, else 0", "", successes)


def _gauge(name: str, documentation: str, unit: str, values: tuple[tuple[str, float], ...]) -> Metric:
    metric = GaugeMetricFamily(name, documentation, labels=["collector"], unit=unit)
    for collector, value in values:
        metric.add_metric([collector], value)
    return metric


def health_schema() -> dict[str, Any]:
    """The OpenAPI schema of /api/health's ``collectors``: one entry per registered collector."""
    number, flag, text = ({"type": [kind, "null"]} for kind in ("number", "boolean", "string"))
    entry = {"type": "object", "additionalProperties": False,
             "required": ["enabled", "cadence_seconds", "timeout_seconds", "last_duration_seconds",
                          "last_success", "last_error", "last_run"],
             "properties": {
                 "enabled": {"type": "boolean", "description": "on or off (--collectors)"},
                 "cadence_seconds": {**number, "description": "how often it runs (null: off)"},
                 "timeout_seconds": {**number, "description": "a run longer than this is timed out: its "
                                                              "fields null until it is tried again"},
                 "last_duration_seconds": {**number, "description": "its last run's duration (a hung run: "
                                                                    "so far); null before the first"},
                 "last_success": {**flag, "description": "the last run returned in time without an error"},
                 "last_error": {**text, "description": "why the last run failed (or timed out)"},
                 "last_run": {**number, "description": "when the last run started (Unix seconds)"}}}
    return {"type": "object", "additionalProperties": entry,
            "description": "each registered collector by name, on or off, with its last run"}
