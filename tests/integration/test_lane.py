"""A lane: one call at a time in its own daemon thread; a hung call blocks nothing, not even a restart."""

from __future__ import annotations

import threading

from perfmon.sampling.lane import Lane


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
