"""The sampler: runs the collectors off the event loop and publishes what they read.

Every ``interval_seconds`` it runs all collectors in one worker thread, serialises the
sample to JSON (and gzip) once, hands it to ``keep`` (the history store's ``append``;
the sampler does not know the store) and publishes it to the hub, which wakes every
long-polling request with a single event. Process scans run on their own slower
cadence in the same thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import psutil

from perfmon.core.schema import empty_sample
from perfmon.sampling.collectors import (
    TOP_PROCESSES,
    Collector,
    ProcessCollector,
    default_collectors,
    describe_error,
    top_by,
)
from perfmon.sampling.hub import Hub
from perfmon.sampling.snapshot import ProcessTable, Snapshot, serialise

log = logging.getLogger(__name__)

FIRST_SAMPLE_DELAY_SECONDS = 1.0  # shorter CPU deltas are unreliable on tickless kernels
TOP_CPU_KEYS = ("pid", "name", "cpu_percent", "memory_percent")


class Cadence:
    """Deadlines every ``interval`` without drift; after an overrun, the missed ones are skipped.

    A sample that took longer than an interval must not be followed by a burst of
    catch-up samples taken back to back (their rates would cover almost no time).
    """

    def __init__(self, interval: float, first_deadline: float) -> None:
        self.interval = interval
        self.deadline = first_deadline

    def advance(self, now: float) -> int:
        """Move to the next deadline after ``now``'s tick; return how many were missed."""
        self.deadline += self.interval
        if self.deadline >= now:
            return 0
        missed = int((now - self.deadline) // self.interval) + 1
        self.deadline += missed * self.interval
        return missed


class Sampler:
    """Owns the collectors; each sample goes to ``keep`` and is then published to the hub."""

    def __init__(
        self,
        hub: Hub,
        keep: Callable[[Mapping[str, Any]], object] = lambda sample: None,
        *,
        process_interval_seconds: float = 5.0,
        ps: ModuleType = psutil,
        collectors: Sequence[Collector] | None = None,
        process_collector: ProcessCollector | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self._keep = keep
        self.process_interval_seconds = process_interval_seconds
        self._ps = ps
        self._clock = clock
        self._monotonic = monotonic
        if collectors is None:
            collectors = default_collectors(ps, clock=clock, monotonic=monotonic)
        self._collectors = list(collectors)
        self._process_collector = process_collector or ProcessCollector(ps)
        self._seq = 0
        self._process_scan_seq = 0
        self._next_process_scan = 0.0
        self._failing: set[str] = set()
        self._closed = False
        self._executor: ThreadPoolExecutor | None = None

    # --- collection (runs in the worker thread) -------------------------------------

    def prime(self) -> None:
        """Take the readings that make the first published deltas real."""
        named: list[Collector | ProcessCollector] = [*self._collectors, self._process_collector]
        for collector in named:
            prime = getattr(collector, "prime", None)
            if prime is not None:
                try:
                    prime()
                except Exception as exc:  # noqa: BLE001 - its collect() will report the reason
                    log.debug("priming %s failed: %s", collector.name, exc)
        self._next_process_scan = self._monotonic() + self.process_interval_seconds

    def scan_processes(self) -> ProcessTable:
        """Scan the process table once."""
        self._process_scan_seq += 1
        sampled_at = self._clock()
        errors: list[str] = []
        try:
            rows = self._process_collector.scan()
        except Exception as exc:  # noqa: BLE001 - reported in the table and the samples
            errors.append(describe_error(exc, self._ps))
            rows = []
        self._log_health("processes", errors)
        return ProcessTable(self._process_scan_seq, round(sampled_at, 3), rows,
                            errors[0] if errors else None)

    def collect(self) -> tuple[Snapshot, ProcessTable | None]:
        """Run every collector once and serialise the result; a process scan when due."""
        table = None
        if self._monotonic() >= self._next_process_scan or self.hub.processes is None:
            table = self.scan_processes()
            self._next_process_scan = self._monotonic() + self.process_interval_seconds
        self._seq += 1
        sample = empty_sample()
        sample.update(seq=self._seq, timestamp=round(self._clock(), 3),
                      interval_seconds=self.hub.interval_seconds, instance_id=self.hub.instance_id)
        for collector in self._collectors:
            self._run_collector(collector, sample)
        self._add_processes(sample, table or self.hub.processes)
        return serialise(sample, self.hub.instance_id), table

    def _run_collector(self, collector: Collector, sample: dict[str, Any]) -> None:
        notes: list[str] = []
        try:
            value = collector.collect(notes.append)
        except Exception as exc:  # noqa: BLE001 - isolation: one collector never stops the others
            notes.append(describe_error(exc, self._ps))
            value = None
        if isinstance(value, dict) and isinstance(sample.get(collector.section), dict):
            sample[collector.section].update(value)
        elif value is not None:
            sample[collector.section] = value
        sample["errors"].extend({"collector": collector.name, "message": m} for m in notes)
        self._log_health(collector.name, notes)

    @staticmethod
    def _add_processes(sample: dict[str, Any], table: ProcessTable | None) -> None:
        if table is None:
            return
        if table.error:
            sample["errors"].append({"collector": "processes", "message": table.error})
            sample["processes"]["sampled_at"] = table.sampled_at
            return
        top = top_by(table.processes, "cpu_percent", TOP_PROCESSES)
        sample["processes"] = {"count": table.count, "sampled_at": table.sampled_at,
                               "top_cpu": [{k: p[k] for k in TOP_CPU_KEYS} for p in top]}

    def _log_health(self, name: str, notes: list[str]) -> None:
        """Log a collector's trouble once when it starts and once when it ends."""
        if notes and name not in self._failing:
            self._failing.add(name)
            log.warning("collector %s: %s (reported in the sample's errors; logged once)",
                        name, "; ".join(notes))
        elif notes:
            log.debug("collector %s: %s", name, "; ".join(notes))
        elif name in self._failing:
            self._failing.discard(name)
            log.info("collector %s recovered", name)

    # --- publication (runs on the event loop) ---------------------------------------

    def publish(self, snapshot: Snapshot, table: ProcessTable | None = None) -> None:
        """Keep the sample (in the history), then make it current: a woken reader finds its row."""
        self._keep(snapshot.data)
        self.hub.publish(snapshot, table)

    async def sample_once(self) -> Snapshot:
        """Collect in the worker thread and publish; used by the loop and by tests."""
        loop = asyncio.get_running_loop()
        snapshot, table = await loop.run_in_executor(self._worker(), self.collect)
        self.publish(snapshot, table)
        return snapshot

    async def run(self, *, now: Callable[[], float] | None = None,
                  sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        """Sample every interval until closed or cancelled, on a fixed cadence (see Cadence)."""
        loop = asyncio.get_running_loop()
        now = now or loop.time
        interval = self.hub.interval_seconds
        await loop.run_in_executor(self._worker(), self.prime)
        cadence = Cadence(interval, now() + min(interval, FIRST_SAMPLE_DELAY_SECONDS))
        while not self._closed:
            await sleep(max(0.0, cadence.deadline - now()))
            try:
                await self.sample_once()
            except Exception:  # keep sampling: the next tick may succeed
                log.exception("sampling failed")
            missed = cadence.advance(now())
            if missed:
                log.debug("sampling overran by %d interval(s)", missed)

    def close(self) -> None:
        """Stop sampling and release every waiting request."""
        self._closed = True
        self.hub.close()

    def shutdown_worker(self) -> None:
        """Stop the worker thread (after the sampling task ended)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfmon-sampler")
        return self._executor
