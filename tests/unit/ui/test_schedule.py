"""TickPlanner against fake clocks: ticks just after samples, whatever the clocks; fallbacks."""

from __future__ import annotations

import pytest

from perfmon.ui.source.planner import HOLD_SLACK_SECONDS, MIN_DELAY_SECONDS, Plan, TickPlanner, early
from tests.support.fakes import FakeClock

API_T0 = 1_795_640_000.0  # the API's wall clock at its first sample


def published(planner: TickPlanner, mono: FakeClock, timestamp: float, delay: float = 0.002,
              instance: str = "a") -> None:
    """A sample taken at ``timestamp`` arrives ``delay`` after it (a long-poll woken at publish)."""
    planner.observe(instance, timestamp, received=mono() + delay)


def test_without_an_estimate_a_tab_polls_on_the_plain_interval() -> None:
    planner = TickPlanner(5.0, monotonic=FakeClock(100.0))
    plan = planner.plan("a", API_T0, 1.0)
    assert (plan.delay, plan.aligned) == (5.0, False)


@pytest.mark.parametrize("poll", [5.0, 1.0, 0.5, 0.25])
def test_the_tick_comes_just_after_a_sample_is_due_at_whole_intervals(poll: float) -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(poll, monotonic=mono)
    published(planner, mono, API_T0)  # the API published sample t0 at mono 100.002
    mono.advance(0.3)  # the view goes out a little later
    plan = planner.plan("a", API_T0, 1.0)
    step = max(1, round(poll / 1.0))  # whole sampling intervals, at least one
    assert plan.aligned
    assert plan.delay == pytest.approx(100.002 + step - early(1.0) - 100.3)


def test_the_api_clock_being_a_day_off_changes_nothing() -> None:
    for skew in (0.0, 86_400.0, -86_400.0, 1e9):
        mono = FakeClock(100.0)
        planner = TickPlanner(1.0, monotonic=mono)
        published(planner, mono, API_T0 + skew)
        mono.advance(0.5)
        assert planner.plan("a", API_T0 + skew, 1.0).delay == pytest.approx(0.502 - early(1.0))


def test_the_least_delayed_answer_sets_the_phase() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    planner.observe("a", API_T0, received=100.7)  # an answer that waited 0.7 s in the API's cache
    planner.observe("a", API_T0 + 1, received=101.01)  # a long-poll woken as the sample was published
    planner.observe("a", API_T0 + 2, received=102.4)
    assert planner.offset == pytest.approx(101.01 - (API_T0 + 1))
    mono.advance(2.5)  # now 102.5
    assert planner.plan("a", API_T0 + 2, 1.0).delay == pytest.approx(103.01 - early(1.0) - 102.5)


def test_a_tab_behind_by_a_sample_ticks_at_the_next_one_due() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    published(planner, mono, API_T0)
    mono.advance(1.5)  # the tab still shows t0, and t0 + 1 is already out: the next due is t0 + 2
    plan = planner.plan("a", API_T0, 1.0)
    assert plan.aligned and plan.delay == pytest.approx(100.002 + 2 - early(1.0) - 101.5)
    assert plan.delay >= MIN_DELAY_SECONDS


def test_a_late_or_missing_sample_falls_back_to_the_plain_interval() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    published(planner, mono, API_T0)
    mono.advance(3.0)  # two samples should have followed, and none came: the sampler is stuck
    plan = planner.plan("a", API_T0, 1.0)
    assert (plan.delay, plan.aligned) == (1.0, False)  # neither stalls nor floods


def test_a_restarted_api_is_learnt_afresh() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    published(planner, mono, API_T0)
    assert planner.plan("b", API_T0 + 50, 1.0).aligned is False  # another instance: nothing known
    published(planner, mono, API_T0 + 50.4, instance="b")  # its sampler runs at another phase
    assert planner.offset == pytest.approx(100.002 - (API_T0 + 50.4))
    assert planner.plan("a", API_T0, 1.0).aligned is False  # the old instance is forgotten


@pytest.mark.parametrize("interval", [None, 0.0, -1.0])
def test_no_usable_interval_means_the_plain_interval(interval: float | None) -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(2.0, monotonic=mono)
    published(planner, mono, API_T0)
    assert planner.plan("a", API_T0, interval).delay == 2.0


def test_early_ticks_are_held_until_the_sample_is_published_and_teach_the_true_phase() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    planner.observe("a", API_T0, received=100.6)  # the first answer came 0.6 s after publication
    for second in range(1, 8):  # each tick: aimed early, held if the sample is not out yet
        fire = planner.plan("a", API_T0 + second - 1, 1.0).delay
        mono.advance(fire)
        published_at = 100.0 + second
        hold = planner.hold("a", API_T0 + second - 1, 1.0) if mono() < published_at else None
        if hold is not None:
            assert mono() + hold >= published_at  # held long enough to get it
            mono.advance(published_at - mono())
        planner.observe("a", API_T0 + second, received=max(mono(), published_at))
        mono.advance(max(0.0, published_at - mono()) + 0.01)
    assert planner.offset == pytest.approx(100.0 - API_T0)  # the true phase, learnt
    assert planner.plan("a", API_T0 + 7, 1.0).delay == pytest.approx(108.0 - early(1.0) - mono())


def test_no_hold_when_the_next_sample_is_not_due_soon_or_unknown() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    assert planner.hold("a", API_T0, 1.0) is None  # nothing known yet
    published(planner, mono, API_T0)
    assert planner.hold("a", API_T0, 1.0) is None  # the next is a second away: a plain tick
    mono.advance(0.9)
    assert planner.hold("a", API_T0, 1.0) == pytest.approx(0.102 + HOLD_SLACK_SECONDS)
    mono.advance(2.0)
    assert planner.hold("a", API_T0, 1.0) is None  # long overdue: the sampler is late, do not wait


def test_samples_further_apart_than_the_poll_keep_the_poll_until_one_is_due_within_it() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(5.0, monotonic=mono)  # polling every 5 s, sampling every minute
    published(planner, mono, API_T0)
    plan = planner.plan("a", API_T0, 60.0)
    assert (plan.delay, plan.aligned) == (5.0, False)  # the badge and the processes stay fresh
    mono.advance(54.0)  # the next sample is due in about 6 s: the tick comes just before it
    plan = planner.plan("a", API_T0, 60.0)
    assert plan.aligned and plan.delay == pytest.approx(160.002 - early(60.0) - 154.0)


def test_the_phase_is_known_once_a_held_read_was_answered_at_a_publication_of_this_instance() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    assert planner.knows_phase("a") is False
    planner.observe("a", API_T0, received=100.5)
    assert planner.knows_phase("a") is False  # an answer, not a wake-up
    planner.observe("a", API_T0 + 1, received=101.01, woken=True)
    planner.observe("a", API_T0 + 2, received=102.5)
    assert planner.knows_phase("a") is True and planner.knows_phase("b") is False  # kept until a restart
    planner.observe("b", API_T0 + 3, received=103.5)
    assert planner.knows_phase("b") is False and planner.knows_phase("a") is False


def test_an_answer_received_now_is_timed_by_the_monotonic_clock() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(1.0, monotonic=mono)
    assert planner.offset is None
    planner.observe("a", 40.0)
    assert planner.offset == 60.0


def test_the_offset_is_the_least_of_the_last_32_answers() -> None:
    planner = TickPlanner(1.0, monotonic=FakeClock(100.0))
    planner.observe("a", 0.0, received=10.0)
    for i in range(31):
        planner.observe("a", float(i), received=i + 12.0)
    assert planner.offset == 10.0
    planner.observe("a", 31.0, received=43.0)  # the 33rd: the first ages out
    assert planner.offset == 12.0


def test_a_plan_or_a_hold_for_another_instance_is_the_plain_interval() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(0.25, monotonic=mono)
    planner.observe("a", 0.0, received=100.0)
    assert planner.plan("b", 0.0, 0.25) == Plan(0.25, aligned=False)
    assert planner.hold("b", 0.0, 0.25) is None
    assert planner.plan("a", 0.0, 0.25) == Plan(0.1875, aligned=True)  # 0.25 - early 0.0625
    mono.advance(0.125)  # the next sample is due in 0.125 s: "a" would be held, "b" is not
    assert planner.hold("a", 0.0, 0.25) == 0.125 + HOLD_SLACK_SECONDS and planner.hold("b", 0.0, 0.25) is None


def test_the_plan_s_bounds_late_and_far() -> None:
    mono = FakeClock(0.0)
    planner = TickPlanner(0.25, monotonic=mono)  # early(0.25) is 0.0625: due = 0.1875 - now
    planner.observe("a", 0.0, received=0.0)
    mono.now = 0.4375  # due exactly one interval ago: not yet late, the next one is due
    assert planner.plan("a", 0.0, 0.25) == Plan(0.25, aligned=True)
    mono.now = 0.5
    assert planner.plan("a", 0.0, 0.25) == Plan(0.25, aligned=False)
    mono.now = -0.8125  # due in exactly 1 s, the floor of the stretch: still aligned
    assert planner.plan("a", 0.0, 0.25) == Plan(1.0, aligned=True)
    mono.now = -0.875
    assert planner.plan("a", 0.0, 0.25) == Plan(0.25, aligned=False)


def test_the_hold_s_bounds() -> None:
    mono = FakeClock(0.0)
    planner = TickPlanner(0.25, monotonic=mono)  # due = 0.25 - now
    planner.observe("a", 0.0, received=0.0)
    mono.now = 0.5  # the next sample was due an interval ago: too late to hold
    assert planner.hold("a", 0.0, 0.25) is None
    mono.now = 0.0375  # due in exactly early + slack (0.2125): held
    assert planner.hold("a", 0.0, 0.25) == 0.2125 + HOLD_SLACK_SECONDS
    mono.now = 0.25
    assert planner.hold("a", 0.0, 0.25) == HOLD_SLACK_SECONDS
    mono.now = -0.1  # due in 0.1 s, were there an interval
    assert planner.hold("a", 0.0, 0.0) is None  # no interval: nothing to wait for


def test_a_tick_aims_a_tenth_of_a_second_early_at_most_a_quarter_interval() -> None:
    assert early(1.0) == 0.1 and early(0.4) == 0.1 and early(0.2) == 0.05 and early(0.25) == 0.0625


def test_a_tick_expects_the_sample_due_next_counted_in_whole_intervals_from_the_newest_seen() -> None:
    mono = FakeClock(100.0)
    planner = TickPlanner(5.0, monotonic=mono)
    assert planner.expect("a", 7, API_T0, 1.0) is None  # no phase yet: a plain read
    published(planner, mono, API_T0)  # seq 7, visible at 100.002
    mono.advance(4.952)  # a tick aimed 0.05 s before the fifth sample after it is due
    assert planner.expect("a", 7, API_T0, 1.0) == (11, pytest.approx(0.05 + HOLD_SLACK_SECONDS))
    mono.advance(0.1)  # just after it was due: it is there, a plain read gets it at once
    assert planner.expect("a", 7, API_T0, 1.0) is None
    assert planner.expect("b", 7, API_T0, 1.0) is None  # another instance: its phase is unknown


def test_the_expectation_s_bounds() -> None:
    mono = FakeClock(0.0)
    planner = TickPlanner(1.0, monotonic=mono)
    planner.observe("a", 0.0, received=0.0)
    mono.now = 0.75  # due in early + slack (0.25) exactly: held
    assert planner.expect("a", 3, 0.0, 1.0) == (3, pytest.approx(0.25 + HOLD_SLACK_SECONDS))
    mono.now = 0.7499  # a hair further: not soon enough to hold
    assert planner.expect("a", 3, 0.0, 1.0) is None
    mono.now = 2.0  # the second sample after it is due this instant: the one after that is expected
    assert planner.expect("a", 3, 0.0, 1.0) is None
    mono.now = -0.5  # a clock that went back: counted from the sample seen
    assert planner.expect("a", 3, 0.0, 1.0) is None
    assert planner.expect("a", 3, 0.0, 0.0) is None  # no interval: nothing to count
