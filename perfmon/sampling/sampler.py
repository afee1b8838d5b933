"""The sampler: runs the collectors off the event loop and publishes what they read.

Every ``interval_seconds`` it starts each collector that is due (see ``perfmon.sampling.registry``
for cadences and timeouts), one after another in the crew's thread (``perfmon.sampling.lane``: a
call that stalls is left its own thread and the others go on in a new one), and waits for them
at most half an interval (or a collector's timeout, if shorter): a slow or hung collector delays
no sample, and no other collector by more than the crew's stall time (50 ms). What each shows
is its last finished run (``perfmon.sampling.slot``). The sample is serialised to JSON (and
gzip) once, handed to ``keep`` (the history store's ``append``; the sampler does not know the
store) and published to the hub, with the collectors' timings and, after a process scan, the
new process table.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

from perfmon.core.schema import empty_sample
from perfmon.sampling import registry
from perfmon.sampling.collectors import is_whole_disk
from perfmon.sampling.hub import Hub
from perfmon.sampling.lane import Crew
from perfmon.sampling.registry import Scheduled, Sources
from perfmon.sampling.slot import Slot
from perfmon.sampling.snapshot import ProcessTable, Snapshot, serialise

log = logging.getLogger(__name__)

FIRST_SAMPLE_DELAY_SECONDS = 1.0  # shorter CPU deltas are unreliable on tickless kernels
WAIT_FRACTION = 0.5  # of an interval: the longest a sample waits for its collectors
PRIME_WAIT_SECONDS = 1.0  # the longest the start waits for the priming reads
CADENCE_SLACK = 0.25  # of an interval: a collector due a little after this tick runs now, not a tick late
DISABLED = {"enabled": False, "cadence_seconds": None, "timeout_seconds": None, "last_duration_seconds": None,
            "last_success": None, "last_error": None, "last_run": None}


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
    """Owns the collectors' slots; each sample goes to ``keep`` and is then published to the hub."""

    def __init__(
        self,
        hub: Hub,
        keep: Callable[[Mapping[str, Any]], object] = lambda sample: None,
        *,
        process_interval_seconds: float = 5.0,
        enabled: Collection[str] | None = None,
        cadences: Mapping[str, float] | None = None,
        ps: ModuleType = psutil,
        collectors: Sequence[Scheduled] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        whole_disk: Callable[[str], bool] = is_whole_disk,
        procfs: Path = Path("/proc"),
    ) -> None:
        self.hub = hub
        self._keep = keep
        self._ps = ps
        self._clock = clock
        self._monotonic = monotonic
        if collectors is None:
            enabled = registry.enabled_names() if enabled is None else enabled
            collectors = registry.build(Sources(ps, clock, monotonic, whole_disk, procfs), enabled,
                                        cadences={**(cadences or {}), "processes": process_interval_seconds})
        interval = hub.interval_seconds
        self.crew = Crew()  # the threads the collectors run in
        self._slots = [Slot(s, interval, ps, clock, crew=self.crew) for s in collectors]
        built = {slot.name for slot in self._slots}
        self._disabled = [name for name in registry.names() if name not in built]
        self._status: dict[str, dict[str, Any]] = {}
        self._seq = 0
        self._failing: set[str] = set()
        self._stop = threading.Event()  # set to end the sampler's thread (close, or run cancelled)
        self._executor: ThreadPoolExecutor | None = None

    # --- collection (runs in the sampler's thread; the collectors in the crew's) -------

    def prime(self) -> None:
        """Take the readings that make the first published deltas real (in the crew, bounded)."""
        runs = [(slot, run) for slot in self._slots if (run := slot.prime()) is not None]
        began = time.monotonic()
        self.crew.wait(began + max((min(slot.timeout, PRIME_WAIT_SECONDS) for slot, _ in runs), default=0.0))
        for slot, run in runs:
            run.wait(began + min(slot.timeout, PRIME_WAIT_SECONDS) - time.monotonic())

    def collect(self) -> tuple[Snapshot, ProcessTable | None]:
        """Start the due collectors, wait for them (bounded), and serialise what the slots hold."""
        began, now = time.monotonic(), self._monotonic()
        interval = self.hub.interval_seconds
        self._seq += 1
        started = [(slot, run) for slot in self._slots
                   if (run := slot.start(now, CADENCE_SLACK * interval)) is not None]
        budget = WAIT_FRACTION * interval
        self.crew.wait(began + max((min(slot.timeout, budget) for slot, _ in started), default=0.0))
        for slot, run in started:  # a call left its own thread may still finish within its wait
            run.wait(began + min(slot.timeout, budget) - time.monotonic())
        sample = empty_sample()
        sample.update(seq=self._seq, timestamp=round(self._clock(), 3), interval_seconds=interval,
                      instance_id=self.hub.instance_id)
        table = None
        for slot in self._slots:
            slot.settle()
            self._merge(slot, sample)
            table = slot.take_table() or table
        self._status = self.status()
        return serialise(sample, self.hub.instance_id), table

    def _merge(self, slot: Slot, sample: dict[str, Any]) -> None:
        value = slot.reading.value if slot.reading else None
        if isinstance(value, dict) and isinstance(sample.get(slot.section), dict):
            sample[slot.section].update(value)
        elif value is not None:
            sample[slot.section] = value
        notes = slot.notes()
        sample["errors"].extend({"collector": slot.name, "message": m} for m in notes)
        self._log_health(slot.name, notes)

    def status(self) -> dict[str, dict[str, Any]]:
        """Every registered collector's state: on or off, cadence, timeout, last duration and success."""
        status = {slot.name: slot.status() for slot in self._slots}
        status.update((name, dict(DISABLED)) for name in self._disabled)
        return status

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
        self.hub.collectors = self._status
        self.hub.publish(snapshot, table)

    async def sample_once(self) -> Snapshot:
        """Collect in the worker thread and publish; used by the loop and by tests."""
        loop = asyncio.get_running_loop()
        snapshot, table = await loop.run_in_executor(self._worker(), self.collect)
        self.publish(snapshot, table)
        return snapshot

    async def run(self, *, now: Callable[[], float] = time.monotonic,
                  wait: Callable[[float], bool] | None = None) -> None:
        """Sample every interval until closed or cancelled, on a fixed cadence (see Cadence).

        The sampler's thread keeps the time itself and hands each sample to the loop, which so
        wakes once a sample, not for a timer and again for the thread's result (with the
        executor's futures: a third of the loop's idle CPU). ``now`` is the clock of the
        deadlines, ``wait(seconds)`` waits until the next one and says whether to stop (the
        sampler's stop event; tests give a fake clock and a wait that moves it).
        """
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._worker(), self._pace, loop, now, wait or self._stop.wait)
        finally:
            self._stop.set()  # cancelled: the thread ends after the sample it is taking

    def _pace(self, loop: asyncio.AbstractEventLoop, now: Callable[[], float],
              wait: Callable[[float], bool]) -> None:
        """The sampler's thread: prime, then collect at every deadline and publish on ``loop``."""
        self.prime()
        interval = self.hub.interval_seconds
        cadence = Cadence(interval, now() + min(interval, FIRST_SAMPLE_DELAY_SECONDS))
        while not self._stop.is_set() and not wait(max(0.0, cadence.deadline - now())):
            try:
                snapshot, table = self.collect()
            except Exception:  # keep sampling: the next tick may succeed
                log.exception("sampling failed")
            else:
                try:
                    loop.call_soon_threadsafe(self._publish_logged, snapshot, table)
                except RuntimeError:  # the loop is closed: nobody to publish to
                    return
            missed = cadence.advance(now())
            if missed:
                log.debug("sampling overran by %d interval(s)", missed)

    def _publish_logged(self, snapshot: Snapshot, table: ProcessTable | None) -> None:
        try:
            self.publish(snapshot, table)
        except Exception:  # keep sampling: the next tick may succeed
            log.exception("sampling failed")

    def close(self) -> None:
        """Stop sampling and release every waiting request."""
        self._stop.set()
        self.hub.close()

    def shutdown_worker(self) -> None:
        """Stop the sampler's thread and the idle lanes (after the sampling task ended).

        A lane whose call hangs is left to end with the process (its thread is a daemon).
        """
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        for slot in self._slots:
            slot.lane.close()
        for slot in self._slots:
            if not slot.lane.busy:
                slot.lane.join(1.0)

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfmon-sampler")
        return self._executor
