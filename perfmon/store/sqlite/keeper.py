"""What the history writer does between commits: roll-ups into the coarser tiers, and upkeep.

Minutes are rolled up once they are finished, then ten minutes and hours whose minutes are all
there (``tiers``); every ``UPKEEP_SECONDS``, one small step each of retention, the size cap and
vacuum (``upkeep``). Used by the writer thread only (``writer``), on its connection.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from perfmon.store.base import Retention
from perfmon.store.sqlite.schema import transaction
from perfmon.store.sqlite.tiers import HOUR, LEVELS, MINUTE, TEN_MINUTE, Level, roll_up, watermark
from perfmon.store.sqlite.upkeep import TrimLog, retention_step, size_step, vacuum_step

UPKEEP_SECONDS = 5.0


class Keeper:
    """The tiers' watermarks and the upkeep's state; ``behind`` and ``trimming`` say more work waits."""

    def __init__(self, conn: sqlite3.Connection, retention: Retention, clock: Callable[[], float]) -> None:
        self.conn = conn
        self.retention = retention
        self.clock = clock
        self.done = {level.name: watermark(conn, level) for level in LEVELS}
        self.open_minute = int(clock()) // 60 * 60  # minutes before this ended with the last run
        self.behind = True  # roll-ups to catch up: work without waiting for rows
        self.trimming = False  # retention or the size cap has more to delete
        self.upkeep_at = 0.0
        self.trims = TrimLog(retention.max_bytes)

    def roll_ups(self, newest_ms: int | None, *, complete: bool) -> None:
        """Roll up finished minutes, then the hours whose minutes are all there."""
        newest = -1 if newest_ms is None else newest_ms // 60000 * 60
        behind = self.roll(MINUTE, max(self.open_minute, newest), complete)
        minutes_done = self.done[MINUTE.name]
        if minutes_done is not None:
            for level in (TEN_MINUTE, HOUR):
                behind = self.roll(level, minutes_done // level.seconds * level.seconds, complete) or behind
        self.behind = behind

    def roll(self, level: Level, target: int, complete: bool) -> bool:
        """One step of ``level`` towards ``target`` (every step if ``complete``); True if more remain."""
        done = self.done[level.name]
        if done is None:
            done = self.done[level.name] = watermark(self.conn, level)
            if done is None:
                return False
        more = done < target
        while more:
            with transaction(self.conn):
                done, more = roll_up(self.conn, level, done, target)
            self.done[level.name] = done
            if not complete:
                break
        return more

    def upkeep(self, *, complete: bool) -> None:
        """Retention, the size cap and vacuum: one step each, or until done when ``complete``."""
        retention = self.retention
        while True:
            more = retention_step(self.conn, retention, self.clock(), self.done)
            trimmed = size_step(self.conn, retention.max_bytes)
            self.trims.note(self.conn, trimmed)
            more = vacuum_step(self.conn, retention.max_bytes) or trimmed is not None or more
            if not (more and complete):
                break
        self.trimming = more
        self.upkeep_at = time.monotonic() + (0.0 if more else UPKEEP_SECONDS)
