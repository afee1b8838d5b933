"""The history file itself: directories and versions refused in one line, migrations, a corrupt file
moved aside, and a store killed with SIGKILL that reopens clean and catches up its roll-ups."""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from perfmon.store import sqlite_schema
from perfmon.store.base import StoreError
from perfmon.store.sqlite import SqliteStore
from tests.fakes import FakeClock
from tests.test_sqlite_store import T0, fill

ROOT = Path(__file__).resolve().parent.parent


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
    assert pragma(path, "user_version") == sqlite_schema.schema_version() == 3
    assert pragma(path, "auto_vacuum") == 2 and pragma(path, "page_size") == sqlite_schema.PAGE_SIZE
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"instances", "raw", "minute", "ten_minute", "hour", "salvages"}


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
    assert pragma(path, "user_version") == 4
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM notes").fetchall() == []
    assert "migrated from schema version 3 to 4" in caplog.text


def test_a_version_1_file_gets_ten_minute_points_from_its_minutes(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    clock = FakeClock(T0)
    store = open_store(path, clock)
    fill(store, clock, [T0 + k * 30 for k in range(50)])  # 25 minutes: 2 whole ten-minute periods
    assert store.flush()
    store.close()
    with sqlite3.connect(path) as conn:  # what version 1 wrote: no ten-minute table, no salvages
        conn.execute("DROP TABLE ten_minute")
        conn.execute("DROP TABLE salvages")
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


def test_a_database_with_damaged_pages_is_moved_aside(tmp_path: Path,
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
    store.close()
    assert len(list(tmp_path.glob("history.sqlite3.corrupt-*"))) == 1
    assert pragma(path, "integrity_check") == "ok"
    assert len(error_records(caplog)) == 1


CHILD = """
import sys
from pathlib import Path
from perfmon.store.sqlite import SqliteStore
from tests.fakes import FakeClock
from tests.test_sqlite_store import T0, fill
clock = FakeClock(T0)
store = SqliteStore(Path(sys.argv[1]), instance_id="killed", interval_seconds=1.0, history_size=100,
                    clock=clock)
fill(store, clock, [T0 + k for k in range(200)])  # 3 minutes and 20 s
assert store.flush(upkeep=False)
print("written", flush=True)
sys.stdin.read()  # until killed
"""


def test_a_store_killed_with_sigkill_reopens_clean_and_catches_up(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "written\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert pragma(path, "integrity_check") == "ok"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM raw").fetchone()[0] == 200
    clock = FakeClock(T0 + 200)
    store = open_store(path, clock, "after")
    assert store.flush()
    result = store.read_range(T0, T0 + 180, 3)  # three whole minutes, rolled up after the restart
    assert result.tier == "minute" and result.series["cpu_percent_max"] == [59.0, 99.0, 79.0]
    store.close()
