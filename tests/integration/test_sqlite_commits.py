"""When the history store writes (perfmon/store/sqlite_writer.py): a sample waits for the commit
interval with the ones after it, reads answer it from the ring meanwhile, the interval's deadline
writes it without any flush, and closing writes what waits (a SIGTERM loses nothing)."""

from __future__ import annotations

import sqlite3
import time

from perfmon.store.sqlite.store import SqliteStore
from tests.conftest import STORE_T0 as T0
from tests.integration.test_sqlite_store import MakeStore, fill
from tests.support.fakes import FakeClock
from tests.support.processes import wait_for


def stored(store: SqliteStore) -> int:
    with sqlite3.connect(store.path) as conn:
        return int(conn.execute("SELECT count(*) FROM raw").fetchone()[0])


def test_samples_wait_for_the_commit_interval_and_reads_answer_them_from_the_ring(
        make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store(commit_seconds=300)
    fill(store, clock, [T0 + k for k in range(20)])
    wait_for(lambda: store.write_stats().accepted == 20, "20 samples taken by the writer")
    assert stored(store) == 0 and store.write_stats().commits == 0  # nothing written before the deadline
    assert [row[0] for row in store.read(0, 100).rows] == list(range(1, 21))
    result = store.read_range(T0, T0 + 20, 20)
    assert result.tier == "raw" and result.series["cpu_percent"] == [float(k) for k in range(20)]
    store.close()  # as on SIGTERM: everything waiting is written
    assert stored(store) == 20


def test_samples_over_less_than_the_interval_are_written_in_one_commit_by_its_deadline(
        make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store(commit_seconds=4)
    began = time.monotonic()
    fill(store, clock, [T0 + k for k in range(5)])
    wait_for(lambda: time.monotonic() > began + 1.5, "1.5 s to pass")  # longer than the old 1 s commits
    assert stored(store) == 0
    fill(store, clock, [T0 + k for k in range(5, 10)], first_seq=6)
    wait_for(lambda: stored(store) == 10, "10 samples written by the deadline, without a flush")
    assert store.write_stats().commits == 1
