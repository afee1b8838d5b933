"""A slot: one collector in the sampler, with its lane, its cadence, its timeout and its last reading.

What a sample shows for a collector is always its last finished run: fresh when the run
finished within the sample's wait, the kept value of a slower cadence between runs (the process
scan's ``sampled_at`` says how old), and null once a run has lasted longer than the timeout
("timed out after N s"). A run still going is never started again; the sample says so. A run
that comes back after its timeout is discarded (its reading is old), and the collector is
tried again on its cadence.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import WithTable, describe_error
from perfmon.sampling.lane import Crew, Lane, Run
from perfmon.sampling.registry import Scheduled
from perfmon.sampling.snapshot import ProcessTable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reading:
    """A finished run's values and notes, as every sample shows them until the next run."""

    value: Any = None
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class Timing:
    """The last run's timing and outcome, for /metrics and /api/health."""

    duration: float | None = None
    success: bool | None = None
    error: str | None = None
    started_at: float | None = None


@dataclass
class Slot:
    """One scheduled collector and the state of its runs."""

    scheduled: Scheduled
    interval_seconds: float
    ps: ModuleType | None = None
    clock: Any = time.time
    crew: Crew | None = None  # the threads its calls run in (shared by a sampler's slots)
    reading: Reading | None = None
    timing: Timing = field(default_factory=Timing)
    table: ProcessTable | None = None  # a new table to publish with the next sample
    run: Run | None = None  # the run not yet taken in (running, or finished since the last sample)
    next_due: float = -math.inf
    skipped_since: float | None = None  # due, but the last run was still going
    timed_out: bool = False
    priming: bool = False

    def __post_init__(self) -> None:
        self.collector = self.scheduled.collector
        self.name: str = self.collector.name
        self.section: str = self.collector.section
        self.timeout: float = self.scheduled.timeout_seconds
        self.cadence: float | None = self.scheduled.cadence_seconds
        self.lane = Lane(self.name, crew=self.crew, clock=self.clock)

    def prime(self) -> Run | None:
        """Start the collector's priming read (if it has one) in its lane."""
        prime = getattr(self.collector, "prime", None)
        if prime is None:
            return None
        self.run, self.priming = self.lane.start(prime), True
        return self.run

    def start(self, now: float, slack: float) -> Run | None:
        """Start a run if one is due at ``now`` (the sampler's monotonic clock) and none is going."""
        if now + slack < self.next_due:
            return None
        if self.lane.busy:
            self.skipped_since = self.skipped_since or time.monotonic()
            return None
        self.skipped_since = None
        self.next_due = now + (self.cadence or 0.0)
        self.run, self.priming, self.timed_out = self.lane.start(self._call), False, False
        return self.run

    def _call(self) -> tuple[Any, list[str]]:
        notes: list[str] = []
        return self.collector.collect(notes.append), notes

    def settle(self) -> None:
        """Take in a finished run, or declare a run that outlasted its timeout timed out."""
        run = self.run
        if run is None:
            return
        if run.done:
            self.run = None
            if self.priming:
                if run.error is not None:
                    log.debug("priming %s failed: %s", self.name, run.error)
            elif self.timed_out:  # back after its timeout: its reading is old; the timeout stands
                self.timing.duration = run.duration
            else:
                self._take(run)
            return
        elapsed = time.monotonic() - run.started
        if elapsed >= self.timeout:
            if not self.timed_out:
                self.timed_out = True
                message = f"timed out after {self.timeout:g} s"
                self.reading = Reading(None, (message,))
                self.timing = Timing(None, False, message, run.started_at)
            self.timing.duration = elapsed  # how long it has hung so far

    def _take(self, run: Run) -> None:
        error = None
        if run.error is not None:
            error = describe_error(run.error, self.ps)
            self.reading = Reading(None, (error,))
        else:
            value, notes = run.value
            if isinstance(value, WithTable):
                self.table, error, value = value.table, value.table.error, value.section
            self.reading = Reading(value, tuple(notes))
        self.timing = Timing(run.duration, error is None, error, run.started_at)

    def notes(self) -> list[str]:
        """What the sample says of this collector: its reading's notes, and a run still going."""
        notes = list(self.reading.notes) if self.reading else []
        run = self.run
        if run is None or run.done or self.timed_out:
            if self.skipped_since is not None and run is not None and not run.done:
                notes.append(f"still running after {time.monotonic() - run.started:.1f} s: not started "
                             "again until it returns")
            return notes
        if self.reading is None or self.cadence is None or self.skipped_since is not None:
            elapsed = time.monotonic() - run.started
            kept = "the value of its previous run stands" if self.reading else "no value yet"
            notes.append(f"still running after {elapsed:.2f} s (timeout {self.timeout:g} s): {kept}")
        return notes

    def take_table(self) -> ProcessTable | None:
        """The table of a run taken in since the last call, once."""
        table, self.table = self.table, None
        return table

    def status(self) -> dict[str, Any]:
        """This collector's entry in /api/health's ``collectors``."""
        timing = self.timing
        return {"enabled": True, "cadence_seconds": self.cadence or self.interval_seconds,
                "timeout_seconds": self.timeout,
                "last_duration_seconds": None if timing.duration is None else round(timing.duration, 6),
                "last_success": timing.success, "last_error": timing.error,
                "last_run": None if timing.started_at is None else round(timing.started_at, 3)}
