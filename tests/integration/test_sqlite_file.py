"""The history file itself: directories and versions refused in one line, migrations, a damaged file
salvaged (its readable rows kept, the damaged file aside, counts in the status and the log), a file too
short to be a database replaced, and a store killed with SIGKILL that reopens clean and catches up."""

from __future__ import annotations

import errno
import logging
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from perfmon.core.schema import history_row
from perfmon.store.base import SALVAGED_SECONDS, StoreError
from perfmon.store.buckets import CORES
from perfmon.store.sqlite import schema as sqlite_schema
from perfmon.store.sqlite.codec import RAW_COLUMNS, encode_row, to_ms
from perfmon.store.sqlite.store import SqliteStore
from tests.integration.test_sqlite_store import T0, fill, sample
from tests.support.fakes import FakeClock


def open_store(path: Path, clock: FakeClock | None = None, instance_id: str = "test") -> SqliteStore:
    return SqliteStore(path, instance_id=instance_id, interval_seconds=1.0, history_size=100,
                       clock=clock or FakeClock(T0))


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_directory_that_cannot_be_made_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a directory")
    with pytest.raises(StoreError) as refused:
        open_store(tmp_path / "afile" / "history.sqlite3")
    message = str(refused.value)
    assert "\n" not in message and str(tmp_path / "afile") in message and "--data-dir" in message


def test_a_file_from_a_newer_perfmon_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError) as refused:
        open_store(path)
    message = str(refused.value)
    assert "\n" not in message and "version 99" in message
    assert f"up to {sqlite_schema.schema_version()}" in message and str(path) in message
    assert pragma(path, "user_version") == 99 and not list(tmp_path.glob("*.corrupt-*"))


def test_an_empty_version_0_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    sqlite3.connect(path).close()  # an empty file: version 0
    assert path.exists() and path.stat().st_size == 0
    open_store(path).close()
    assert pragma(path, "user_version") == sqlite_schema.schema_version() == 4
    assert pragma(path, "auto_vacuum") == 2 and pragma(path, "page_size") == sqlite_schema.PAGE_SIZE
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"instances", "raw", "minute", "ten_minute", "hour", "salvages", "series", "layouts",
                      "series_minute", "series_ten_minute", "series_hour"}


def test_an_older_file_takes_the_missing_migrations_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(T0)
    store = open_store(path, clock)
    fill(store, clock, [T0 + k for k in range(5)])
    store.close()

    def add_notes(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE notes (text TEXT)")

    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", [*sqlite_schema.MIGRATIONS, add_notes])
    caplog.set_level(logging.INFO, logger="perfmon.store")
    store = open_store(path, clock, "after")
    assert store.read_range(T0, T0 + 5, 5).series["cpu_percent"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    store.close()
    assert pragma(path, "user_version") == 5
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM notes").fetchall() == []
    assert "migrated from schema version 4 to 5" in caplog.text


def test_a_version_1_file_gets_ten_minute_points_from_its_minutes(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(T0)
    store = open_store(path, clock)
    fill(store, clock, [T0 + k * 30 for k in range(50)])  # 25 minutes: 2 whole ten-minute periods
    assert store.flush()
    store.close()
    with sqlite3.connect(path) as conn:  # what version 1 wrote: no ten-minute table, no salvages, no series
        for table in ("ten_minute", "salvages", "series", "layouts", "series_minute", "series_ten_minute",
                      "series_hour"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE raw DROP COLUMN layout")
        conn.execute("ALTER TABLE raw DROP COLUMN series")
        conn.execute("PRAGMA user_version = 1")
    store = open_store(path, clock, "after")
    assert store.flush()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT t, n, cpu_percent_min, cpu_percent_max FROM ten_minute "
                            "ORDER BY t").fetchall()
    assert rows[:2] == [(T0, 20, 0, 190), (T0 + 600, 20, 200, 390)]  # cpu k at T0 + 30 k, x10
    store.close()
    assert pragma(path, "user_version") == sqlite_schema.schema_version()


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("perfmon.store")]


def test_a_file_that_is_not_a_database_is_moved_aside_with_one_error(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"these bytes were never a database\n" * 100)
    store = open_store(path)
    fill(store, FakeClock(T0), [T0])
    assert store.flush()
    store.close()
    (aside,) = tmp_path.glob("history.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"these bytes were never")
    assert pragma(path, "integrity_check") == "ok"
    (record,) = error_records(caplog)
    assert str(path) in record.getMessage() and str(aside) in record.getMessage()


def test_a_database_whose_schema_pages_are_damaged_is_moved_aside(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(T0)
    store = open_store(path, clock)
    fill(store, clock, [T0 + k for k in range(3000)])
    assert store.flush()
    store.close()
    with path.open("r+b") as damaged:  # the header stays, the pages behind it do not
        damaged.seek(8 * sqlite_schema.PAGE_SIZE)
        damaged.write(bytes(range(256)) * (16 * sqlite_schema.PAGE_SIZE // 256))
    store = open_store(path, clock, "after")
    status = store.status()
    store.close()
    assert len(list(tmp_path.glob("history.sqlite3.corrupt-*"))) == 1  # its -wal and -shm are not kept
    assert pragma(path, "integrity_check") == "ok"
    (record,) = error_records(caplog)  # the schema itself spans pages 1 and 9-12: nothing can be found
    assert "nothing could be read" in record.getMessage()
    report = status.salvaged
    assert report is not None and report.kept_rows == 0 and not report.lost_rows_exact


# --- salvage ----------------------------------------------------------------------------------------

def bulk_database(path: Path, count: int, start: float = T0) -> list[int]:
    """A real history file of ``count`` samples a second apart from ``start``, rolled up; their keys (ms).

    One bulk insert, then a store opened after the last sample catches up the roll-ups: seconds,
    where sampling would take hours.
    """
    conn = sqlite_schema.open_database(path)
    instance = conn.execute("INSERT INTO instances (name, started_ms) VALUES ('bulk', ?)",
                            (to_ms(start),)).lastrowid or 0
    first = encode_row(history_row(sample(1, start, 0.0, memory_percent=40.0)), instance)
    cpu, cores = RAW_COLUMNS.index("cpu_percent"), RAW_COLUMNS.index(CORES)
    rows = []
    for k in range(count):  # as encode_row would store sample(k + 1, start + k, k % 100): 20 times faster
        row = list(first)
        row[0], row[2], row[cpu], row[cores] = to_ms(start + k), k + 1, k % 100 * 10, bytes([k % 100 * 2] * 2)
        rows.append(tuple(row))
    insert = f"INSERT INTO raw ({', '.join(RAW_COLUMNS)}) VALUES ({', '.join('?' * len(RAW_COLUMNS))})"
    with conn:
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
    conn.close()
    store = open_store(path, FakeClock(start + count + 120), "roll-up")
    assert store.flush()
    store.close()
    return [row[0] for row in rows]


def damage(path: Path, at: int, size: int = 200) -> bytes:
    """``size`` random bytes written over the file at offset ``at``; the damaged file's bytes."""
    with path.open("r+b") as file:
        file.seek(at)
        file.write(random.Random(at).randbytes(size))
    return path.read_bytes()


def table_keys(path: Path, table: str) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute(f"SELECT t FROM {table} ORDER BY t")]


def test_garbage_three_quarters_into_a_database_loses_only_the_rows_it_hit(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    keys = bulk_database(path, 50_000)
    minutes = table_keys(path, "minute")
    with sqlite3.connect(path) as conn:
        before = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("instances", "raw", "minute", "ten_minute", "hour"))
    # 300 bytes into the page three quarters in: cells, not the page header (the file can still count
    # its rows). Where garbage lands decides what salvage can tell: keys it rewrites vanish unseen
    at = path.stat().st_size * 3 // 4 // sqlite_schema.PAGE_SIZE * sqlite_schema.PAGE_SIZE + 300
    damaged = damage(path, at)
    clock = FakeClock(T0 + 50_000 + 300)
    store = open_store(path, clock, "after")
    status = store.status()
    report = status.salvaged
    assert status.status == "salvaged" and report is not None and abs(report.at - clock.now) < 1
    (aside,) = tmp_path.glob("history.sqlite3.corrupt-*")
    assert aside.read_bytes() == damaged and report.damaged_file == str(aside)
    assert pragma(path, "integrity_check") == "ok"
    kept = table_keys(path, "raw")
    assert len(kept) >= 49_500 and report.lost_rows == before - report.kept_rows == len(keys) - len(kept)
    assert report.lost_rows_exact
    ((last_read, first_after),) = report.lost_spans  # one place was hit: only the rows between are gone
    assert [k for k in keys if not last_read * 1000 < k < first_after * 1000] == kept
    assert table_keys(path, "minute") == minutes  # the roll-ups were not hit
    result = store.read_range(T0, T0 + 49_800, 83)  # ten-minute points: none was lost
    assert result.tier == "ten_minute" and None not in result.series["cpu_percent"]
    around = store.read_range(last_read - 30, first_after + 30, 200)  # raw samples: the lost ones are gaps
    values = dict(zip(around.series["timestamp"], around.series["cpu_percent"], strict=True))
    assert around.tier == "raw" and values[last_read] is not None and values[first_after] is not None
    assert all(values[t] is None for t in values if last_read < t < first_after)
    (record,) = error_records(caplog)
    message = record.getMessage()
    assert str(path) in message and str(aside) in message and f"kept {report.kept_rows:,} rows" in message
    assert f"raw lost {report.lost_rows:,} rows between" in message
    clock.now += SALVAGED_SECONDS  # a day on, the status is ok again; the report stays
    assert store.status().status == "ok" and store.status().salvaged == report
    store.close()
    again = open_store(path, clock, "restarted")  # kept in the file: after a restart too
    assert again.status().salvaged == report and again.status().status == "ok"
    again.close()
    assert len(error_records(caplog)) == 1


def test_rows_that_parse_but_cannot_be_true_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    keys = bulk_database(path, 5000)
    with sqlite3.connect(path) as conn:  # what a damaged cell can read as: a random key, a wrong type
        conn.execute("INSERT INTO raw (t, instance, seq) VALUES (?, 1, 1)", (2**60,))
        conn.execute("INSERT INTO raw (t, instance, seq) VALUES (-5, 1, 2)")
        conn.execute("UPDATE raw SET cpu_percent = 'garbage' WHERE t = ?", (keys[100],))
    damage(path, path.stat().st_size * 3 // 4)
    store = open_store(path, FakeClock(T0 + 6000), "after")
    report = store.status().salvaged
    store.close()
    kept = table_keys(path, "raw")
    assert kept[0] == keys[0] and kept[-1] == keys[-1] and keys[100] not in kept
    assert report is not None
    lost = len(keys) + 2 - len(kept)  # the refused ones too, when the damaged file can count its rows
    assert report.lost_rows == lost if report.lost_rows_exact else 0 < report.lost_rows <= lost


def rewrite_a_key(path: Path, page: int, cell: int, byte: int, flip: int) -> int:
    """XOR ``flip`` into byte ``byte`` of a leaf cell's rowid varint; the key it had."""
    with path.open("r+b") as file:
        file.seek((page - 1) * sqlite_schema.PAGE_SIZE)
        data = bytearray(file.read(sqlite_schema.PAGE_SIZE))
        offset = int.from_bytes(data[8 + 2 * cell: 10 + 2 * cell], "big")
        while data[offset] & 0x80:  # the payload's size
            offset += 1
        start, key = offset + 1, 0
        for value in data[start: start + 8]:
            key = key << 7 | value & 0x7F
            if not value & 0x80:
                break
        data[start + byte] ^= flip
        file.seek((page - 1) * sqlite_schema.PAGE_SIZE)
        file.write(data)
    return key


@pytest.mark.parametrize(("cell", "byte", "flip", "most_lost"), [
    (3, 0, 0x40, 25),  # a key far out of order: SQLite's range scan stopped at it (2,275 samples were lost)
    (12, 2, 0x01, 1),  # 18.6 hours later: a time the file could hold (it was copied there, a phantom)
])
def test_a_damaged_key_loses_at_most_its_page_and_makes_no_phantom(
        tmp_path: Path, cell: int, byte: int, flip: int, most_lost: int) -> None:
    path = tmp_path / "history.sqlite3"
    keys = bulk_database(path, 20_000)
    with sqlite3.connect(path) as conn:
        leaves = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = 'raw' AND "
                                                 "pagetype = 'leaf' ORDER BY pageno")]
    damaged = rewrite_a_key(path, leaves[len(leaves) // 2], cell, byte, flip)
    open_store(path, FakeClock(T0 + 30_000), "after").close()
    kept = set(table_keys(path, "raw"))
    lost = [k for k in keys if k not in kept]
    assert damaged in lost and len(lost) <= most_lost
    assert kept <= set(keys)  # no sample at a time it was not taken


def test_a_leaf_whose_header_is_damaged_is_counted_from_the_sample_numbers(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    keys = bulk_database(path, 20_000)
    with sqlite3.connect(path) as conn:  # a leaf of raw in the middle: its header says how many cells
        leaves = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = 'raw' AND "
                                                 "pagetype = 'leaf' ORDER BY pageno")]
    damage(path, (leaves[len(leaves) // 2] - 1) * sqlite_schema.PAGE_SIZE, 8)
    store = open_store(path, FakeClock(T0 + 30_000), "after")
    report = store.status().salvaged
    store.close()
    kept = table_keys(path, "raw")
    assert report is not None and not report.lost_rows_exact  # count(*) cannot read that leaf either
    assert 0 < report.lost_rows == len(keys) - len(kept) < 100  # yet the sample numbers tell exactly


def test_minute_points_lost_between_kept_ones_are_made_again_from_raw_samples(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    bulk_database(path, 20_000)
    with sqlite3.connect(path) as conn:
        minutes = conn.execute("SELECT * FROM minute ORDER BY t").fetchall()
        leaves = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = 'minute' AND "
                                                 "pagetype = 'leaf' ORDER BY pageno")]
    damage(path, (leaves[len(leaves) // 2] - 1) * sqlite_schema.PAGE_SIZE, sqlite_schema.PAGE_SIZE)
    open_store(path, FakeClock(T0 + 30_000), "after").close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM minute ORDER BY t").fetchall() == minutes  # the same points
    (record,) = error_records(caplog)
    assert "minute lost" in record.getMessage() and "minute points made again" in record.getMessage()


def test_a_salvage_keeps_the_rows_of_a_write_ahead_log_left_by_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    keys = bulk_database(path, 20_000)
    crashed = tmp_path / "crashed"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")  # the new rows stay in the -wal, as after a kill -9
    conn.executemany("INSERT INTO raw (t, instance, seq) VALUES (?, 1, ?)",
                     [(keys[-1] + 1000 * k, 20_000 + k) for k in range(1, 11)])
    shutil.copy(path, crashed)
    shutil.copy(f"{path}-wal", f"{crashed}-wal")
    conn.close()
    damage(crashed, crashed.stat().st_size // 2)
    store = open_store(crashed, FakeClock(T0 + 30_000), "after")
    store.close()
    kept = table_keys(crashed, "raw")
    assert kept[-10:] == [keys[-1] + 1000 * k for k in range(1, 11)] and len(kept) > 19_000
    (aside,) = tmp_path.glob("crashed.corrupt-*-wal")  # the damaged file's -wal is kept with it
    assert aside.stat().st_size > 0


@pytest.mark.parametrize("length", [24, 40, 60, 99])
def test_a_file_too_short_to_be_a_database_is_moved_aside_and_a_new_one_started(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, length: int) -> None:
    path = tmp_path / "history.sqlite3"
    bulk_database(path, 10)
    path.write_bytes(path.read_bytes()[:length])  # a file cut short: it starts with the SQLite header
    store = open_store(path, FakeClock(T0 + 100), "after")
    fill(store, FakeClock(T0 + 100), [T0 + 100])
    assert store.flush() and store.status().status == "ok"
    store.close()
    (aside,) = tmp_path.glob("history.sqlite3.corrupt-*")
    assert len(aside.read_bytes()) == length and pragma(path, "integrity_check") == "ok"
    (record,) = error_records(caplog)
    message = record.getMessage()
    assert str(path) in message and f"{length} bytes" in message and "new, empty one" in message
    assert "make that directory writable" not in caplog.text


def test_the_writable_hint_is_given_only_for_a_permission_error(tmp_path: Path) -> None:
    """"make that directory writable" only for a permission error, not for corruption or I/O errors."""
    path = tmp_path / "history.sqlite3"
    sqlite3.connect(path).close()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn, pytest.raises(sqlite3.Error) as read_only:
        conn.execute("CREATE TABLE t (x)")  # a real SQLITE_READONLY
    assert "make that directory writable" in str(sqlite_schema.unusable(tmp_path, read_only.value))
    denied = OSError(errno.EACCES, "Permission denied")
    assert "make that directory writable" in str(sqlite_schema.unusable(tmp_path, denied))
    with pytest.raises(sqlite3.Error) as broken:
        sqlite3.connect(":memory:").execute("SELECT * FROM nowhere")
    for other in (broken.value, OSError(errno.ENOTDIR, "Not a directory"), OSError(errno.EIO, "I/O error")):
        message = str(sqlite_schema.unusable(tmp_path, other))
        assert "make that directory writable" not in message and "--data-dir" in message
        assert "\n" not in message


def test_damage_met_while_running_serves_memory_and_says_damaged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    bulk_database(path, 20_000)
    clock = FakeClock(T0 + 20_100)
    store = open_store(path, clock, "running")
    fill(store, clock, [T0 + 20_100 + k for k in range(5)])
    assert store.flush()
    size = path.stat().st_size
    for at in range(size // 4, size * 3 // 4, 64 * sqlite_schema.PAGE_SIZE):
        damage(path, at, 2 * sqlite_schema.PAGE_SIZE)  # every reader that reaches these pages fails
    result = store.read_range(T0 + 8000, T0 + 12_000, 4000)  # raw rows: a new reader reads damaged pages
    status = store.status()
    assert status.status == "damaged" and status.error is not None and "restart" in status.error
    assert result.tier == "raw" and set(result.series["cpu_percent"]) == {None}  # none is made up
    assert store.read_range(T0 + 20_100, T0 + 20_105, 5).series["cpu_percent"] == [0, 1, 2, 3, 4]  # the ring
    assert [row[0] for row in store.read(None, 3).rows] == [3, 4, 5]
    (record,) = error_records(caplog)
    assert "damaged" in record.getMessage() and "restart" in record.getMessage()
    store.close()
    again = open_store(path, clock, "restarted")
    assert again.status().status == "salvaged"
    again.close()




