"""The connection table (perfmon/core/connections.py): its marks, its count, which connections are shed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from perfmon.core.connections import MAX_BUSY_SKIPPED, Connections, OpenConnections, high_water_mark


@dataclass(eq=False)
class Fake:
    """A connection that records being shed."""

    name: str
    busy: bool = False
    shed_calls: int = 0

    def is_idle(self) -> bool:
        return not self.busy

    def shed(self) -> None:
        self.shed_calls += 1


@dataclass(eq=False)
class Waker:
    """A table that records being asked to shed."""

    woken: list[str] = field(default_factory=list)

    def wake(self) -> None:
        self.woken.append("woken")


def table_of(high_water: int, *conns: Fake) -> tuple[Connections, list[tuple[int, int]]]:
    """A table over its own count with ``conns`` opened, and what its on_shed was told."""
    told: list[tuple[int, int]] = []
    table = Connections(OpenConnections(high_water), on_shed=lambda closed, left: told.append((closed, left)))
    for conn in conns:
        table.opened(conn)
    return table, told


def test_the_high_water_mark_leaves_an_eighth_of_the_limit_or_64() -> None:
    assert high_water_mark(0) == high_water_mark(-1) == 1 << 30  # unknown or unlimited
    assert high_water_mark(1) == 1 and high_water_mark(65) == 1 and high_water_mark(66) == 2
    assert high_water_mark(512) == 448 and high_water_mark(520) == 455 and high_water_mark(1024) == 896


def test_the_low_mark_is_a_sixteenth_below_the_high_one_and_never_negative() -> None:
    assert [OpenConnections(h).low_water for h in (0, 1, 2, 16, 31, 32, 100)] == [0, 0, 1, 15, 30, 30, 94]
    total = OpenConnections(16)
    assert (total.high_water, total.count) == (16, 0)
    assert total.add(3) == 3 and total.add(-1) == 2 and total.count == 2


def test_other_tables_are_asked_to_shed_but_not_the_asking_one() -> None:
    total = OpenConnections(4)
    asking, other, third = Waker(), Waker(), Waker()
    total.tables.update([asking, other, third])  # type: ignore[list-item]
    total.ask_others(asking)  # type: ignore[arg-type]
    assert (asking.woken, other.woken, third.woken) == ([], ["woken"], ["woken"])
    table = Connections(total)
    assert table in total.tables and len(table) == 0 and table.on_shed is None


def test_at_the_mark_nothing_is_shed_and_over_it_down_to_the_low_mark() -> None:
    conns = [Fake(str(i)) for i in range(17)]
    table, told = table_of(16, *conns[:16])
    assert told == [] and len(table) == 16 and table.total.count == 16
    table.opened(conns[16])
    assert told == [(2, 15)] and [c.name for c in conns if c.shed_calls] == ["0", "1"]
    assert len(table) == table.total.count == 15 and conns[16].shed_calls == 0


def test_a_request_makes_a_connection_the_last_to_go() -> None:
    conns = [Fake(str(i)) for i in range(4)]
    table, _ = table_of(100, *conns)
    table.active(conns[0])
    table.active(Fake("unknown"))  # not in the table: nothing
    assert table.shed(2) == 2 and [c.name for c in conns if c.shed_calls] == ["1", "2"]
    assert table.shed(5) == 2 and all(c.shed_calls == 1 for c in conns)  # only what there is
    assert len(table) == 0 and table.total.count == 0


def test_a_closed_connection_is_forgotten_once() -> None:
    one, two = Fake("1"), Fake("2")
    table, _ = table_of(100, one, two)
    table.closed(one)
    table.closed(one)  # already gone: the count stays
    table.closed(Fake("never opened"))
    assert len(table) == 1 and table.total.count == 1


def test_busy_connections_and_the_kept_one_are_passed_over() -> None:
    busy, keep, idle = Fake("busy", busy=True), Fake("keep"), Fake("idle")
    table, told = table_of(100, busy, keep, idle)
    assert table.shed(3, keep=keep) == 1 and idle.shed_calls == 1 and told == [(1, 2)]
    assert table.shed(3, keep=keep) == 0 and told == [(1, 2)]  # nothing closed: on_shed is not told
    assert len(table) == 2 and busy.shed_calls == keep.shed_calls == 0


def test_at_most_64_busy_connections_are_passed_over_per_shedding() -> None:
    assert MAX_BUSY_SKIPPED == 64
    near = [Fake(f"b{i}", busy=True) for i in range(63)]
    table, _ = table_of(1000, *near, Fake("idle"))
    assert table.shed(1) == 1
    far = [Fake(f"b{i}", busy=True) for i in range(64)]
    table, _ = table_of(1000, *far, Fake("idle"))
    assert table.shed(1) == 0
    assert Connections(OpenConnections(10)).shed(1) == 0  # nothing to look at


def test_shedding_asks_the_others_only_when_this_server_cannot_shed_enough() -> None:
    total = OpenConnections(2)  # low mark 1
    other = Waker()
    total.tables.add(other)  # type: ignore[arg-type]
    table = Connections(total)
    one, two = Fake("1", busy=True), Fake("2")
    table.opened(one)
    table.opened(two)
    assert other.woken == []  # at the mark
    table.shed_excess(ask=True)  # the count is at 2, the low mark 1: one to shed, and it can
    assert two.shed_calls == 1 and other.woken == []
    table.opened(Fake("3", busy=True))
    table.shed_excess()  # cannot, and does not ask
    assert other.woken == []
    table.opened(Fake("4", busy=True))  # 3 > 2: cannot shed, asks
    assert other.woken == ["woken"] and total.count == 3
    total.add(-2)
    table.shed_excess(ask=True)  # at the low mark: nothing wanted
    assert other.woken == ["woken"]


def test_a_table_outside_a_loop_cannot_be_woken() -> None:
    table, told = table_of(1, Fake("1"), Fake("2"))
    told.clear()
    table.total.add(5)
    table.wake()
    assert told == []


async def test_a_table_is_woken_through_its_server_s_loop() -> None:
    one, two, three = Fake("1"), Fake("2"), Fake("3")
    total = OpenConnections(100)
    table = Connections(total)
    for conn in (one, two, three):
        table.opened(conn)
    total.high_water, total.low_water = 2, 1
    table.wake()
    assert one.shed_calls == 0  # not yet: on the loop's next turn
    await asyncio.sleep(0)
    assert [c.shed_calls for c in (one, two, three)] == [1, 1, 0] and total.count == 1


def test_a_table_whose_loop_is_closed_is_not_woken() -> None:
    loop = asyncio.new_event_loop()
    conns = [Fake("1"), Fake("2")]
    table = Connections(OpenConnections(100))

    async def open_all() -> None:
        for conn in conns:
            table.opened(conn)

    loop.run_until_complete(open_all())
    loop.close()
    table.total.low_water = 0
    table.wake()
    assert [c.shed_calls for c in conns] == [0, 0]


@dataclass(eq=False)
class FakeLoop:
    """A server's loop as the table sees it: records what is scheduled; ``closing`` raises as a closed one."""

    closing: bool = False
    scheduled: list[object] = field(default_factory=list)

    def is_closed(self) -> bool:
        return False

    def call_soon_threadsafe(self, callback: object) -> None:
        if self.closing:
            raise RuntimeError("Event loop is closed")
        self.scheduled.append(callback)


def test_the_mark_is_a_whole_number() -> None:
    assert all(isinstance(high_water_mark(limit), int) for limit in (1000, 1024, 4099))


def test_the_connection_just_accepted_is_never_shed_even_when_it_is_the_only_idle_one() -> None:
    first, second, newcomer = Fake("1", busy=True), Fake("2", busy=True), Fake("new")
    table, told = table_of(2, first, second)
    table.opened(newcomer)
    assert newcomer.shed_calls == 0 and told == [] and table.total.count == 3
    table.shed_excess(keep=newcomer)
    assert newcomer.shed_calls == 0


def test_a_server_that_cannot_shed_asks_the_others_not_itself() -> None:
    total = OpenConnections(1)
    other = Waker()
    total.tables.add(other)  # type: ignore[arg-type]
    table = Connections(total)
    loop = FakeLoop()
    table._loop = loop  # type: ignore[assignment]
    table.opened(Fake("1", busy=True))
    table.opened(Fake("2", busy=True))
    assert other.woken == ["woken"] and loop.scheduled == []
    table.wake()
    assert loop.scheduled == [table.shed_excess]


def test_a_loop_closed_meanwhile_is_not_an_error() -> None:
    table = Connections(OpenConnections(10))
    loop = FakeLoop(closing=True)
    table._loop = loop  # type: ignore[assignment]
    table.wake()  # raises nothing
    assert loop.scheduled == []
