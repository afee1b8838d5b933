"""Retention of each tier, the size cap (the file really shrinks, and says what it dropped in one INFO
line) and a full disk, on real SQLite files."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from perfmon.store.base import Retention, Tier
from perfmon.store.sqlite import upkeep as sqlite_upkeep
from perfmon.store.sqlite.schema import open_database
from perfmon.store.sqlite.store import SqliteStore
from tests.integration.test_sqlite_store import T0, fill, sample
from tests.support.fakes import FakeClock

HOUR, DAY = 3600, 86400
MakeStore = Callable[..., SqliteStore]


def oldest(path: Path) -> dict[str, float | None]:
    """The oldest point of each tier, in seconds."""
    with sqlite3.connect(path) as conn:
        raw, minute, hour = (conn.execute(f"SELECT min(t) FROM {t}").fetchone()[0]
                             for t in ("raw", "minute", "hour"))
    return {"raw": None if raw is None else raw / 1000, "minute": minute, "hour": hour}


def test_each_tier_keeps_its_own_span(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store(retention=Retention(raw_seconds=600, minute_seconds=3 * HOUR, hour_seconds=2 * DAY))
    fill(store, clock, [T0 + 30 * k for k in range(3 * DAY // 30)])
    assert store.flush()
    now = clock.now
    kept = oldest(store.path)
    assert kept["raw"] is not None and now - 600 <= kept["raw"] <= now - 570
    assert kept["minute"] is not None and now - 3 * HOUR <= kept["minute"] < now - 3 * HOUR + 60
    assert kept["hour"] is not None and now - 2 * DAY <= kept["hour"] < now - 2 * DAY + HOUR
    assert store.status().oldest_timestamp == kept["hour"]
    cpu = store.read_range(T0, T0 + 3 * DAY, 72).series["cpu_percent"]  # the hour tier
    assert all(v is None for v in cpu[:23]) and all(v is not None for v in cpu[25:])


def test_retention_deletes_in_small_steps_and_keeps_what_is_not_rolled_up(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "h.sqlite3")
    conn.executemany("INSERT INTO raw (t, instance, seq) VALUES (?, 1, ?)",
                     [(int(T0 * 1000) + k * 1000, k) for k in range(12_000)])
    retention, now = Retention(raw_seconds=10), T0 + 20_000
    nothing_done: dict[Tier, int | None] = {"minute": None, "ten_minute": None, "hour": None}
    steps = [sqlite_upkeep.retention_step(conn, retention, now, nothing_done) for _ in range(3)]
    assert steps == [True, True, False]  # 5,000, 5,000, then the last 2,000
    assert conn.execute("SELECT count(*) FROM raw").fetchone()[0] == 0
    conn.executemany("INSERT INTO raw (t, instance, seq) VALUES (?, 1, ?)",
                     [(int(T0 * 1000) + k * 1000, k) for k in range(100)])
    sqlite_upkeep.retention_step(conn, retention, now, {**nothing_done, "minute": int(T0) + 60})
    assert conn.execute("SELECT min(t), count(*) FROM raw").fetchone() == (int(T0 + 60) * 1000, 40)
    conn.close()


def add_samples(store: SqliteStore, clock: FakeClock, first: int, count: int) -> None:
    for seq in range(first, first + count):
        clock.now = T0 + seq
        store.append(sample(seq, clock.now, seq % 1000 / 10, [seq * k % 101 for k in range(8)],
                            memory_percent=50.0, disk_write_bytes_per_s=seq * 37.0))
    assert store.flush()


def file_size(store: SqliteStore) -> int:
    store.close()  # the last connection checkpoints the WAL into the file and removes it
    return store.path.stat().st_size


def test_the_size_cap_trims_raw_first_and_shrinks_the_file(make_store: MakeStore, clock: FakeClock) -> None:
    first = make_store()
    add_samples(first, clock, 1, 20_000)
    before_size, before = file_size(first), oldest(first.path)
    cap = before_size // 3
    capped = make_store("capped", retention=Retention(max_bytes=cap))
    add_samples(capped, clock, 20_001, 60)
    after = oldest(capped.path)
    size = file_size(capped)
    assert size <= cap < before_size  # the file itself is smaller, not just emptier
    assert after["raw"] is not None and before["raw"] is not None and after["raw"] > before["raw"] + 10_000
    assert after["minute"] == before["minute"] and after["hour"] == before["hour"]  # raw goes first
    with sqlite3.connect(capped.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


CAP = 29 * 1024


def test_a_tiny_cap_empties_raw_then_trims_minutes_and_keeps_hours_longest(
        make_store: MakeStore, clock: FakeClock) -> None:
    first = make_store()
    add_samples(first, clock, 1, 3 * HOUR)
    first.close()
    # 24 KiB of data, plus the 5 pages of the per-series tables (schema 4) that an empty file has
    capped = make_store("capped", retention=Retention(max_bytes=CAP))
    assert capped.flush()
    kept = oldest(capped.path)
    with sqlite3.connect(capped.path) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("raw", "minute", "hour")]
    assert counts[0] == 0 and 0 < counts[1] < 3 * 60 and counts[2] == 3
    assert kept["hour"] == T0 and kept["minute"] is not None and kept["minute"] > T0
    assert file_size(capped) <= CAP


def test_a_full_disk_degrades_the_store_keeps_serving_and_recovers(
        make_store: MakeStore, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="perfmon.store")
    store = make_store(pragmas={"max_page_count": 48}, retention=Retention(raw_seconds=HOUR))
    seq = 0
    for _ in range(40):  # the file holds about 700 rows: it is full long before 4,000
        fill(store, clock, [T0 + seq + k for k in range(100)], first_seq=seq + 1)
        seq += 100
        if not store.flush():
            break
    status = store.status()
    assert status.status == "degraded" and status.error is not None and "full" in status.error
    fill(store, clock, [T0 + seq + k for k in range(100)], first_seq=seq + 1)  # append never raises
    seq += 100
    cached = store.read_cached(seq - 5, 10)
    assert cached is not None and [row[0] for row in cached.rows] == list(range(seq - 4, seq + 1))
    assert store.read_range(T0, T0 + seq, 10).series["cpu_percent"][-1] is not None
    clock.advance(2 * HOUR)  # retention may now drop the first hour: room for the backlog
    fill(store, clock, [clock.now], first_seq=seq + 1)
    assert any(store.flush() for _ in range(3))
    assert store.status().status == "ok" and store.status().error is None
    assert [row[0] for row in store.read(seq - 1, 10).rows] == [seq, seq + 1]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "full" in r.getMessage()]
    assert len(warnings) == 1 and any("resumed" in r.getMessage() for r in caplog.records)
    path = store.path
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT max(seq) FROM raw").fetchone()[0] == seq + 1


def test_trimming_to_the_cap_at_start_is_told_in_one_info_line(
        tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    conn = open_database(path)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO raw (t, instance, seq, cpu_percent) VALUES (?, 1, ?, 1)",
                     [(int(T0 * 1000) + k * 1000, k + 1) for k in range(40_000)])
    conn.execute("COMMIT")
    conn.close()
    caplog.set_level(logging.INFO, logger="perfmon.store")
    clock.now = T0 + 40_000
    store = SqliteStore(path, instance_id="capped", interval_seconds=1.0, history_size=10, clock=clock,
                        retention=Retention(max_bytes=512 * 1024))
    assert store.flush()
    store.close()
    with sqlite3.connect(path) as conn:
        kept, first = conn.execute("SELECT count(*), min(t) FROM raw").fetchone()
    (line,) = [r.getMessage() for r in caplog.records if "max-db-size" in r.getMessage()]
    first_kept = datetime.fromtimestamp(first / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert line == (f"history database: dropped {40_000 - kept:,} raw samples older than {first_kept} UTC "
                    f"to keep the database under 512 KiB (--max-db-size)")
    assert [r.levelname for r in caplog.records if "max-db-size" in r.getMessage()] == ["INFO"]


def test_a_trim_is_told_at_most_once_an_hour_with_what_was_dropped_since(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    conn = open_database(tmp_path / "h.sqlite3")
    conn.executemany("INSERT INTO raw (t, instance, seq) VALUES (?, 1, ?)",
                     [(int(T0 * 1000) + k * 1000, k) for k in range(100)])
    now = FakeClock(0.0)
    told = sqlite_upkeep.TrimLog(1 << 30, clock=now)
    caplog.set_level(logging.INFO, logger="perfmon.store")
    for at, step in [(0, ("raw", 5)), (0, None), (10, ("raw", 2)), (10, None), (3599, ("minute", 1)),
                     (3599, None), (3600, None), (3601, None)]:
        now.now = at
        told.note(conn, step)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[0].startswith("history database: dropped 5 raw samples older than")
    assert "dropped 2 raw samples" in lines[1] and "dropped 1 minute points (all of them)" in lines[1]
    conn.close()
