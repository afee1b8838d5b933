"""Open connections against the open-files limit: near it, the longest-idle ones are closed first.

Every connection holds a file descriptor. Timeouts close idle and slow connections after some
seconds, but a flood opens thousands a second; once the process is out of descriptors, accept()
fails and a real client waits in the listen backlog (before this, 20,000 idle connections stopped
both servers). So each server keeps its connections in order of their last request, and when the
process holds more than a high-water mark derived from ``RLIMIT_NOFILE``, the server that just
accepted one closes its longest-idle connections (none with a request in progress) down to a low
mark: the attacker's idle sockets go, a client that has just connected and sent its request stays.

``OpenConnections`` is the process-wide count (both servers of the launcher share it, from their
own threads); ``Connections`` is one server's table, used from its own event loop only. A server
that cannot shed enough (its connections are busy, or the flood is on the other port) asks the
other to, through its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

RESERVE_FRACTION = 8  # 1/8 of the limit is left for everything else (the database, logs, clients)
MIN_RESERVE = 64
SHED_FRACTION = 16  # shedding goes 1/16 of the mark below it, so a flood does not shed at every accept
MAX_BUSY_SKIPPED = 64  # busy connections passed over per shedding: bounded work when all are busy


class Connection(Protocol):
    """What the table needs of a server's connection."""

    def is_idle(self) -> bool:
        """No request in progress (a partial request head counts as idle)."""
        ...

    def shed(self) -> None:
        """Close it now (the table has already forgotten it)."""
        ...


def high_water_mark(open_files_limit: int) -> int:
    """The connections a process may hold before idle ones are shed, for a soft RLIMIT_NOFILE."""
    if open_files_limit <= 0:  # unknown or unlimited
        return 1 << 30
    return max(1, open_files_limit - max(MIN_RESERVE, open_files_limit // RESERVE_FRACTION))


class OpenConnections:
    """The count of every server's connections in this process (thread-safe), and their tables."""

    def __init__(self, high_water: int) -> None:
        self.high_water = high_water
        self.low_water = max(0, high_water - max(1, high_water // SHED_FRACTION))
        self.count = 0
        self._lock = threading.Lock()
        self.tables: weakref.WeakSet[Connections] = weakref.WeakSet()  # a stopped server's goes with it

    def add(self, change: int) -> int:
        """Change the count; returns the new one."""
        with self._lock:
            self.count += change
            return self.count

    def ask_others(self, asking: Connections) -> None:
        """Ask every other server to shed too (an attack on one port shows as new connections on another)."""
        for table in list(self.tables):
            if table is not asking:
                table.wake()


class Connections:
    """One server's connections, least recently active first; shedding closes from the front.

    Used from the server's event loop only; other threads reach it through ``wake()``.
    """

    def __init__(self, total: OpenConnections, on_shed: Callable[[int, int], None] | None = None) -> None:
        self.total = total
        self.on_shed = on_shed  # (connections closed, connections still open in the process)
        self._open: OrderedDict[Connection, None] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None  # the server's, known at its first connection
        total.tables.add(self)

    def __len__(self) -> int:
        return len(self._open)

    def opened(self, connection: Connection) -> None:
        """A new connection; over the high-water mark, the longest-idle ones are closed (not this one)."""
        if self._loop is None:
            with contextlib.suppress(RuntimeError):  # not in a loop: a test's table
                self._loop = asyncio.get_running_loop()
        self._open[connection] = None
        if self.total.add(1) > self.total.high_water:
            self.shed_excess(keep=connection, ask=True)

    def active(self, connection: Connection) -> None:
        """A request came on ``connection``: it is the most recently active now."""
        if connection in self._open:
            self._open.move_to_end(connection)

    def closed(self, connection: Connection) -> None:
        """The connection is gone (a no-op for one already shed)."""
        if connection in self._open:
            del self._open[connection]
            self.total.add(-1)

    def wake(self) -> None:
        """From any thread: shed this server's idle connections if the process is still over the mark."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(self.shed_excess)

    def shed_excess(self, keep: Connection | None = None, ask: bool = False) -> None:
        """Shed down to the low mark; what this server cannot shed, the others are asked to (``ask``)."""
        wanted = self.total.count - self.total.low_water
        if wanted > 0 and self.shed(wanted, keep) < wanted and ask:
            self.total.ask_others(self)

    def shed(self, wanted: int, keep: Connection | None = None) -> int:
        """Close up to ``wanted`` idle connections but ``keep``, longest idle first; returns how many."""
        closed, skipped = 0, 0
        while closed < wanted and skipped < min(MAX_BUSY_SKIPPED, len(self._open)):
            connection = next(iter(self._open))
            if connection is keep or not connection.is_idle():  # a request in progress is never cut off
                self._open.move_to_end(connection)
                skipped += 1
                continue
            del self._open[connection]
            self.total.add(-1)
            connection.shed()
            closed += 1
        if closed and self.on_shed is not None:
            self.on_shed(closed, self.total.count)
        return closed
