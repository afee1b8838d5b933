"""The sampler: runs the collectors off the event loop and publishes snapshots.

Every ``interval_seconds`` it runs all collectors in one worker thread, serialises the
sample to JSON (and gzip) once, appends a compact row to the bounded history, and
wakes every long-polling request with a single event. Process scans run on their own
slower cadence in the same thread. Requests only ever read what was published.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import psutil

from perfmon.collectors import (
    TOP_PROCESSES,
    Collector,
    ProcessCollector,
    default_collectors,
    describe_error,
    top_by,
)
from perfmon.config import ServerConfig
from perfmon.history import History
from perfmon.models import ProcessTable, Snapshot, empty_sample, history_row

log = logging.getLogger(__name__)

FIRST_SAMPLE_DELAY_SECONDS = 1.0  # shorter CPU deltas are unreliable on tickless kernels
GZIP_MIN_BYTES = 1024  # below this, gzip's header overhead eats most of the gain
GZIP_LEVEL = 6


def finite_only(value: Any) -> Any:
    """A copy of a JSON-shaped value with NaN and infinities replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_only(v) for v in value]
    return value


class ShuttingDown(Exception):
    """The sampler stopped while a request was waiting for a sample."""


class Sampler:
    """Owns the collectors, the latest snapshot, the process table and the history."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        ps: ModuleType = psutil,
        collectors: Sequence[Collector] | None = None,
        process_collector: ProcessCollector | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.instance_id = uuid.uuid4().hex[:12]
        self.started_at = clock()
        self.history = History(config.history_size)
        self.latest: Snapshot | None = None
        self.processes: ProcessTable | None = None
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
        self._changed = asyncio.Event()
        self._closed = False
        self._executor: ThreadPoolExecutor | None = None

    # --- collection (runs in the worker thread) -------------------------------------

    def prime(self) -> None:
        """Take the readings that make the first published deltas real."""
        for collector in [*self._collectors, self._process_collector]:
            prime = getattr(collector, "prime", None)
            if prime is not None:
                try:
                    prime()
                except Exception as exc:  # noqa: BLE001 - its collect() will report the reason
                    log.debug("priming %s failed: %s", collector.name, exc)
        self._next_process_scan = self._monotonic() + self.config.process_interval_seconds

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
        if self._monotonic() >= self._next_process_scan or self.processes is None:
            table = self.scan_processes()
            self._next_process_scan = self._monotonic() + self.config.process_interval_seconds
        self._seq += 1
        sample = empty_sample()
        sample.update(
            seq=self._seq,
            timestamp=round(self._clock(), 3),
            interval_seconds=self.config.interval_seconds,
            instance_id=self.instance_id,
        )
        for collector in self._collectors:
            self._run_collector(collector, sample)
        self._add_processes(sample, table or self.processes)
        return self._serialise(sample), table

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
        sample["processes"] = {
            "count": table.count,
            "sampled_at": table.sampled_at,
            "top_cpu": [
                {k: p[k] for k in ("pid", "name", "cpu_percent", "memory_percent")} for p in top
            ],
        }

    def _serialise(self, sample: dict[str, Any]) -> Snapshot:
        try:
            body = json.dumps(sample, separators=(",", ":"), allow_nan=False).encode()
        except ValueError:  # NaN or infinity from a broken sensor: JSON has no such numbers
            sample = finite_only(sample)
            sample["errors"].append({"collector": "sampler",
                                     "message": "a non-finite number was read and published as null"})
            body = json.dumps(sample, separators=(",", ":"), allow_nan=False).encode()
        body_gzip = gzip.compress(body, GZIP_LEVEL, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
        if body_gzip is not None and len(body_gzip) >= len(body):
            body_gzip = None
        return Snapshot(
            seq=sample["seq"],
            timestamp=sample["timestamp"],
            data=sample,
            body=body,
            body_gzip=body_gzip,
            etag=f"{self.instance_id}-{sample['seq']}",
        )

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
        """Make a snapshot current and wake everyone waiting for it."""
        if table is not None:
            self.processes = table
        self.latest = snapshot
        self.history.append(history_row(snapshot.data))
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def sample_once(self) -> Snapshot:
        """Collect in the worker thread and publish; used by the loop and by tests."""
        loop = asyncio.get_running_loop()
        snapshot, table = await loop.run_in_executor(self._worker(), self.collect)
        self.publish(snapshot, table)
        return snapshot

    async def run(self) -> None:
        """Sample every interval until cancelled, on a fixed cadence without drift."""
        loop = asyncio.get_running_loop()
        interval = self.config.interval_seconds
        await loop.run_in_executor(self._worker(), self.prime)
        deadline = loop.time() + min(interval, FIRST_SAMPLE_DELAY_SECONDS)
        while not self._closed:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            try:
                await self.sample_once()
            except Exception:  # keep sampling: the next tick may succeed
                log.exception("sampling failed")
            deadline += interval
            now = loop.time()
            if deadline < now:
                missed = int((now - deadline) // interval) + 1
                log.debug("sampling overran by %d interval(s)", missed)
                deadline += missed * interval

    async def wait_for_sample(self, after_seq: int | None, timeout: float) -> Snapshot | None:
        """The first snapshot newer than ``after_seq``, or None if ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.latest is None or (after_seq is not None and self.latest.seq <= after_seq):
            if self._closed:
                raise ShuttingDown
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                return None
        return self.latest

    def close(self) -> None:
        """Stop sampling and release every waiting request."""
        self._closed = True
        self._changed.set()

    def shutdown_worker(self) -> None:
        """Stop the worker thread (after the sampling task ended)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfmon-sampler")
        return self._executor

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed
