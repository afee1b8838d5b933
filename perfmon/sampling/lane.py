"""Lanes: each collector's one-call-at-a-time guard, and the crew of threads that runs their calls.

A thread per collector, woken every sample, cost more than the collectors themselves: eleven
threads handing the GIL back and forth took 1.3-1.5 ms of CPU a sample here, against 1.0 ms for
every read done in one thread (``bench/bench_sampler.py``). So the calls of a sample run one
after another in one thread, the crew's runner, and a call that stalls is left its thread: when
a call has run for ``STALL_SECONDS`` with others queued behind it, the runner is given up to it
and a new runner takes the queue. A hung ``smartctl`` or Docker socket still holds only its own
thread and delays the others by ``STALL_SECONDS`` at most; a lane starts nothing while its last
call runs, so the threads are bounded by the number of collectors plus one. Threads are daemons,
made on first use: a hung call cannot keep the process from exiting.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

STALL_SECONDS = 0.05  # a call this old with others waiting behind it is left its thread


class Run:
    """One call in a lane: when it started, and once done, its value or its exception.

    Waiting is on a lock held until the call ends, not on an Event: a third less CPU per sample
    for eleven lanes here (0.33-0.40 ms against 0.52-0.67 ms, bench in the registry's report).
    """

    __slots__ = ("_held", "error", "finished", "started", "started_at", "value")

    def __init__(self, started: float, started_at: float) -> None:
        self.started = started  # time.monotonic(), moved to when the call begins
        self.started_at = started_at  # Unix time, for the health answer
        self.finished: float | None = None
        self.value: Any = None
        self.error: BaseException | None = None
        self._held = threading.Lock()
        self._held.acquire()  # released when the call ends

    @property
    def done(self) -> bool:
        """True once the call returned or raised."""
        return self.finished is not None

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the call; True if it is done."""
        if self.finished is None and self._held.acquire(timeout=max(0.0, timeout)):
            self._held.release()
        return self.finished is not None

    @property
    def duration(self) -> float | None:
        """How long the call took, once done."""
        return None if self.finished is None else self.finished - self.started

    def settle(self, value: Any, error: BaseException | None) -> None:
        """Record the outcome (in the runner's thread) and wake whoever waits."""
        self.value, self.error, self.finished = value, error, time.monotonic()
        self._held.release()


Job = tuple[Callable[[], Any], Run]


class _Runner:
    """One crew thread: its queue, the jobs it has not begun, and the call it is in."""

    __slots__ = ("current", "given_up", "jobs", "queued", "thread")

    def __init__(self, name: str, work: Callable[[_Runner], None]) -> None:
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.queued: deque[Job] = deque()  # in ``jobs``' order, not yet begun
        self.current: Run | None = None
        self.given_up = False  # left to a stalled call: it ends when the call does
        self.thread = threading.Thread(target=work, args=(self,), daemon=True, name=name)


class Crew:
    """Runs calls one after another in one thread; a stalled call is left its thread."""

    def __init__(self, name: str = "perfmon-collectors", *, stall_seconds: float = STALL_SECONDS) -> None:
        self.name = name
        self.stall_seconds = stall_seconds
        self._lock = threading.Lock()
        self._runner: _Runner | None = None
        self._closed: _Runner | None = None
        self.threads_made = 0

    def submit(self, call: Callable[[], Any], run: Run) -> None:
        """Queue ``call``; ``run`` settles when it has run."""
        with self._lock:
            runner = self._runner or self._new_runner()
            runner.queued.append((call, run))
            runner.jobs.put((call, run))

    def last(self) -> tuple[Run | None, bool]:
        """The run the current runner will finish last, if any, and whether others wait before it."""
        with self._lock:
            runner = self._runner
            if runner is None:
                return None, False
            if runner.queued:
                return runner.queued[-1][1], runner.current is not None or len(runner.queued) > 1
            return runner.current, False

    def wait(self, until: float) -> None:
        """Wait until every queued call has run or ``until`` (monotonic), moving past a stalled call."""
        while True:
            tail, behind = self.last()
            remaining = until - time.monotonic()
            if tail is None or remaining <= 0:
                return
            if tail.wait(min(remaining, self.stall_seconds) if behind else remaining):
                if self.last()[0] in (tail, None):
                    return
            else:
                self.unstick()

    def unstick(self) -> bool:
        """Give the runner up to its call if that has stalled with others queued; True if it did."""
        with self._lock:
            runner = self._runner
            if (runner is None or runner.current is None or not runner.queued
                    or time.monotonic() - runner.current.started < self.stall_seconds):
                return False
            runner.given_up, self._runner = True, None
            fresh = self._new_runner()
            for job in runner.queued:
                fresh.queued.append(job)
                fresh.jobs.put(job)
            runner.queued.clear()
            return True

    def close(self) -> None:
        """Let the runner end once its queue is empty; a later ``submit`` makes a new one."""
        with self._lock:
            runner, self._runner = self._runner, None
            if runner is not None:
                runner.jobs.put(None)
                self._closed = runner

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the closed runner to end."""
        if self._closed is not None:
            self._closed.thread.join(timeout)

    def _new_runner(self) -> _Runner:
        self._runner = runner = _Runner(self.name, self._work)
        self.threads_made += 1
        runner.thread.start()
        return runner

    def _work(self, runner: _Runner) -> None:
        while (job := runner.jobs.get()) is not None:
            with self._lock:
                if runner.given_up:
                    return  # its queue went to a new runner
                runner.queued.popleft()
                call, run = job
                run.started = time.monotonic()
                runner.current = run
            try:
                value = call()
            except BaseException as exc:  # noqa: BLE001 - handed to the sampler, which reports it
                run.settle(None, exc)
            else:
                run.settle(value, None)
            if self._finish(runner):
                return

    def _finish(self, runner: _Runner) -> bool:
        """Clear the runner's call; True if the runner was given up to it (and so ends)."""
        with self._lock:
            runner.current = None
            return runner.given_up


class Lane:
    """One collector's guard: at most one call going, run by a crew (its own unless given one)."""

    def __init__(self, name: str, *, crew: Crew | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self._clock = clock
        self.crew = crew or Crew(f"perfmon-collector-{name}")
        self.current: Run | None = None

    @property
    def busy(self) -> bool:
        """True while a call started here has not returned."""
        return self.current is not None and not self.current.done

    def start(self, call: Callable[[], Any]) -> Run | None:
        """Queue ``call`` in the crew; None (nothing started) while the last call still runs."""
        if self.busy:
            return None
        run = self.current = Run(time.monotonic(), self._clock())
        self.crew.submit(call, run)
        return run

    def close(self) -> None:
        """Let the crew's thread end after its calls (a hung one ends with the process)."""
        self.crew.close()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the crew's closed thread to end."""
        self.crew.join(timeout)
