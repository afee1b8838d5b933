"""Lanes and their crew: one call at a time per lane, the calls in one thread, a stalled call left its own."""

from __future__ import annotations

import threading
import time

from perfmon.sampling.lane import Crew, Lane


def test_a_busy_lane_starts_nothing_and_a_done_one_starts_again() -> None:
    lane, gate = Lane("x"), threading.Event()
    first = lane.start(gate.wait)
    assert first is not None and not first.wait(0.01) and lane.busy
    assert lane.start(lambda: 1) is None  # never two calls at once
    gate.set()
    assert first.wait(5) and first.duration is not None and first.duration >= 0
    again = lane.start(lambda: 2)
    assert again is not None and again.wait(5) and again.value == 2
    lane.close()
    lane.join(5)


def test_an_exception_is_kept_for_the_sampler() -> None:
    lane = Lane("x")
    run = lane.start(lambda: 1 / 0)
    assert run is not None and run.wait(5)
    assert isinstance(run.error, ZeroDivisionError) and run.value is None
    lane.close()


def test_closing_a_hung_lane_returns_and_a_new_start_gets_a_fresh_thread() -> None:
    lane, gate = Lane("x"), threading.Event()
    hung = lane.start(gate.wait)
    assert hung is not None
    lane.close()  # does not wait for the hung call
    try:
        assert lane.start(lambda: 3) is None  # still busy
        gate.set()
        assert hung.wait(5)
        fresh = lane.start(lambda: 3)
        assert fresh is not None and fresh.wait(5) and fresh.value == 3  # not lost to the closed thread
    finally:
        gate.set()
        lane.close()
        lane.join(5)


def test_a_crews_calls_run_one_after_another_in_one_thread() -> None:
    crew = Crew("test-crew")
    lanes = [Lane(str(i), crew=crew) for i in range(5)]
    for _ in range(20):
        runs = [lane.start(threading.get_ident) for lane in lanes]
        crew.wait(time.monotonic() + 5)
        assert all(run is not None and run.done for run in runs)
        assert len({run.value for run in runs if run is not None}) == 1
    assert crew.threads_made == 1
    crew.close()
    crew.join(5)


def test_a_stalled_call_keeps_its_thread_and_the_calls_behind_it_run_in_a_new_one() -> None:
    crew, gate = Crew("test-crew", stall_seconds=0.05), threading.Event()
    stuck, *others = [Lane(str(i), crew=crew) for i in range(4)]
    try:
        hung = stuck.start(lambda: gate.wait() and threading.get_ident())
        runs = [lane.start(threading.get_ident) for lane in others]
        began = time.monotonic()
        crew.wait(began + 5)
        assert all(run is not None and run.done for run in runs)
        assert time.monotonic() - began < 4  # not held until the stuck call returns
        assert hung is not None and not hung.done and stuck.busy and stuck.start(lambda: 1) is None
        for _ in range(10):  # later samples: the stuck lane starts nothing, no thread is made
            assert [lane.start(lambda: 2) is not None for lane in others] == [True] * 3
            crew.wait(time.monotonic() + 5)
        assert crew.threads_made == 2
        gate.set()
        assert hung.wait(5) and hung.value not in {run.value for run in runs if run is not None}
        again = stuck.start(threading.get_ident)  # back on the crew's current thread
        crew.wait(time.monotonic() + 5)
        assert again is not None and again.value == runs[0].value  # type: ignore[union-attr]
    finally:
        gate.set()
        crew.close()
        crew.join(5)


def test_every_queued_call_runs_exactly_once_when_the_crew_moves_past_a_stall() -> None:
    crew, calls = Crew("test-crew", stall_seconds=0.01), []
    lock = threading.Lock()

    def slow(i: int) -> int:
        time.sleep(0.02 if i % 3 == 0 else 0)  # stalls now and then, and returns
        with lock:
            calls.append(i)
        return i

    lanes = [Lane(str(i), crew=crew) for i in range(30)]
    runs = [lane.start(lambda i=i: slow(i)) for i, lane in enumerate(lanes)]
    crew.wait(time.monotonic() + 10)
    for run in runs:
        assert run is not None and run.wait(5)
    assert sorted(calls) == list(range(30)) and [run.value for run in runs if run] == list(range(30))
    assert crew.threads_made > 1  # it did move past the stalls
    crew.close()
    crew.join(5)
