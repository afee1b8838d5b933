"""Grouping across a few seconds, on a settable clock: the engine's transitions routed, queued with
their channel's group_wait, and delivered by the dispatcher from either outbox (memory, SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perfmon.alerts.engine import Engine
from perfmon.alerts.model import AlertsFile
from perfmon.alerts.notify.dispatcher import Dispatcher
from perfmon.alerts.notify.group import grouped, joins, queued
from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.outbox import MemoryOutbox, Outbox
from perfmon.alerts.notify.route import route
from perfmon.alerts.notify.webhook import SendError
from perfmon.alerts.rules import parse
from perfmon.store.sqlite.alert_state import AlertStateFile
from tests.support.fakes import FakeClock

T0 = 1_800_000_000.0
FILE = """\
builtin_rules: false
rules:
  - {name: Full, select: disks.percent, above: 90, severity: critical}
channels:
  ops: {type: webhook, url: "https://hooks.example/ops"}
  pager: {type: ntfy, url: "https://ntfy.example/p", severities: [critical]}
  now: {type: webhook, url: "https://hooks.example/now", group_wait: 0}
"""


class Crash(BaseException):
    """The process dies during a send (kill -9): nothing after it runs."""


class Channel:
    """A sender that keeps what it is given; fails, or crashes, while told to."""

    def __init__(self) -> None:
        self.got: list[Notification] = []
        self.failing = 0
        self.crashing = False

    async def send(self, notification: Notification) -> None:
        if self.crashing:
            self.crashing = False
            raise Crash
        if self.failing:
            self.failing -= 1
            raise SendError("503")
        self.got.append(notification)


async def inline(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


class Host:
    """One perfmon: the engine fed samples at the clock's time, and its deliveries to ``channels``."""

    def __init__(self, outbox: Outbox, channels: tuple[str, ...], text: str = FILE) -> None:
        self.alerts: AlertsFile = parse(text, "r.yml")
        self.engine = Engine(self.alerts.rules)
        self.clock = FakeClock(T0)
        self.outbox = outbox
        self.channels = {name: Channel() for name in channels}
        self.dispatcher = Dispatcher(outbox, self.channels, inline, clock=self.clock)

    def sample(self, at: float, **disks: float) -> None:
        """Evaluate a sample of ``disks`` (name: percent) at T0 + ``at``, its notifications queued."""
        self.clock.now = T0 + at
        rows = [{"mountpoint": f"/{name}", "device": name, "fstype": "ext4", "percent": v}
                for name, v in disks.items()]
        now = self.clock.now
        made = route(self.engine.evaluate({"disks": rows}, now), self.alerts, now, "db1")
        queue = [queued(n, self.alerts.channels[n.channel].group_wait_seconds) for n in made
                 if n.channel in self.channels]
        if isinstance(self.outbox, MemoryOutbox):
            self.outbox.add(queue)
        else:
            assert isinstance(self.outbox, AlertStateFile)
            self.outbox.save(None, [], 0.0, queue)

    async def at(self, at: float) -> None:
        """Let the dispatcher deliver what is due at T0 + ``at``."""
        self.clock.now = T0 + at
        await self.dispatcher.deliver_due()

    def told(self, channel: str) -> list[tuple[str, list[str]]]:
        return [(n.kind, [a["labels"]["mountpoint"] for a in n.alerts]) for n in self.channels[channel].got]


@pytest.fixture(params=["memory", "sqlite"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    if request.param == "memory":
        yield MemoryOutbox()
        return
    file = AlertStateFile(tmp_path)
    yield file
    file.close()


async def test_three_firings_0_4_s_apart_within_the_window_are_one_message(outbox: Outbox) -> None:
    host = Host(outbox, ("ops",))
    host.sample(0.0, a=95, b=10, c=10)
    host.sample(0.4, a=95, b=95, c=10)
    host.sample(0.8, a=95, b=95, c=95)
    await host.at(0.99)
    assert host.told("ops") == []  # the first waits its second for the others
    await host.at(1.0)
    assert host.told("ops") == [("firing", ["/a", "/b", "/c"])]
    (sent,) = host.channels["ops"].got
    assert (sent.created, sent.title().endswith("(and 2 more)")) == (T0, True)
    assert sent.id == Notification.of("ops", "firing", T0, "db1", sent.alerts).id  # made from what it tells
    assert outbox.next_due() is None


async def test_a_firing_beyond_the_window_is_a_second_message(outbox: Outbox) -> None:
    host = Host(outbox, ("ops",))
    host.sample(0.0, a=95, b=10, c=10)
    host.sample(0.4, a=95, b=95, c=10)
    await host.at(1.0)
    assert host.told("ops") == [("firing", ["/a", "/b"])]
    host.sample(1.2, a=95, b=95, c=95)
    assert outbox.next_due() == pytest.approx(T0 + 2.2)
    await host.at(2.19)
    assert len(host.told("ops")) == 1
    await host.at(2.2)
    assert host.told("ops") == [("firing", ["/a", "/b"]), ("firing", ["/c"])]


async def test_with_group_wait_0_each_sample_is_its_message_sent_at_once(outbox: Outbox) -> None:
    host = Host(outbox, ("now",))
    host.sample(0.0, a=95, b=95, c=10)
    await host.at(0.0)
    assert host.told("now") == [("firing", ["/a", "/b"])]  # the sample's alerts together, as before
    host.sample(0.4, a=95, b=95, c=95, d=95)
    host.sample(0.8, a=10, b=95, c=95, d=95)
    await host.at(0.8)  # two samples' notifications waited together: still two messages and a resolution
    assert host.told("now") == [("firing", ["/a", "/b"]), ("firing", ["/c", "/d"]), ("resolved", ["/a"])]


async def test_a_firing_and_a_resolution_are_never_one_message(outbox: Outbox) -> None:
    host = Host(outbox, ("ops",))
    host.sample(0.0, a=95, b=95)
    host.sample(0.4, a=10, b=95)
    host.sample(0.6, a=10, b=10)
    await host.at(1.6)  # all three due together
    assert host.told("ops") == [("firing", ["/a", "/b"]), ("resolved", ["/a", "/b"])]


async def test_a_retried_notification_keeps_its_id_and_takes_no_one_in(outbox: Outbox) -> None:
    host = Host(outbox, ("ops",))
    host.channels["ops"].failing = 1
    host.sample(0.0, a=95, b=10)
    await host.at(1.0)  # fails: tried again 5 s later
    assert host.told("ops") == [] and outbox.next_due() == pytest.approx(T0 + 6.0)
    first = outbox.due(T0 + 6.0, 10)[0][0]["id"]
    host.sample(5.0, a=95, b=95)  # a new firing, due at 6 s too
    await host.at(6.0)
    assert host.told("ops") == [("firing", ["/a"]), ("firing", ["/b"])]
    assert host.channels["ops"].got[0].id == first


async def test_one_an_older_perfmon_tried_and_never_grouped_keeps_its_id_too(outbox: Outbox) -> None:
    host = Host(outbox, ("ops",))
    host.sample(0.0, a=95, b=10)
    ((row, _),) = outbox.due(T0 + 1.0, 10)
    outbox.retry(row["id"], T0 + 6.0, 1)  # how an outbox of before the grouping holds a failed one
    host.sample(5.5, a=95, b=95)  # waiting (due at 6.5) when the old one is tried again
    await host.at(6.0)
    await host.at(6.5)
    assert host.told("ops") == [("firing", ["/a"]), ("firing", ["/b"])]
    assert host.channels["ops"].got[0].id == row["id"]


async def test_each_channel_has_its_own_message(outbox: Outbox) -> None:
    host = Host(outbox, ("ops", "pager"))
    host.sample(0.0, a=95, b=10)
    host.sample(0.4, a=95, b=95)
    await host.at(1.0)
    assert host.told("ops") == host.told("pager") == [("firing", ["/a", "/b"])]
    assert [n.channel for c in ("ops", "pager") for n in host.channels[c].got] == ["ops", "pager"]
    assert host.channels["ops"].got[0].id != host.channels["pager"].got[0].id


async def test_a_crash_during_the_send_sends_the_same_message_again_with_nothing_joined(
        outbox: Outbox, tmp_path: Path) -> None:
    host = Host(outbox, ("ops",))
    host.sample(0.0, a=95, b=10, c=10)
    host.sample(0.4, a=95, b=95, c=10)
    host.channels["ops"].crashing = True
    with pytest.raises(Crash):
        await host.at(1.0)  # grouped, kept so in the outbox, and the process died sending it
    if isinstance(outbox, AlertStateFile):
        outbox.close()
        outbox = AlertStateFile(tmp_path)  # the next process
    again = Host(outbox, ("ops",))
    again.engine = host.engine
    again.sample(1.5, a=95, b=95, c=95)  # a firing after the restart, waiting when the grouped one goes
    await again.at(1.5)
    await again.at(2.5)
    assert again.told("ops") == [("firing", ["/a", "/b"]), ("firing", ["/c"])]
    grouped_id = Notification.of("ops", "firing", T0, "db1", again.channels["ops"].got[0].alerts).id
    assert again.channels["ops"].got[0].id == grouped_id
    if isinstance(outbox, AlertStateFile):
        outbox.close()


def test_only_what_was_never_grouped_of_one_channel_kind_and_host_joins() -> None:
    first = queued(Notification.of("ops", "firing", T0, "db1", [{"id": "A", "at": T0}]), 1.0)
    assert joins(first, first)
    for other in ({**first, "channel": "pager"}, {**first, "kind": "resolved"}, {**first, "host": "db2"},
                  {**first, "settled": True}, {**first, "kind": "test"}):
        assert not joins(other, first)
    assert not joins(queued(Notification.of("ops", "firing", T0, "db1", []), 0.0), first)  # group_wait 0
    later = Notification.of("ops", "firing", T0 + 0.5, "db1", [{"id": "B", "at": T0 + 0.5}]).to_row()
    assert [a["id"] for a in grouped([later, first]).alerts] == ["A", "B"]  # in the order they were made
    assert grouped([first]).id == first["id"]
